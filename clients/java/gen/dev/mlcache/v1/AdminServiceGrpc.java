package dev.mlcache.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Operates the cache: policies changed at run time reach every instance without a restart.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class AdminServiceGrpc {

  private AdminServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "mlcache.v1.AdminService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.GetPolicyRequest,
      dev.mlcache.v1.GetPolicyResponse> getGetPolicyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "GetPolicy",
      requestType = dev.mlcache.v1.GetPolicyRequest.class,
      responseType = dev.mlcache.v1.GetPolicyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.GetPolicyRequest,
      dev.mlcache.v1.GetPolicyResponse> getGetPolicyMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.GetPolicyRequest, dev.mlcache.v1.GetPolicyResponse> getGetPolicyMethod;
    if ((getGetPolicyMethod = AdminServiceGrpc.getGetPolicyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getGetPolicyMethod = AdminServiceGrpc.getGetPolicyMethod) == null) {
          AdminServiceGrpc.getGetPolicyMethod = getGetPolicyMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.GetPolicyRequest, dev.mlcache.v1.GetPolicyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "GetPolicy"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.GetPolicyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.GetPolicyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("GetPolicy"))
              .build();
        }
      }
    }
    return getGetPolicyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.UpdatePolicyRequest,
      dev.mlcache.v1.UpdatePolicyResponse> getUpdatePolicyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "UpdatePolicy",
      requestType = dev.mlcache.v1.UpdatePolicyRequest.class,
      responseType = dev.mlcache.v1.UpdatePolicyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.UpdatePolicyRequest,
      dev.mlcache.v1.UpdatePolicyResponse> getUpdatePolicyMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.UpdatePolicyRequest, dev.mlcache.v1.UpdatePolicyResponse> getUpdatePolicyMethod;
    if ((getUpdatePolicyMethod = AdminServiceGrpc.getUpdatePolicyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getUpdatePolicyMethod = AdminServiceGrpc.getUpdatePolicyMethod) == null) {
          AdminServiceGrpc.getUpdatePolicyMethod = getUpdatePolicyMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.UpdatePolicyRequest, dev.mlcache.v1.UpdatePolicyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "UpdatePolicy"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.UpdatePolicyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.UpdatePolicyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("UpdatePolicy"))
              .build();
        }
      }
    }
    return getUpdatePolicyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.ResetPolicyRequest,
      dev.mlcache.v1.ResetPolicyResponse> getResetPolicyMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ResetPolicy",
      requestType = dev.mlcache.v1.ResetPolicyRequest.class,
      responseType = dev.mlcache.v1.ResetPolicyResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.ResetPolicyRequest,
      dev.mlcache.v1.ResetPolicyResponse> getResetPolicyMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.ResetPolicyRequest, dev.mlcache.v1.ResetPolicyResponse> getResetPolicyMethod;
    if ((getResetPolicyMethod = AdminServiceGrpc.getResetPolicyMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getResetPolicyMethod = AdminServiceGrpc.getResetPolicyMethod) == null) {
          AdminServiceGrpc.getResetPolicyMethod = getResetPolicyMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.ResetPolicyRequest, dev.mlcache.v1.ResetPolicyResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ResetPolicy"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ResetPolicyRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ResetPolicyResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ResetPolicy"))
              .build();
        }
      }
    }
    return getResetPolicyMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.ListNamespacesRequest,
      dev.mlcache.v1.ListNamespacesResponse> getListNamespacesMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ListNamespaces",
      requestType = dev.mlcache.v1.ListNamespacesRequest.class,
      responseType = dev.mlcache.v1.ListNamespacesResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.ListNamespacesRequest,
      dev.mlcache.v1.ListNamespacesResponse> getListNamespacesMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.ListNamespacesRequest, dev.mlcache.v1.ListNamespacesResponse> getListNamespacesMethod;
    if ((getListNamespacesMethod = AdminServiceGrpc.getListNamespacesMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getListNamespacesMethod = AdminServiceGrpc.getListNamespacesMethod) == null) {
          AdminServiceGrpc.getListNamespacesMethod = getListNamespacesMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.ListNamespacesRequest, dev.mlcache.v1.ListNamespacesResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ListNamespaces"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ListNamespacesRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ListNamespacesResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ListNamespaces"))
              .build();
        }
      }
    }
    return getListNamespacesMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.ExportStatsRequest,
      dev.mlcache.v1.ExportStatsResponse> getExportStatsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "ExportStats",
      requestType = dev.mlcache.v1.ExportStatsRequest.class,
      responseType = dev.mlcache.v1.ExportStatsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.ExportStatsRequest,
      dev.mlcache.v1.ExportStatsResponse> getExportStatsMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.ExportStatsRequest, dev.mlcache.v1.ExportStatsResponse> getExportStatsMethod;
    if ((getExportStatsMethod = AdminServiceGrpc.getExportStatsMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getExportStatsMethod = AdminServiceGrpc.getExportStatsMethod) == null) {
          AdminServiceGrpc.getExportStatsMethod = getExportStatsMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.ExportStatsRequest, dev.mlcache.v1.ExportStatsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "ExportStats"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ExportStatsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.ExportStatsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("ExportStats"))
              .build();
        }
      }
    }
    return getExportStatsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.AdjustTtlRequest,
      dev.mlcache.v1.AdjustTtlResponse> getAdjustTtlMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "AdjustTtl",
      requestType = dev.mlcache.v1.AdjustTtlRequest.class,
      responseType = dev.mlcache.v1.AdjustTtlResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.AdjustTtlRequest,
      dev.mlcache.v1.AdjustTtlResponse> getAdjustTtlMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.AdjustTtlRequest, dev.mlcache.v1.AdjustTtlResponse> getAdjustTtlMethod;
    if ((getAdjustTtlMethod = AdminServiceGrpc.getAdjustTtlMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getAdjustTtlMethod = AdminServiceGrpc.getAdjustTtlMethod) == null) {
          AdminServiceGrpc.getAdjustTtlMethod = getAdjustTtlMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.AdjustTtlRequest, dev.mlcache.v1.AdjustTtlResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "AdjustTtl"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.AdjustTtlRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.AdjustTtlResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("AdjustTtl"))
              .build();
        }
      }
    }
    return getAdjustTtlMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.AdviseRequest,
      dev.mlcache.v1.AdviseResponse> getAdviseMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Advise",
      requestType = dev.mlcache.v1.AdviseRequest.class,
      responseType = dev.mlcache.v1.AdviseResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.AdviseRequest,
      dev.mlcache.v1.AdviseResponse> getAdviseMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.AdviseRequest, dev.mlcache.v1.AdviseResponse> getAdviseMethod;
    if ((getAdviseMethod = AdminServiceGrpc.getAdviseMethod) == null) {
      synchronized (AdminServiceGrpc.class) {
        if ((getAdviseMethod = AdminServiceGrpc.getAdviseMethod) == null) {
          AdminServiceGrpc.getAdviseMethod = getAdviseMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.AdviseRequest, dev.mlcache.v1.AdviseResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Advise"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.AdviseRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.AdviseResponse.getDefaultInstance()))
              .setSchemaDescriptor(new AdminServiceMethodDescriptorSupplier("Advise"))
              .build();
        }
      }
    }
    return getAdviseMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static AdminServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceStub>() {
        @java.lang.Override
        public AdminServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceStub(channel, callOptions);
        }
      };
    return AdminServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static AdminServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingV2Stub>() {
        @java.lang.Override
        public AdminServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return AdminServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static AdminServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceBlockingStub>() {
        @java.lang.Override
        public AdminServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceBlockingStub(channel, callOptions);
        }
      };
    return AdminServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static AdminServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<AdminServiceFutureStub>() {
        @java.lang.Override
        public AdminServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new AdminServiceFutureStub(channel, callOptions);
        }
      };
    return AdminServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public interface AsyncService {

    /**
     */
    default void getPolicy(dev.mlcache.v1.GetPolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.GetPolicyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetPolicyMethod(), responseObserver);
    }

    /**
     * <pre>
     * Replaces the fields named by update_mask (all fields when it is empty).
     * </pre>
     */
    default void updatePolicy(dev.mlcache.v1.UpdatePolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.UpdatePolicyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getUpdatePolicyMethod(), responseObserver);
    }

    /**
     * <pre>
     * Returns a namespace to the configured defaults.
     * </pre>
     */
    default void resetPolicy(dev.mlcache.v1.ResetPolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ResetPolicyResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getResetPolicyMethod(), responseObserver);
    }

    /**
     */
    default void listNamespaces(dev.mlcache.v1.ListNamespacesRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ListNamespacesResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getListNamespacesMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams the raw counters (access counts, refresh counts, per-key latency) as NDJSON.
     * </pre>
     */
    default void exportStats(dev.mlcache.v1.ExportStatsRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ExportStatsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getExportStatsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Sets how long keys live from now on, in one layer or every layer, on every instance (the
     * change travels on the invalidations topic like an invalidation does).
     * </pre>
     */
    default void adjustTtl(dev.mlcache.v1.AdjustTtlRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.AdjustTtlResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAdjustTtlMethod(), responseObserver);
    }

    /**
     * <pre>
     * The usage patterns of a namespace's sampled keys, the TTL advice per key family and the key
     * rules that advice would add; with apply, puts those rules in force (revert takes them out).
     * </pre>
     */
    default void advise(dev.mlcache.v1.AdviseRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.AdviseResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getAdviseMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service AdminService.
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public static abstract class AdminServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return AdminServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service AdminService.
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public static final class AdminServiceStub
      extends io.grpc.stub.AbstractAsyncStub<AdminServiceStub> {
    private AdminServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceStub(channel, callOptions);
    }

    /**
     */
    public void getPolicy(dev.mlcache.v1.GetPolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.GetPolicyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetPolicyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Replaces the fields named by update_mask (all fields when it is empty).
     * </pre>
     */
    public void updatePolicy(dev.mlcache.v1.UpdatePolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.UpdatePolicyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getUpdatePolicyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Returns a namespace to the configured defaults.
     * </pre>
     */
    public void resetPolicy(dev.mlcache.v1.ResetPolicyRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ResetPolicyResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getResetPolicyMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     */
    public void listNamespaces(dev.mlcache.v1.ListNamespacesRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ListNamespacesResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getListNamespacesMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams the raw counters (access counts, refresh counts, per-key latency) as NDJSON.
     * </pre>
     */
    public void exportStats(dev.mlcache.v1.ExportStatsRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.ExportStatsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getExportStatsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Sets how long keys live from now on, in one layer or every layer, on every instance (the
     * change travels on the invalidations topic like an invalidation does).
     * </pre>
     */
    public void adjustTtl(dev.mlcache.v1.AdjustTtlRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.AdjustTtlResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAdjustTtlMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * The usage patterns of a namespace's sampled keys, the TTL advice per key family and the key
     * rules that advice would add; with apply, puts those rules in force (revert takes them out).
     * </pre>
     */
    public void advise(dev.mlcache.v1.AdviseRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.AdviseResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getAdviseMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service AdminService.
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public static final class AdminServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingV2Stub> {
    private AdminServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     */
    public dev.mlcache.v1.GetPolicyResponse getPolicy(dev.mlcache.v1.GetPolicyRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetPolicyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces the fields named by update_mask (all fields when it is empty).
     * </pre>
     */
    public dev.mlcache.v1.UpdatePolicyResponse updatePolicy(dev.mlcache.v1.UpdatePolicyRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getUpdatePolicyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a namespace to the configured defaults.
     * </pre>
     */
    public dev.mlcache.v1.ResetPolicyResponse resetPolicy(dev.mlcache.v1.ResetPolicyRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getResetPolicyMethod(), getCallOptions(), request);
    }

    /**
     */
    public dev.mlcache.v1.ListNamespacesResponse listNamespaces(dev.mlcache.v1.ListNamespacesRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getListNamespacesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the raw counters (access counts, refresh counts, per-key latency) as NDJSON.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.mlcache.v1.ExportStatsResponse>
        exportStats(dev.mlcache.v1.ExportStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getExportStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets how long keys live from now on, in one layer or every layer, on every instance (the
     * change travels on the invalidations topic like an invalidation does).
     * </pre>
     */
    public dev.mlcache.v1.AdjustTtlResponse adjustTtl(dev.mlcache.v1.AdjustTtlRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAdjustTtlMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The usage patterns of a namespace's sampled keys, the TTL advice per key family and the key
     * rules that advice would add; with apply, puts those rules in force (revert takes them out).
     * </pre>
     */
    public dev.mlcache.v1.AdviseResponse advise(dev.mlcache.v1.AdviseRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getAdviseMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service AdminService.
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public static final class AdminServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<AdminServiceBlockingStub> {
    private AdminServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceBlockingStub(channel, callOptions);
    }

    /**
     */
    public dev.mlcache.v1.GetPolicyResponse getPolicy(dev.mlcache.v1.GetPolicyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetPolicyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Replaces the fields named by update_mask (all fields when it is empty).
     * </pre>
     */
    public dev.mlcache.v1.UpdatePolicyResponse updatePolicy(dev.mlcache.v1.UpdatePolicyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getUpdatePolicyMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Returns a namespace to the configured defaults.
     * </pre>
     */
    public dev.mlcache.v1.ResetPolicyResponse resetPolicy(dev.mlcache.v1.ResetPolicyRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getResetPolicyMethod(), getCallOptions(), request);
    }

    /**
     */
    public dev.mlcache.v1.ListNamespacesResponse listNamespaces(dev.mlcache.v1.ListNamespacesRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getListNamespacesMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams the raw counters (access counts, refresh counts, per-key latency) as NDJSON.
     * </pre>
     */
    public java.util.Iterator<dev.mlcache.v1.ExportStatsResponse> exportStats(
        dev.mlcache.v1.ExportStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getExportStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Sets how long keys live from now on, in one layer or every layer, on every instance (the
     * change travels on the invalidations topic like an invalidation does).
     * </pre>
     */
    public dev.mlcache.v1.AdjustTtlResponse adjustTtl(dev.mlcache.v1.AdjustTtlRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAdjustTtlMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * The usage patterns of a namespace's sampled keys, the TTL advice per key family and the key
     * rules that advice would add; with apply, puts those rules in force (revert takes them out).
     * </pre>
     */
    public dev.mlcache.v1.AdviseResponse advise(dev.mlcache.v1.AdviseRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getAdviseMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service AdminService.
   * <pre>
   * Operates the cache: policies changed at run time reach every instance without a restart.
   * </pre>
   */
  public static final class AdminServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<AdminServiceFutureStub> {
    private AdminServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected AdminServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new AdminServiceFutureStub(channel, callOptions);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.GetPolicyResponse> getPolicy(
        dev.mlcache.v1.GetPolicyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetPolicyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Replaces the fields named by update_mask (all fields when it is empty).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.UpdatePolicyResponse> updatePolicy(
        dev.mlcache.v1.UpdatePolicyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getUpdatePolicyMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Returns a namespace to the configured defaults.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.ResetPolicyResponse> resetPolicy(
        dev.mlcache.v1.ResetPolicyRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getResetPolicyMethod(), getCallOptions()), request);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.ListNamespacesResponse> listNamespaces(
        dev.mlcache.v1.ListNamespacesRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getListNamespacesMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Sets how long keys live from now on, in one layer or every layer, on every instance (the
     * change travels on the invalidations topic like an invalidation does).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.AdjustTtlResponse> adjustTtl(
        dev.mlcache.v1.AdjustTtlRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAdjustTtlMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * The usage patterns of a namespace's sampled keys, the TTL advice per key family and the key
     * rules that advice would add; with apply, puts those rules in force (revert takes them out).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.AdviseResponse> advise(
        dev.mlcache.v1.AdviseRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getAdviseMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET_POLICY = 0;
  private static final int METHODID_UPDATE_POLICY = 1;
  private static final int METHODID_RESET_POLICY = 2;
  private static final int METHODID_LIST_NAMESPACES = 3;
  private static final int METHODID_EXPORT_STATS = 4;
  private static final int METHODID_ADJUST_TTL = 5;
  private static final int METHODID_ADVISE = 6;

  private static final class MethodHandlers<Req, Resp> implements
      io.grpc.stub.ServerCalls.UnaryMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ServerStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.ClientStreamingMethod<Req, Resp>,
      io.grpc.stub.ServerCalls.BidiStreamingMethod<Req, Resp> {
    private final AsyncService serviceImpl;
    private final int methodId;

    MethodHandlers(AsyncService serviceImpl, int methodId) {
      this.serviceImpl = serviceImpl;
      this.methodId = methodId;
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public void invoke(Req request, io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        case METHODID_GET_POLICY:
          serviceImpl.getPolicy((dev.mlcache.v1.GetPolicyRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.GetPolicyResponse>) responseObserver);
          break;
        case METHODID_UPDATE_POLICY:
          serviceImpl.updatePolicy((dev.mlcache.v1.UpdatePolicyRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.UpdatePolicyResponse>) responseObserver);
          break;
        case METHODID_RESET_POLICY:
          serviceImpl.resetPolicy((dev.mlcache.v1.ResetPolicyRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.ResetPolicyResponse>) responseObserver);
          break;
        case METHODID_LIST_NAMESPACES:
          serviceImpl.listNamespaces((dev.mlcache.v1.ListNamespacesRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.ListNamespacesResponse>) responseObserver);
          break;
        case METHODID_EXPORT_STATS:
          serviceImpl.exportStats((dev.mlcache.v1.ExportStatsRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.ExportStatsResponse>) responseObserver);
          break;
        case METHODID_ADJUST_TTL:
          serviceImpl.adjustTtl((dev.mlcache.v1.AdjustTtlRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.AdjustTtlResponse>) responseObserver);
          break;
        case METHODID_ADVISE:
          serviceImpl.advise((dev.mlcache.v1.AdviseRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.AdviseResponse>) responseObserver);
          break;
        default:
          throw new AssertionError();
      }
    }

    @java.lang.Override
    @java.lang.SuppressWarnings("unchecked")
    public io.grpc.stub.StreamObserver<Req> invoke(
        io.grpc.stub.StreamObserver<Resp> responseObserver) {
      switch (methodId) {
        default:
          throw new AssertionError();
      }
    }
  }

  public static final io.grpc.ServerServiceDefinition bindService(AsyncService service) {
    return io.grpc.ServerServiceDefinition.builder(getServiceDescriptor())
        .addMethod(
          getGetPolicyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.GetPolicyRequest,
              dev.mlcache.v1.GetPolicyResponse>(
                service, METHODID_GET_POLICY)))
        .addMethod(
          getUpdatePolicyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.UpdatePolicyRequest,
              dev.mlcache.v1.UpdatePolicyResponse>(
                service, METHODID_UPDATE_POLICY)))
        .addMethod(
          getResetPolicyMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.ResetPolicyRequest,
              dev.mlcache.v1.ResetPolicyResponse>(
                service, METHODID_RESET_POLICY)))
        .addMethod(
          getListNamespacesMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.ListNamespacesRequest,
              dev.mlcache.v1.ListNamespacesResponse>(
                service, METHODID_LIST_NAMESPACES)))
        .addMethod(
          getExportStatsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.mlcache.v1.ExportStatsRequest,
              dev.mlcache.v1.ExportStatsResponse>(
                service, METHODID_EXPORT_STATS)))
        .addMethod(
          getAdjustTtlMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.AdjustTtlRequest,
              dev.mlcache.v1.AdjustTtlResponse>(
                service, METHODID_ADJUST_TTL)))
        .addMethod(
          getAdviseMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.AdviseRequest,
              dev.mlcache.v1.AdviseResponse>(
                service, METHODID_ADVISE)))
        .build();
  }

  private static abstract class AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    AdminServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.mlcache.v1.Admin.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("AdminService");
    }
  }

  private static final class AdminServiceFileDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier {
    AdminServiceFileDescriptorSupplier() {}
  }

  private static final class AdminServiceMethodDescriptorSupplier
      extends AdminServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    AdminServiceMethodDescriptorSupplier(java.lang.String methodName) {
      this.methodName = methodName;
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.MethodDescriptor getMethodDescriptor() {
      return getServiceDescriptor().findMethodByName(methodName);
    }
  }

  private static volatile io.grpc.ServiceDescriptor serviceDescriptor;

  public static io.grpc.ServiceDescriptor getServiceDescriptor() {
    io.grpc.ServiceDescriptor result = serviceDescriptor;
    if (result == null) {
      synchronized (AdminServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new AdminServiceFileDescriptorSupplier())
              .addMethod(getGetPolicyMethod())
              .addMethod(getUpdatePolicyMethod())
              .addMethod(getResetPolicyMethod())
              .addMethod(getListNamespacesMethod())
              .addMethod(getExportStatsMethod())
              .addMethod(getAdjustTtlMethod())
              .addMethod(getAdviseMethod())
              .build();
        }
      }
    }
    return result;
  }
}

package dev.mlcache.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * Implemented by an origin team, in any language, so the cache can read through to the
 * system of record on a miss and write through to it.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class LoaderServiceGrpc {

  private LoaderServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "mlcache.v1.LoaderService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.LoadRequest,
      dev.mlcache.v1.LoadResponse> getLoadMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Load",
      requestType = dev.mlcache.v1.LoadRequest.class,
      responseType = dev.mlcache.v1.LoadResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.LoadRequest,
      dev.mlcache.v1.LoadResponse> getLoadMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.LoadRequest, dev.mlcache.v1.LoadResponse> getLoadMethod;
    if ((getLoadMethod = LoaderServiceGrpc.getLoadMethod) == null) {
      synchronized (LoaderServiceGrpc.class) {
        if ((getLoadMethod = LoaderServiceGrpc.getLoadMethod) == null) {
          LoaderServiceGrpc.getLoadMethod = getLoadMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.LoadRequest, dev.mlcache.v1.LoadResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Load"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.LoadRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.LoadResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LoaderServiceMethodDescriptorSupplier("Load"))
              .build();
        }
      }
    }
    return getLoadMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.BulkLoadRequest,
      dev.mlcache.v1.BulkLoadResponse> getBulkLoadMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BulkLoad",
      requestType = dev.mlcache.v1.BulkLoadRequest.class,
      responseType = dev.mlcache.v1.BulkLoadResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.BulkLoadRequest,
      dev.mlcache.v1.BulkLoadResponse> getBulkLoadMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.BulkLoadRequest, dev.mlcache.v1.BulkLoadResponse> getBulkLoadMethod;
    if ((getBulkLoadMethod = LoaderServiceGrpc.getBulkLoadMethod) == null) {
      synchronized (LoaderServiceGrpc.class) {
        if ((getBulkLoadMethod = LoaderServiceGrpc.getBulkLoadMethod) == null) {
          LoaderServiceGrpc.getBulkLoadMethod = getBulkLoadMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.BulkLoadRequest, dev.mlcache.v1.BulkLoadResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BulkLoad"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.BulkLoadRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.BulkLoadResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LoaderServiceMethodDescriptorSupplier("BulkLoad"))
              .build();
        }
      }
    }
    return getBulkLoadMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.StoreRequest,
      dev.mlcache.v1.StoreResponse> getStoreMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Store",
      requestType = dev.mlcache.v1.StoreRequest.class,
      responseType = dev.mlcache.v1.StoreResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.StoreRequest,
      dev.mlcache.v1.StoreResponse> getStoreMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.StoreRequest, dev.mlcache.v1.StoreResponse> getStoreMethod;
    if ((getStoreMethod = LoaderServiceGrpc.getStoreMethod) == null) {
      synchronized (LoaderServiceGrpc.class) {
        if ((getStoreMethod = LoaderServiceGrpc.getStoreMethod) == null) {
          LoaderServiceGrpc.getStoreMethod = getStoreMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.StoreRequest, dev.mlcache.v1.StoreResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Store"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.StoreRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.StoreResponse.getDefaultInstance()))
              .setSchemaDescriptor(new LoaderServiceMethodDescriptorSupplier("Store"))
              .build();
        }
      }
    }
    return getStoreMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static LoaderServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LoaderServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LoaderServiceStub>() {
        @java.lang.Override
        public LoaderServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LoaderServiceStub(channel, callOptions);
        }
      };
    return LoaderServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static LoaderServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LoaderServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LoaderServiceBlockingV2Stub>() {
        @java.lang.Override
        public LoaderServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LoaderServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return LoaderServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static LoaderServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LoaderServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LoaderServiceBlockingStub>() {
        @java.lang.Override
        public LoaderServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LoaderServiceBlockingStub(channel, callOptions);
        }
      };
    return LoaderServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static LoaderServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<LoaderServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<LoaderServiceFutureStub>() {
        @java.lang.Override
        public LoaderServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new LoaderServiceFutureStub(channel, callOptions);
        }
      };
    return LoaderServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public interface AsyncService {

    /**
     */
    default void load(dev.mlcache.v1.LoadRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.LoadResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getLoadMethod(), responseObserver);
    }

    /**
     * <pre>
     * Loads many keys of one namespace; a key's failure is reported in its own result.
     * </pre>
     */
    default void bulkLoad(dev.mlcache.v1.BulkLoadRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkLoadResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBulkLoadMethod(), responseObserver);
    }

    /**
     * <pre>
     * Applies writes (write-through, or the write-behind sink's batches).
     * </pre>
     */
    default void store(dev.mlcache.v1.StoreRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.StoreResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getStoreMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service LoaderService.
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public static abstract class LoaderServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return LoaderServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service LoaderService.
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public static final class LoaderServiceStub
      extends io.grpc.stub.AbstractAsyncStub<LoaderServiceStub> {
    private LoaderServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LoaderServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LoaderServiceStub(channel, callOptions);
    }

    /**
     */
    public void load(dev.mlcache.v1.LoadRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.LoadResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getLoadMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Loads many keys of one namespace; a key's failure is reported in its own result.
     * </pre>
     */
    public void bulkLoad(dev.mlcache.v1.BulkLoadRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkLoadResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBulkLoadMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Applies writes (write-through, or the write-behind sink's batches).
     * </pre>
     */
    public void store(dev.mlcache.v1.StoreRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.StoreResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getStoreMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service LoaderService.
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public static final class LoaderServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<LoaderServiceBlockingV2Stub> {
    private LoaderServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LoaderServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LoaderServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     */
    public dev.mlcache.v1.LoadResponse load(dev.mlcache.v1.LoadRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getLoadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Loads many keys of one namespace; a key's failure is reported in its own result.
     * </pre>
     */
    public dev.mlcache.v1.BulkLoadResponse bulkLoad(dev.mlcache.v1.BulkLoadRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBulkLoadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Applies writes (write-through, or the write-behind sink's batches).
     * </pre>
     */
    public dev.mlcache.v1.StoreResponse store(dev.mlcache.v1.StoreRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getStoreMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service LoaderService.
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public static final class LoaderServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<LoaderServiceBlockingStub> {
    private LoaderServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LoaderServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LoaderServiceBlockingStub(channel, callOptions);
    }

    /**
     */
    public dev.mlcache.v1.LoadResponse load(dev.mlcache.v1.LoadRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getLoadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Loads many keys of one namespace; a key's failure is reported in its own result.
     * </pre>
     */
    public dev.mlcache.v1.BulkLoadResponse bulkLoad(dev.mlcache.v1.BulkLoadRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBulkLoadMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Applies writes (write-through, or the write-behind sink's batches).
     * </pre>
     */
    public dev.mlcache.v1.StoreResponse store(dev.mlcache.v1.StoreRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getStoreMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service LoaderService.
   * <pre>
   * Implemented by an origin team, in any language, so the cache can read through to the
   * system of record on a miss and write through to it.
   * </pre>
   */
  public static final class LoaderServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<LoaderServiceFutureStub> {
    private LoaderServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected LoaderServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new LoaderServiceFutureStub(channel, callOptions);
    }

    /**
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.LoadResponse> load(
        dev.mlcache.v1.LoadRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getLoadMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Loads many keys of one namespace; a key's failure is reported in its own result.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.BulkLoadResponse> bulkLoad(
        dev.mlcache.v1.BulkLoadRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBulkLoadMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Applies writes (write-through, or the write-behind sink's batches).
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.StoreResponse> store(
        dev.mlcache.v1.StoreRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getStoreMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_LOAD = 0;
  private static final int METHODID_BULK_LOAD = 1;
  private static final int METHODID_STORE = 2;

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
        case METHODID_LOAD:
          serviceImpl.load((dev.mlcache.v1.LoadRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.LoadResponse>) responseObserver);
          break;
        case METHODID_BULK_LOAD:
          serviceImpl.bulkLoad((dev.mlcache.v1.BulkLoadRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkLoadResponse>) responseObserver);
          break;
        case METHODID_STORE:
          serviceImpl.store((dev.mlcache.v1.StoreRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.StoreResponse>) responseObserver);
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
          getLoadMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.LoadRequest,
              dev.mlcache.v1.LoadResponse>(
                service, METHODID_LOAD)))
        .addMethod(
          getBulkLoadMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.BulkLoadRequest,
              dev.mlcache.v1.BulkLoadResponse>(
                service, METHODID_BULK_LOAD)))
        .addMethod(
          getStoreMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.StoreRequest,
              dev.mlcache.v1.StoreResponse>(
                service, METHODID_STORE)))
        .build();
  }

  private static abstract class LoaderServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    LoaderServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.mlcache.v1.Loader.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("LoaderService");
    }
  }

  private static final class LoaderServiceFileDescriptorSupplier
      extends LoaderServiceBaseDescriptorSupplier {
    LoaderServiceFileDescriptorSupplier() {}
  }

  private static final class LoaderServiceMethodDescriptorSupplier
      extends LoaderServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    LoaderServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (LoaderServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new LoaderServiceFileDescriptorSupplier())
              .addMethod(getLoadMethod())
              .addMethod(getBulkLoadMethod())
              .addMethod(getStoreMethod())
              .build();
        }
      }
    }
    return result;
  }
}

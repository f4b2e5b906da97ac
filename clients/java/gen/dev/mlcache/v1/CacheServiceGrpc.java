package dev.mlcache.v1;

import static io.grpc.MethodDescriptor.generateFullMethodName;

/**
 * <pre>
 * The cache: read through the layers, write, invalidate, and watch what happens.
 * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
 * read path, loader included.
 * </pre>
 */
@io.grpc.stub.annotations.GrpcGenerated
public final class CacheServiceGrpc {

  private CacheServiceGrpc() {}

  public static final java.lang.String SERVICE_NAME = "mlcache.v1.CacheService";

  // Static method descriptors that strictly reflect the proto.
  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.GetRequest,
      dev.mlcache.v1.GetResponse> getGetMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Get",
      requestType = dev.mlcache.v1.GetRequest.class,
      responseType = dev.mlcache.v1.GetResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.GetRequest,
      dev.mlcache.v1.GetResponse> getGetMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.GetRequest, dev.mlcache.v1.GetResponse> getGetMethod;
    if ((getGetMethod = CacheServiceGrpc.getGetMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getGetMethod = CacheServiceGrpc.getGetMethod) == null) {
          CacheServiceGrpc.getGetMethod = getGetMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.GetRequest, dev.mlcache.v1.GetResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Get"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.GetRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.GetResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("Get"))
              .build();
        }
      }
    }
    return getGetMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.BulkGetRequest,
      dev.mlcache.v1.BulkGetResponse> getBulkGetMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "BulkGet",
      requestType = dev.mlcache.v1.BulkGetRequest.class,
      responseType = dev.mlcache.v1.BulkGetResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.BulkGetRequest,
      dev.mlcache.v1.BulkGetResponse> getBulkGetMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.BulkGetRequest, dev.mlcache.v1.BulkGetResponse> getBulkGetMethod;
    if ((getBulkGetMethod = CacheServiceGrpc.getBulkGetMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getBulkGetMethod = CacheServiceGrpc.getBulkGetMethod) == null) {
          CacheServiceGrpc.getBulkGetMethod = getBulkGetMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.BulkGetRequest, dev.mlcache.v1.BulkGetResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "BulkGet"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.BulkGetRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.BulkGetResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("BulkGet"))
              .build();
        }
      }
    }
    return getBulkGetMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.SetRequest,
      dev.mlcache.v1.SetResponse> getSetMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Set",
      requestType = dev.mlcache.v1.SetRequest.class,
      responseType = dev.mlcache.v1.SetResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.SetRequest,
      dev.mlcache.v1.SetResponse> getSetMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.SetRequest, dev.mlcache.v1.SetResponse> getSetMethod;
    if ((getSetMethod = CacheServiceGrpc.getSetMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getSetMethod = CacheServiceGrpc.getSetMethod) == null) {
          CacheServiceGrpc.getSetMethod = getSetMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.SetRequest, dev.mlcache.v1.SetResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Set"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.SetRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.SetResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("Set"))
              .build();
        }
      }
    }
    return getSetMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.InvalidateRequest,
      dev.mlcache.v1.InvalidateResponse> getInvalidateMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Invalidate",
      requestType = dev.mlcache.v1.InvalidateRequest.class,
      responseType = dev.mlcache.v1.InvalidateResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.InvalidateRequest,
      dev.mlcache.v1.InvalidateResponse> getInvalidateMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.InvalidateRequest, dev.mlcache.v1.InvalidateResponse> getInvalidateMethod;
    if ((getInvalidateMethod = CacheServiceGrpc.getInvalidateMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getInvalidateMethod = CacheServiceGrpc.getInvalidateMethod) == null) {
          CacheServiceGrpc.getInvalidateMethod = getInvalidateMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.InvalidateRequest, dev.mlcache.v1.InvalidateResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Invalidate"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.InvalidateRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.InvalidateResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("Invalidate"))
              .build();
        }
      }
    }
    return getInvalidateMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.WatchStatsRequest,
      dev.mlcache.v1.WatchStatsResponse> getWatchStatsMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "WatchStats",
      requestType = dev.mlcache.v1.WatchStatsRequest.class,
      responseType = dev.mlcache.v1.WatchStatsResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.WatchStatsRequest,
      dev.mlcache.v1.WatchStatsResponse> getWatchStatsMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.WatchStatsRequest, dev.mlcache.v1.WatchStatsResponse> getWatchStatsMethod;
    if ((getWatchStatsMethod = CacheServiceGrpc.getWatchStatsMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getWatchStatsMethod = CacheServiceGrpc.getWatchStatsMethod) == null) {
          CacheServiceGrpc.getWatchStatsMethod = getWatchStatsMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.WatchStatsRequest, dev.mlcache.v1.WatchStatsResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.SERVER_STREAMING)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "WatchStats"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.WatchStatsRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.WatchStatsResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("WatchStats"))
              .build();
        }
      }
    }
    return getWatchStatsMethod;
  }

  private static volatile io.grpc.MethodDescriptor<dev.mlcache.v1.InspectRequest,
      dev.mlcache.v1.InspectResponse> getInspectMethod;

  @io.grpc.stub.annotations.RpcMethod(
      fullMethodName = SERVICE_NAME + '/' + "Inspect",
      requestType = dev.mlcache.v1.InspectRequest.class,
      responseType = dev.mlcache.v1.InspectResponse.class,
      methodType = io.grpc.MethodDescriptor.MethodType.UNARY)
  public static io.grpc.MethodDescriptor<dev.mlcache.v1.InspectRequest,
      dev.mlcache.v1.InspectResponse> getInspectMethod() {
    io.grpc.MethodDescriptor<dev.mlcache.v1.InspectRequest, dev.mlcache.v1.InspectResponse> getInspectMethod;
    if ((getInspectMethod = CacheServiceGrpc.getInspectMethod) == null) {
      synchronized (CacheServiceGrpc.class) {
        if ((getInspectMethod = CacheServiceGrpc.getInspectMethod) == null) {
          CacheServiceGrpc.getInspectMethod = getInspectMethod =
              io.grpc.MethodDescriptor.<dev.mlcache.v1.InspectRequest, dev.mlcache.v1.InspectResponse>newBuilder()
              .setType(io.grpc.MethodDescriptor.MethodType.UNARY)
              .setFullMethodName(generateFullMethodName(SERVICE_NAME, "Inspect"))
              .setSampledToLocalTracing(true)
              .setRequestMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.InspectRequest.getDefaultInstance()))
              .setResponseMarshaller(io.grpc.protobuf.ProtoUtils.marshaller(
                  dev.mlcache.v1.InspectResponse.getDefaultInstance()))
              .setSchemaDescriptor(new CacheServiceMethodDescriptorSupplier("Inspect"))
              .build();
        }
      }
    }
    return getInspectMethod;
  }

  /**
   * Creates a new async stub that supports all call types for the service
   */
  public static CacheServiceStub newStub(io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CacheServiceStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CacheServiceStub>() {
        @java.lang.Override
        public CacheServiceStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CacheServiceStub(channel, callOptions);
        }
      };
    return CacheServiceStub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports all types of calls on the service
   */
  public static CacheServiceBlockingV2Stub newBlockingV2Stub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CacheServiceBlockingV2Stub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CacheServiceBlockingV2Stub>() {
        @java.lang.Override
        public CacheServiceBlockingV2Stub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CacheServiceBlockingV2Stub(channel, callOptions);
        }
      };
    return CacheServiceBlockingV2Stub.newStub(factory, channel);
  }

  /**
   * Creates a new blocking-style stub that supports unary and streaming output calls on the service
   */
  public static CacheServiceBlockingStub newBlockingStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CacheServiceBlockingStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CacheServiceBlockingStub>() {
        @java.lang.Override
        public CacheServiceBlockingStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CacheServiceBlockingStub(channel, callOptions);
        }
      };
    return CacheServiceBlockingStub.newStub(factory, channel);
  }

  /**
   * Creates a new ListenableFuture-style stub that supports unary calls on the service
   */
  public static CacheServiceFutureStub newFutureStub(
      io.grpc.Channel channel) {
    io.grpc.stub.AbstractStub.StubFactory<CacheServiceFutureStub> factory =
      new io.grpc.stub.AbstractStub.StubFactory<CacheServiceFutureStub>() {
        @java.lang.Override
        public CacheServiceFutureStub newStub(io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
          return new CacheServiceFutureStub(channel, callOptions);
        }
      };
    return CacheServiceFutureStub.newStub(factory, channel);
  }

  /**
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public interface AsyncService {

    /**
     * <pre>
     * Reads one key: L1, then L2, then the namespace's loader; concurrent reads of one key
     * share one load.
     * </pre>
     */
    default void get(dev.mlcache.v1.GetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.GetResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getGetMethod(), responseObserver);
    }

    /**
     * <pre>
     * Reads many keys of one namespace; each layer is asked once for all of them and
     * failures are reported per key.
     * </pre>
     */
    default void bulkGet(dev.mlcache.v1.BulkGetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkGetResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getBulkGetMethod(), responseObserver);
    }

    /**
     * <pre>
     * Writes one key through the layers according to the write mode.
     * </pre>
     */
    default void set(dev.mlcache.v1.SetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.SetResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getSetMethod(), responseObserver);
    }

    /**
     * <pre>
     * Drops keys, everything carrying a tag, or everything under a key prefix.
     * </pre>
     */
    default void invalidate(dev.mlcache.v1.InvalidateRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.InvalidateResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getInvalidateMethod(), responseObserver);
    }

    /**
     * <pre>
     * Streams statistics snapshots at the interval the subscriber asks for.
     * </pre>
     */
    default void watchStats(dev.mlcache.v1.WatchStatsRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.WatchStatsResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getWatchStatsMethod(), responseObserver);
    }

    /**
     * <pre>
     * Answers hot keys, per-key statistics, in-flight loads and dead letters.
     * </pre>
     */
    default void inspect(dev.mlcache.v1.InspectRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.InspectResponse> responseObserver) {
      io.grpc.stub.ServerCalls.asyncUnimplementedUnaryCall(getInspectMethod(), responseObserver);
    }
  }

  /**
   * Base class for the server implementation of the service CacheService.
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public static abstract class CacheServiceImplBase
      implements io.grpc.BindableService, AsyncService {

    @java.lang.Override public final io.grpc.ServerServiceDefinition bindService() {
      return CacheServiceGrpc.bindService(this);
    }
  }

  /**
   * A stub to allow clients to do asynchronous rpc calls to service CacheService.
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public static final class CacheServiceStub
      extends io.grpc.stub.AbstractAsyncStub<CacheServiceStub> {
    private CacheServiceStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CacheServiceStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CacheServiceStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one key: L1, then L2, then the namespace's loader; concurrent reads of one key
     * share one load.
     * </pre>
     */
    public void get(dev.mlcache.v1.GetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.GetResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getGetMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Reads many keys of one namespace; each layer is asked once for all of them and
     * failures are reported per key.
     * </pre>
     */
    public void bulkGet(dev.mlcache.v1.BulkGetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkGetResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getBulkGetMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Writes one key through the layers according to the write mode.
     * </pre>
     */
    public void set(dev.mlcache.v1.SetRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.SetResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getSetMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Drops keys, everything carrying a tag, or everything under a key prefix.
     * </pre>
     */
    public void invalidate(dev.mlcache.v1.InvalidateRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.InvalidateResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getInvalidateMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Streams statistics snapshots at the interval the subscriber asks for.
     * </pre>
     */
    public void watchStats(dev.mlcache.v1.WatchStatsRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.WatchStatsResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncServerStreamingCall(
          getChannel().newCall(getWatchStatsMethod(), getCallOptions()), request, responseObserver);
    }

    /**
     * <pre>
     * Answers hot keys, per-key statistics, in-flight loads and dead letters.
     * </pre>
     */
    public void inspect(dev.mlcache.v1.InspectRequest request,
        io.grpc.stub.StreamObserver<dev.mlcache.v1.InspectResponse> responseObserver) {
      io.grpc.stub.ClientCalls.asyncUnaryCall(
          getChannel().newCall(getInspectMethod(), getCallOptions()), request, responseObserver);
    }
  }

  /**
   * A stub to allow clients to do synchronous rpc calls to service CacheService.
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public static final class CacheServiceBlockingV2Stub
      extends io.grpc.stub.AbstractBlockingStub<CacheServiceBlockingV2Stub> {
    private CacheServiceBlockingV2Stub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CacheServiceBlockingV2Stub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CacheServiceBlockingV2Stub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one key: L1, then L2, then the namespace's loader; concurrent reads of one key
     * share one load.
     * </pre>
     */
    public dev.mlcache.v1.GetResponse get(dev.mlcache.v1.GetRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getGetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads many keys of one namespace; each layer is asked once for all of them and
     * failures are reported per key.
     * </pre>
     */
    public dev.mlcache.v1.BulkGetResponse bulkGet(dev.mlcache.v1.BulkGetRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getBulkGetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Writes one key through the layers according to the write mode.
     * </pre>
     */
    public dev.mlcache.v1.SetResponse set(dev.mlcache.v1.SetRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getSetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Drops keys, everything carrying a tag, or everything under a key prefix.
     * </pre>
     */
    public dev.mlcache.v1.InvalidateResponse invalidate(dev.mlcache.v1.InvalidateRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getInvalidateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams statistics snapshots at the interval the subscriber asks for.
     * </pre>
     */
    @io.grpc.ExperimentalApi("https://github.com/grpc/grpc-java/issues/10918")
    public io.grpc.stub.BlockingClientCall<?, dev.mlcache.v1.WatchStatsResponse>
        watchStats(dev.mlcache.v1.WatchStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingV2ServerStreamingCall(
          getChannel(), getWatchStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Answers hot keys, per-key statistics, in-flight loads and dead letters.
     * </pre>
     */
    public dev.mlcache.v1.InspectResponse inspect(dev.mlcache.v1.InspectRequest request) throws io.grpc.StatusException {
      return io.grpc.stub.ClientCalls.blockingV2UnaryCall(
          getChannel(), getInspectMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do limited synchronous rpc calls to service CacheService.
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public static final class CacheServiceBlockingStub
      extends io.grpc.stub.AbstractBlockingStub<CacheServiceBlockingStub> {
    private CacheServiceBlockingStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CacheServiceBlockingStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CacheServiceBlockingStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one key: L1, then L2, then the namespace's loader; concurrent reads of one key
     * share one load.
     * </pre>
     */
    public dev.mlcache.v1.GetResponse get(dev.mlcache.v1.GetRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getGetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Reads many keys of one namespace; each layer is asked once for all of them and
     * failures are reported per key.
     * </pre>
     */
    public dev.mlcache.v1.BulkGetResponse bulkGet(dev.mlcache.v1.BulkGetRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getBulkGetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Writes one key through the layers according to the write mode.
     * </pre>
     */
    public dev.mlcache.v1.SetResponse set(dev.mlcache.v1.SetRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getSetMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Drops keys, everything carrying a tag, or everything under a key prefix.
     * </pre>
     */
    public dev.mlcache.v1.InvalidateResponse invalidate(dev.mlcache.v1.InvalidateRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getInvalidateMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Streams statistics snapshots at the interval the subscriber asks for.
     * </pre>
     */
    public java.util.Iterator<dev.mlcache.v1.WatchStatsResponse> watchStats(
        dev.mlcache.v1.WatchStatsRequest request) {
      return io.grpc.stub.ClientCalls.blockingServerStreamingCall(
          getChannel(), getWatchStatsMethod(), getCallOptions(), request);
    }

    /**
     * <pre>
     * Answers hot keys, per-key statistics, in-flight loads and dead letters.
     * </pre>
     */
    public dev.mlcache.v1.InspectResponse inspect(dev.mlcache.v1.InspectRequest request) {
      return io.grpc.stub.ClientCalls.blockingUnaryCall(
          getChannel(), getInspectMethod(), getCallOptions(), request);
    }
  }

  /**
   * A stub to allow clients to do ListenableFuture-style rpc calls to service CacheService.
   * <pre>
   * The cache: read through the layers, write, invalidate, and watch what happens.
   * A call's deadline (gRPC `grpc-timeout`, Connect `connect-timeout-ms`) bounds the whole
   * read path, loader included.
   * </pre>
   */
  public static final class CacheServiceFutureStub
      extends io.grpc.stub.AbstractFutureStub<CacheServiceFutureStub> {
    private CacheServiceFutureStub(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      super(channel, callOptions);
    }

    @java.lang.Override
    protected CacheServiceFutureStub build(
        io.grpc.Channel channel, io.grpc.CallOptions callOptions) {
      return new CacheServiceFutureStub(channel, callOptions);
    }

    /**
     * <pre>
     * Reads one key: L1, then L2, then the namespace's loader; concurrent reads of one key
     * share one load.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.GetResponse> get(
        dev.mlcache.v1.GetRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getGetMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Reads many keys of one namespace; each layer is asked once for all of them and
     * failures are reported per key.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.BulkGetResponse> bulkGet(
        dev.mlcache.v1.BulkGetRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getBulkGetMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Writes one key through the layers according to the write mode.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.SetResponse> set(
        dev.mlcache.v1.SetRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getSetMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Drops keys, everything carrying a tag, or everything under a key prefix.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.InvalidateResponse> invalidate(
        dev.mlcache.v1.InvalidateRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getInvalidateMethod(), getCallOptions()), request);
    }

    /**
     * <pre>
     * Answers hot keys, per-key statistics, in-flight loads and dead letters.
     * </pre>
     */
    public com.google.common.util.concurrent.ListenableFuture<dev.mlcache.v1.InspectResponse> inspect(
        dev.mlcache.v1.InspectRequest request) {
      return io.grpc.stub.ClientCalls.futureUnaryCall(
          getChannel().newCall(getInspectMethod(), getCallOptions()), request);
    }
  }

  private static final int METHODID_GET = 0;
  private static final int METHODID_BULK_GET = 1;
  private static final int METHODID_SET = 2;
  private static final int METHODID_INVALIDATE = 3;
  private static final int METHODID_WATCH_STATS = 4;
  private static final int METHODID_INSPECT = 5;

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
        case METHODID_GET:
          serviceImpl.get((dev.mlcache.v1.GetRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.GetResponse>) responseObserver);
          break;
        case METHODID_BULK_GET:
          serviceImpl.bulkGet((dev.mlcache.v1.BulkGetRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.BulkGetResponse>) responseObserver);
          break;
        case METHODID_SET:
          serviceImpl.set((dev.mlcache.v1.SetRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.SetResponse>) responseObserver);
          break;
        case METHODID_INVALIDATE:
          serviceImpl.invalidate((dev.mlcache.v1.InvalidateRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.InvalidateResponse>) responseObserver);
          break;
        case METHODID_WATCH_STATS:
          serviceImpl.watchStats((dev.mlcache.v1.WatchStatsRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.WatchStatsResponse>) responseObserver);
          break;
        case METHODID_INSPECT:
          serviceImpl.inspect((dev.mlcache.v1.InspectRequest) request,
              (io.grpc.stub.StreamObserver<dev.mlcache.v1.InspectResponse>) responseObserver);
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
          getGetMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.GetRequest,
              dev.mlcache.v1.GetResponse>(
                service, METHODID_GET)))
        .addMethod(
          getBulkGetMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.BulkGetRequest,
              dev.mlcache.v1.BulkGetResponse>(
                service, METHODID_BULK_GET)))
        .addMethod(
          getSetMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.SetRequest,
              dev.mlcache.v1.SetResponse>(
                service, METHODID_SET)))
        .addMethod(
          getInvalidateMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.InvalidateRequest,
              dev.mlcache.v1.InvalidateResponse>(
                service, METHODID_INVALIDATE)))
        .addMethod(
          getWatchStatsMethod(),
          io.grpc.stub.ServerCalls.asyncServerStreamingCall(
            new MethodHandlers<
              dev.mlcache.v1.WatchStatsRequest,
              dev.mlcache.v1.WatchStatsResponse>(
                service, METHODID_WATCH_STATS)))
        .addMethod(
          getInspectMethod(),
          io.grpc.stub.ServerCalls.asyncUnaryCall(
            new MethodHandlers<
              dev.mlcache.v1.InspectRequest,
              dev.mlcache.v1.InspectResponse>(
                service, METHODID_INSPECT)))
        .build();
  }

  private static abstract class CacheServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoFileDescriptorSupplier, io.grpc.protobuf.ProtoServiceDescriptorSupplier {
    CacheServiceBaseDescriptorSupplier() {}

    @java.lang.Override
    public com.google.protobuf.Descriptors.FileDescriptor getFileDescriptor() {
      return dev.mlcache.v1.Cache.getDescriptor();
    }

    @java.lang.Override
    public com.google.protobuf.Descriptors.ServiceDescriptor getServiceDescriptor() {
      return getFileDescriptor().findServiceByName("CacheService");
    }
  }

  private static final class CacheServiceFileDescriptorSupplier
      extends CacheServiceBaseDescriptorSupplier {
    CacheServiceFileDescriptorSupplier() {}
  }

  private static final class CacheServiceMethodDescriptorSupplier
      extends CacheServiceBaseDescriptorSupplier
      implements io.grpc.protobuf.ProtoMethodDescriptorSupplier {
    private final java.lang.String methodName;

    CacheServiceMethodDescriptorSupplier(java.lang.String methodName) {
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
      synchronized (CacheServiceGrpc.class) {
        result = serviceDescriptor;
        if (result == null) {
          serviceDescriptor = result = io.grpc.ServiceDescriptor.newBuilder(SERVICE_NAME)
              .setSchemaDescriptor(new CacheServiceFileDescriptorSupplier())
              .addMethod(getGetMethod())
              .addMethod(getBulkGetMethod())
              .addMethod(getSetMethod())
              .addMethod(getInvalidateMethod())
              .addMethod(getWatchStatsMethod())
              .addMethod(getInspectMethod())
              .build();
        }
      }
    }
    return result;
  }
}

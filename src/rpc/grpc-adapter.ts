import { create, type DescMethod, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { CALL_DONE, type GrpcCall, GrpcCallContext } from "./grpc-context.js";

/**
 * Builds a grpc-js service definition and handlers from a protobuf-es service descriptor and
 * the same implementation the Connect router serves: one source of truth for both ports.
 * Paths are `/${typeName}/${method}`; messages go through `toBinary`/`fromBinary`.
 */
export function grpcService<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  options: AdapterOptions = {},
): { definition: grpc.ServiceDefinition; handlers: grpc.UntypedServiceImplementation } {
  const definition: Record<string, grpc.MethodDefinition<unknown, unknown>> = {};
  const handlers: grpc.UntypedServiceImplementation = {};
  for (const method of service.methods) {
    const kind = method.methodKind;
    if (kind !== "unary" && kind !== "server_streaming") {
      throw new Error(`${service.typeName}.${method.name}: ${kind} methods are not supported by the adapter`);
    }
    definition[method.name] = {
      path: `/${service.typeName}/${method.name}`,
      requestStream: false,
      responseStream: kind === "server_streaming",
      requestSerialize: (message: unknown) => asBuffer(toBinary(method.input, message as never)),
      // A plain Uint8Array view, so bytes fields are Uint8Array (not Buffer) on both ports.
      // Unknown fields are dropped (a request cannot make the service keep bytes it does not
      // use), and a request that does not parse becomes a value the handler refuses with
      // INVALID_ARGUMENT (grpc-js would answer INTERNAL for a throwing deserializer).
      requestDeserialize: (bytes: Buffer) => {
        try {
          return fromBinary(method.input, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength), READ);
        } catch (error) {
          return new UnreadableRequest(method, error);
        }
      },
      responseSerialize: (message: unknown) => asBuffer(toBinary(method.output, message as never)),
      responseDeserialize: (bytes: Buffer) =>
        fromBinary(method.output, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength)),
      originalName: method.localName,
    };
    const fn = (impl as Record<string, (...args: unknown[]) => unknown>)[method.localName];
    if (!fn) throw new Error(`${service.typeName}.${method.name} has no implementation`);
    handlers[method.name] =
      kind === "unary"
        ? unaryHandler(service, method, fn.bind(impl), options)
        : streamHandler(service, method, fn.bind(impl), options);
  }
  return { definition: definition as grpc.ServiceDefinition, handlers };
}

const READ = { readUnknownFields: false };

/** A Buffer over the bytes toBinary just wrote (nobody else holds them): no copy. */
const asBuffer = (bytes: Uint8Array) => Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);

/** A request message that did not parse. */
class UnreadableRequest {
  readonly error: ConnectError;
  constructor(method: DescMethod, cause: unknown) {
    const reason = cause instanceof Error ? cause.message : String(cause);
    this.error = new ConnectError(
      `the request is not a valid ${method.input.typeName}: ${reason}`,
      Code.InvalidArgument,
    );
  }
}

/** How the adapter builds call contexts. */
export interface AdapterOptions {
  /** Put the verified client certificate (mutual TLS) into the context, for authentication. */
  peerCertificates?: boolean;
  /** Aborted at shutdown: every call's context aborts with its reason (UNAVAILABLE). */
  shutdownSignal?: AbortSignal;
}

/** The handler context of a grpc-js call (see {@link GrpcCallContext}). */
function contextFor(service: DescService, method: DescMethod, url: string, call: GrpcCall, options: AdapterOptions) {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  return new GrpcCallContext(
    service,
    method,
    url,
    call,
    Number.isFinite(deadlineMs) ? deadlineMs : Number.POSITIVE_INFINITY,
    options.shutdownSignal,
    options.peerCertificates ?? false,
  );
}

/** A grpc-js status for anything a handler threw. */
export function grpcStatus(error: unknown): Partial<grpc.StatusObject> {
  const connectError = ConnectError.from(error);
  const metadata = new grpc.Metadata();
  for (const [name, value] of connectError.metadata) metadata.set(name, value);
  return { code: connectError.code as number as grpc.status, details: connectError.rawMessage, metadata };
}

function unaryHandler(
  service: DescService,
  method: DescMethod,
  fn: (...args: unknown[]) => unknown,
  options: AdapterOptions,
): grpc.handleUnaryCall<unknown, unknown> {
  const url = `/${service.typeName}/${method.name}`;
  const output = method.output;
  return (call, callback) => {
    if (call.request instanceof UnreadableRequest) {
      callback(grpcStatus(call.request.error) as grpc.ServiceError);
      return;
    }
    const context = contextFor(service, method, url, call, options);
    let answer: Promise<unknown>;
    try {
      answer = Promise.resolve(fn(call.request, context));
    } catch (error) {
      answer = Promise.reject(error);
    }
    answer.then(
      (response) => {
        // Already a message (the services build them): create() hands it back as it is.
        callback(null, create(output, response as never), context.trailerMetadata(newMetadata));
        context.finish(CALL_DONE);
      },
      (error: unknown) => {
        callback(grpcStatus(error) as grpc.ServiceError);
        context.finish(CALL_DONE);
      },
    );
  };
}

function streamHandler(
  service: DescService,
  method: DescMethod,
  fn: (...args: unknown[]) => unknown,
  options: AdapterOptions,
): grpc.handleServerStreamingCall<unknown, unknown> {
  const url = `/${service.typeName}/${method.name}`;
  return (call) => {
    if (call.request instanceof UnreadableRequest) {
      call.emit("error", grpcStatus(call.request.error));
      return;
    }
    const context = contextFor(service, method, url, call, options);
    const signal = context.signal;
    const run = async () => {
      const iterable = fn(call.request, context) as AsyncIterable<unknown>;
      for await (const response of iterable) {
        if (signal.aborted) break;
        // Backpressure: wait for the client to read before producing the next message, so a
        // slow reader holds at most one message here; the producer decides what to skip.
        if (!call.write(create(method.output, response as never))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              call.off("drain", done);
              signal.removeEventListener("abort", done);
              resolve();
            };
            call.on("drain", done);
            signal.addEventListener("abort", done, { once: true });
          });
        }
      }
    };
    run().then(
      () => {
        if (!call.cancelled) call.end(context.trailerMetadata(newMetadata) ?? newMetadata());
        context.finish(CALL_DONE);
      },
      (error: unknown) => {
        if (!call.cancelled) call.emit("error", grpcStatus(error));
        context.finish(CALL_DONE);
      },
    );
  };
}

const newMetadata = () => new grpc.Metadata();

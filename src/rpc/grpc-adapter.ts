import { create, type DescMethod, type DescService, fromBinary, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createContextValues, createHandlerContext, type ServiceImpl } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { peerCertificateKey } from "./auth.js";

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
      requestSerialize: (message: unknown) => Buffer.from(toBinary(method.input, message as never)),
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
      responseSerialize: (message: unknown) => Buffer.from(toBinary(method.output, message as never)),
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

/**
 * The reason a finished call's context is aborted with (releasing its deadline timer and
 * listeners). One shared instance: building an error per call captures a stack trace each
 * time, which showed up as a tenth of the Get path's CPU.
 */
const CALL_DONE = new ConnectError("the call has completed", Code.Canceled);
/** Why a call's signal aborts when the client goes away (shared, for the same reason). */
const CLIENT_CANCELLED = new ConnectError("the client cancelled the call", Code.Canceled);

type Call = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

const READ = { readUnknownFields: false };

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

/** A Connect handler context for a grpc-js call: deadline, cancellation and metadata carried over. */
function contextFor(service: DescService, method: DescMethod, call: Call, options: AdapterOptions) {
  const deadline = call.getDeadline();
  const deadlineMs = deadline instanceof Date ? deadline.getTime() : deadline;
  const timeoutMs = Number.isFinite(deadlineMs) ? Math.max(0, deadlineMs - Date.now()) : undefined;
  const requestHeader = new Headers();
  for (const [name, value] of Object.entries(call.metadata.getMap())) {
    if (typeof value === "string") requestHeader.set(name, value);
  }
  const requestAbort = new AbortController();
  call.once("cancelled", () => requestAbort.abort(CLIENT_CANCELLED));
  const context = createHandlerContext({
    service,
    method,
    protocolName: "grpc",
    requestMethod: "POST",
    url: `/${service.typeName}/${method.name}`,
    requestHeader,
    requestSignal: requestAbort.signal,
    ...(timeoutMs !== undefined ? { timeoutMs } : {}),
    ...(options.peerCertificates ? { contextValues: peerValues(call) } : {}),
    ...(options.shutdownSignal ? { shutdownSignal: options.shutdownSignal } : {}),
  });
  return context;
}

/** Context values holding the call's verified client certificate, when it has one. */
function peerValues(call: Call) {
  const values = createContextValues();
  const certificate = call.getAuthContext()?.sslPeerCertificate;
  if (certificate) values.set(peerCertificateKey, certificate);
  return values;
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
  return (call, callback) => {
    if (call.request instanceof UnreadableRequest) {
      callback(grpcStatus(call.request.error) as grpc.ServiceError);
      return;
    }
    const context = contextFor(service, method, call, options);
    Promise.resolve()
      .then(() => fn(call.request, context))
      .then(
        (response) => {
          const trailer = headersToMetadata(context.responseTrailer);
          callback(null, create(method.output, response as never), trailer);
        },
        (error: unknown) => callback(grpcStatus(error) as grpc.ServiceError),
      )
      .finally(() => context.abort(CALL_DONE));
  };
}

function streamHandler(
  service: DescService,
  method: DescMethod,
  fn: (...args: unknown[]) => unknown,
  options: AdapterOptions,
): grpc.handleServerStreamingCall<unknown, unknown> {
  return (call) => {
    if (call.request instanceof UnreadableRequest) {
      call.emit("error", grpcStatus(call.request.error));
      return;
    }
    const context = contextFor(service, method, call, options);
    const run = async () => {
      const iterable = fn(call.request, context) as AsyncIterable<unknown>;
      for await (const response of iterable) {
        if (context.signal.aborted) break;
        // Backpressure: wait for the client to read before producing the next message, so a
        // slow reader holds at most one message here; the producer decides what to skip.
        if (!call.write(create(method.output, response as never))) {
          await new Promise<void>((resolve) => {
            const done = () => {
              call.off("drain", done);
              context.signal.removeEventListener("abort", done);
              resolve();
            };
            call.on("drain", done);
            context.signal.addEventListener("abort", done, { once: true });
          });
        }
      }
    };
    run().then(
      () => {
        if (!call.cancelled) call.end(headersToMetadata(context.responseTrailer));
        context.abort(CALL_DONE);
      },
      (error: unknown) => {
        if (!call.cancelled) call.emit("error", grpcStatus(error));
        context.abort(CALL_DONE);
      },
    );
  };
}

function headersToMetadata(headers: Headers): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [name, value] of headers) metadata.set(name, value);
  return metadata;
}

// A real grpc-js client with the shape of a Connect client, built from the protobuf-es
// descriptors (no second proto loader). Kept apart from ./service.ts so that code which only
// calls a service (the history checker) does not load the service itself.
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, type Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { grpcService } from "../../src/rpc/grpc-adapter.js";

/** A ConnectError for a grpc-js error, so tests check both clients' failures the same way. */
function connectErrorFrom(error: grpc.ServiceError): ConnectError {
  const metadata = new Headers();
  for (const [name, value] of Object.entries(error.metadata?.getMap() ?? {})) {
    if (typeof value === "string") metadata.set(name, value);
  }
  return new ConnectError(error.details, error.code as number as Code, metadata, undefined, error);
}

/** A Connect-shaped client backed by a real grpc-js client. */
export type GrpcJsClient<S extends DescService> = Client<S> & {
  /** The underlying grpc-js client. */
  readonly raw: grpc.Client;
  close(): void;
};

/**
 * A real grpc-js client for `service` on `address`, built from the same `ServiceDefinition`
 * the server uses (`grpcService`, serializers from the protobuf-es descriptors). Its methods
 * have the shape of a Connect `Client<S>`: unary calls return promises, server streams async
 * iterables; failures are thrown as ConnectError with the gRPC code and details.
 * `credentials` default to plaintext; `channelOptions` go to grpc-js (e.g.
 * `grpc.max_reconnect_backoff_ms`).
 */
export function createGrpcJsClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
  channelOptions: grpc.ChannelOptions = {},
): GrpcJsClient<S> {
  // The definition only needs an implementation to exist; a client never calls it.
  const stub = Object.fromEntries(
    service.methods.map((m) => [
      m.localName,
      () => {
        throw new Error("client-side stub");
      },
    ]),
  );
  const { definition } = grpcService(service, stub as never);
  const Constructor = grpc.makeGenericClientConstructor(definition, service.typeName);
  const raw = new Constructor(address, credentials, channelOptions);

  const callArgs = (options: CallOptions | undefined) => {
    const metadata = new grpc.Metadata();
    if (options?.headers) {
      for (const [name, value] of new Headers(options.headers)) metadata.set(name, value);
    }
    const callOptions: grpc.CallOptions = {};
    if (options?.timeoutMs !== undefined) callOptions.deadline = Date.now() + options.timeoutMs;
    return { metadata, callOptions };
  };

  const methods: Record<string, unknown> = {};
  for (const method of service.methods as readonly DescMethod[]) {
    const def = definition[method.name];
    if (!def) throw new Error(`no definition for ${method.name}`);
    if (method.methodKind === "unary") {
      methods[method.localName] = (request: unknown, options?: CallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        return new Promise((resolve, reject) => {
          const call = raw.makeUnaryRequest(
            def.path,
            def.requestSerialize,
            def.responseDeserialize,
            create(method.input, request as never),
            metadata,
            callOptions,
            (error, response) => (error ? reject(connectErrorFrom(error)) : resolve(response)),
          );
          options?.signal?.addEventListener("abort", () => call.cancel(), { once: true });
        });
      };
    } else if (method.methodKind === "server_streaming") {
      methods[method.localName] = (request: unknown, options?: CallOptions) => {
        const { metadata, callOptions } = callArgs(options);
        return readStream(
          () =>
            raw.makeServerStreamRequest(
              def.path,
              def.requestSerialize,
              def.responseDeserialize,
              create(method.input, request as never),
              metadata,
              callOptions,
            ),
          options?.signal,
        );
      };
    }
  }
  return Object.assign(methods as Client<S>, { raw, close: () => raw.close() });
}

/** A grpc-js server stream as an async iterable; leaving the loop early cancels the call. */
function readStream<T>(start: () => grpc.ClientReadableStream<T>, signal: AbortSignal | undefined): AsyncIterable<T> {
  return {
    [Symbol.asyncIterator](): AsyncIterator<T> {
      const call = start();
      const queue: T[] = [];
      let failure: ConnectError | undefined;
      let ended = false;
      let wake: (() => void) | undefined;
      const notify = () => {
        const w = wake;
        wake = undefined;
        w?.();
      };
      call.on("data", (message: T) => {
        queue.push(message);
        notify();
      });
      call.on("error", (error: grpc.ServiceError) => {
        failure = connectErrorFrom(error);
        notify();
      });
      call.on("end", () => {
        ended = true;
        notify();
      });
      signal?.addEventListener("abort", () => call.cancel(), { once: true });
      return {
        async next(): Promise<IteratorResult<T>> {
          for (;;) {
            const message = queue.shift();
            if (message !== undefined) return { done: false, value: message };
            if (failure) throw failure;
            if (ended) return { done: true, value: undefined };
            await new Promise<void>((resolve) => {
              wake = resolve;
            });
          }
        },
        async return(): Promise<IteratorResult<T>> {
          call.cancel();
          return { done: true, value: undefined };
        },
      };
    },
  };
}

// Helpers for end-to-end tests: an in-process service on ephemeral ports, and clients for it
// (a real grpc-js client on the gRPC port, Connect / gRPC-Web transports on the HTTP port).
import { create, type DescMethod, type DescService } from "@bufbuild/protobuf";
import { type CallOptions, type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { parseConfig } from "../../src/config/config.js";
import { grpcService } from "../../src/rpc/grpc-adapter.js";
import { type RunningService, startService } from "../../src/server.js";

type Plain = Record<string, unknown>;

function isPlain(value: unknown): value is Plain {
  return typeof value === "object" && value !== null && !Array.isArray(value) && !(value instanceof Uint8Array);
}

/** `base` with `overrides` merged in, objects recursively, everything else replaced. */
export function deepMerge(base: Plain, overrides: Plain): Plain {
  const out: Plain = { ...base };
  for (const [name, value] of Object.entries(overrides)) {
    const current = out[name];
    out[name] = isPlain(current) && isPlain(value) ? deepMerge(current, value) : value;
  }
  return out;
}

/** The raw configuration every test service starts from: loopback, ephemeral ports, no logs. */
export function testConfig(overrides: Plain = {}): Plain {
  return deepMerge(
    {
      instanceId: "e2e-test",
      server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0, shutdownGrace: "5s" },
      log: { level: "silent" },
    },
    overrides,
  );
}

/**
 * Starts a service in this process on ephemeral ports. `overrides` is merged into the raw
 * (YAML-shaped) configuration before `parseConfig`. Close it with `service.close()`.
 */
export async function startTestService(overrides: Plain = {}): Promise<RunningService> {
  return startService(parseConfig(testConfig(overrides), "test config"));
}

/** Resolves with `promise`, or rejects naming `what` once `ms` have passed. */
export async function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timed out after ${ms} ms waiting for ${what}`)), ms);
  });
  try {
    return await Promise.race([promise, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

/** The next value of an async iterator, failing the test if none comes within `ms`. */
export async function nextWithin<T>(
  iterator: AsyncIterator<T>,
  ms: number,
  what = "the next stream message",
): Promise<T> {
  const result = await within(iterator.next(), ms, what);
  if (result.done) throw new Error(`the stream ended while waiting for ${what}`);
  return result.value;
}

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
 */
export function createGrpcJsClient<S extends DescService>(
  service: S,
  address: string,
  credentials: grpc.ChannelCredentials = grpc.credentials.createInsecure(),
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
  const raw = new Constructor(address, credentials);

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

/** A Connect transport (HTTP/1.1) to the service's HTTP port. */
export function connectTransport(httpPort: number): Transport {
  return createConnectTransport({ baseUrl: `http://127.0.0.1:${httpPort}`, httpVersion: "1.1" });
}

/** A gRPC-Web transport (HTTP/1.1) to the service's HTTP port. */
export function grpcWebTransport(httpPort: number): Transport {
  return createGrpcWebTransport({ baseUrl: `http://127.0.0.1:${httpPort}`, httpVersion: "1.1" });
}

/** A Connect client (HTTP/1.1) for `service` on the HTTP port. */
export function createConnectClient<S extends DescService>(service: S, httpPort: number): Client<S> {
  return createClient(service, connectTransport(httpPort));
}

/** The error `promise` rejects with, as a ConnectError; fails if it resolves. */
export async function rejection(promise: Promise<unknown>): Promise<ConnectError> {
  try {
    await promise;
  } catch (error) {
    return ConnectError.from(error);
  }
  throw new Error("expected the call to fail, but it succeeded");
}

/** The error a stream ends with (reading at most `maxMessages` first); fails if it ends cleanly. */
export async function streamRejection(
  stream: AsyncIterable<unknown>,
  maxMessages = 10,
  waitMs = 10_000,
): Promise<ConnectError> {
  const iterator = stream[Symbol.asyncIterator]();
  try {
    for (let i = 0; i <= maxMessages; i++) {
      const result = await within(iterator.next(), waitMs, "the stream to fail");
      if (result.done) break;
    }
  } catch (error) {
    return ConnectError.from(error);
  }
  await iterator.return?.();
  throw new Error("expected the stream to fail, but it did not");
}

export { Code };

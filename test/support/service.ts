// Helpers for end-to-end tests: an in-process service on ephemeral ports, and clients for it
// (a real grpc-js client on the gRPC port, Connect / gRPC-Web transports on the HTTP port).
import type { DescService } from "@bufbuild/protobuf";
import { type Client, Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import { createConnectTransport, createGrpcWebTransport } from "@connectrpc/connect-node";
import { parseConfig } from "../../src/config/config.js";
import { type RunningService, startService } from "../../src/server.js";

export { createGrpcJsClient, type GrpcJsClient } from "./grpc-client.js";

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

/** "ok" when the call succeeded, else its status code: for tables of who may do what. */
export async function statusOf(call: Promise<unknown>): Promise<Code | "ok"> {
  try {
    await call;
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

// A property-based fuzz of the running service: every RPC gets random and boundary messages on
// both ports, and the ports get raw garbage (gRPC frames, gRPC-Web bodies, bytes that are not
// HTTP/2). The process never crashes, every call ends with a status that is not INTERNAL or
// UNKNOWN, and the heap returns to its baseline. `FUZZ_RUNS` sets the runs per RPC (npm run fuzz).
import { connect } from "node:net";
import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";
import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import { arbitraryMessage } from "../fuzz/arbitraries.js";
import { connectTransport, createGrpcJsClient, startTestService } from "../support/service.js";

const RUNS = Number(process.env.FUZZ_RUNS ?? 60);
/** Statuses that mean the service failed to handle an input, rather than refusing it. */
const BROKEN = new Set([Code.Internal, Code.Unknown, Code.DataLoss]);

setFlagsFromString("--expose-gc");
const gc = runInNewContext("gc") as () => void;

let service: RunningService;
beforeAll(async () => {
  service = await startTestService({
    limits: { maxNamespaces: 50, maxWatchers: 8 },
    server: { connections: { idleTimeout: "2s" } },
  });
});
afterAll(async () => {
  await service?.close();
});

/** Calls one method with a message and returns its status; streams are read for one message. */
async function callOnce(client: Record<string, unknown>, method: DescMethod, message: unknown): Promise<Code | "ok"> {
  const fn = client[method.localName] as (m: unknown, o: object) => unknown;
  const signal = AbortSignal.timeout(5_000);
  try {
    if (method.methodKind === "server_streaming") {
      for await (const _ of fn(message, { signal }) as AsyncIterable<unknown>) break;
    } else {
      await fn(message, { signal, timeoutMs: 5_000 });
    }
    return "ok";
  } catch (error) {
    return ConnectError.from(error).code;
  }
}

const services: DescService[] = [CacheService, AdminService];

describe.each([
  ["gRPC (grpc-js)", (s: DescService) => createGrpcJsClient(s, `127.0.0.1:${service.grpcPort}`) as unknown],
  ["Connect", (s: DescService) => createClient(s, connectTransport(service.httpPort)) as unknown],
])("random and boundary messages on %s", (_port, clientFor) => {
  for (const desc of services) {
    for (const method of desc.methods) {
      it(`${desc.name}.${method.name}: every answer is a status, never INTERNAL`, async () => {
        const client = clientFor(desc) as Record<string, unknown> & { close?: () => void };
        const seen: string[] = [];
        try {
          await fc.assert(
            fc.asyncProperty(arbitraryMessage(method.input), async (message) => {
              const code = await callOnce(client, method, message);
              seen.push(String(code));
              return !BROKEN.has(code as Code);
            }),
            { numRuns: RUNS },
          );
        } finally {
          client.close?.();
        }
        expect(seen.length).toBeGreaterThanOrEqual(RUNS);
      });
    }
  }
});

describe("raw garbage", () => {
  it("random bytes as the request of every gRPC method: a status, never INTERNAL", async () => {
    const raw = new grpc.Client(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
    const paths = services.flatMap((s) =>
      s.methods.filter((m) => m.methodKind === "unary").map((m) => `/${s.typeName}/${m.name}`),
    );
    try {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...paths), fc.uint8Array({ maxLength: 512 }), async (path, bytes) => {
          const code = await new Promise<number>((resolve) => {
            raw.makeUnaryRequest(
              path,
              (b: Buffer) => b,
              (b: Buffer) => b,
              Buffer.from(bytes),
              { deadline: Date.now() + 5_000 },
              (error) => resolve(error ? error.code : 0),
            );
          });
          return code !== grpc.status.INTERNAL && code !== grpc.status.UNKNOWN;
        }),
        { numRuns: RUNS * 4 },
      );
    } finally {
      raw.close();
    }
  });

  it("random gRPC-Web and Connect bodies on the HTTP port: an HTTP answer, never a 500", async () => {
    const paths = services.flatMap((s) => s.methods.map((m) => `/${s.typeName}/${m.name}`));
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...paths),
        fc.constantFrom("application/grpc-web+proto", "application/proto", "application/json", "text/plain"),
        fc.uint8Array({ maxLength: 512 }),
        async (path, type, body) => {
          const response = await fetch(`http://127.0.0.1:${service.httpPort}${path}`, {
            method: "POST",
            headers: { "content-type": type },
            body,
            signal: AbortSignal.timeout(5_000),
          });
          await response.arrayBuffer();
          return response.status < 500 || response.status === 503;
        },
      ),
      { numRuns: RUNS * 2 },
    );
  });

  it("bytes that are not HTTP/2 on the gRPC port: the connection ends, the port keeps serving", async () => {
    await fc.assert(
      fc.asyncProperty(fc.uint8Array({ minLength: 1, maxLength: 2048 }), async (bytes) => {
        await new Promise<void>((resolve) => {
          const socket = connect(service.grpcPort, "127.0.0.1", () => socket.end(bytes));
          socket.resume();
          socket.on("error", () => {});
          socket.once("close", () => resolve());
          setTimeout(() => {
            socket.destroy();
            resolve();
          }, 5_000).unref();
        });
        return true;
      }),
      { numRuns: RUNS },
    );
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      expect((await client.get({ namespace: "after", key: "k" })).item?.found).toBe(false);
    } finally {
      client.close();
    }
  });

  it("after all of it the heap returns near its baseline, and nothing is left in flight", async () => {
    gc();
    const baseline = process.memoryUsage().heapUsed;
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await fc.assert(
        fc.asyncProperty(arbitraryMessage(CacheService.method.set.input), async (message) => {
          await callOnce(client as unknown as Record<string, unknown>, CacheService.method.set, message);
          return true;
        }),
        { numRuns: RUNS * 2 },
      );
    } finally {
      client.close();
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    gc();
    const grown = process.memoryUsage().heapUsed - baseline;
    // Values cached by the Sets are bounded by what was accepted; the rest must be garbage.
    const cachedBytes = service.manager.layerCounters("l1")?.bytes ?? 0;
    expect(grown - cachedBytes).toBeLessThan(32 * 1024 * 1024);
    expect(service.manager.inFlightCount).toBe(0);
  });
});

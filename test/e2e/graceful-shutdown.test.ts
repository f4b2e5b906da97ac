// End to end: graceful shutdown — calls in flight finish, new ones get UNAVAILABLE, health
// turns NOT_SERVING as soon as close() begins.
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import type { Client } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterEach, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import {
  Code,
  createConnectClient,
  createGrpcJsClient,
  nextWithin,
  rejection,
  startTestService,
  within,
} from "../support/service.js";

const text = (s: string) => new TextEncoder().encode(s);

describe("graceful shutdown", () => {
  const started: RunningService[] = [];
  const clients: { close(): void }[] = [];
  afterEach(async () => {
    for (const c of clients.splice(0)) c.close();
    await Promise.all(started.splice(0).map((s) => s.close()));
  });

  it.each(["grpc-js", "connect"] as const)(
    "close() ends an open WatchStats stream (%s), resolves, and the ports stop answering",
    async (kind) => {
      // A long grace: close() must finish because the stream ended, not because time ran out.
      const instance = await startTestService({ server: { shutdownGrace: "60s" } });
      started.push(instance);
      const grpcAddress = `127.0.0.1:${instance.grpcPort}`;
      let cache: Client<typeof CacheService>;
      if (kind === "grpc-js") {
        const grpcClient = createGrpcJsClient(CacheService, grpcAddress);
        clients.push(grpcClient);
        cache = grpcClient;
      } else {
        cache = createConnectClient(CacheService, instance.httpPort);
      }
      await cache.set({ namespace: "shutdown", key: "k", value: text("v") });

      const iterator = cache
        .watchStats({ interval: durationFromMs(100), namespaces: ["shutdown"] })
        [Symbol.asyncIterator]();
      const first = await nextWithin(iterator, 10_000, "the first snapshot");
      expect(first.snapshot?.namespaces[0]?.namespace).toBe("shutdown");

      const closing = instance.close();
      // The stream ends: cleanly, or with CANCELLED / UNAVAILABLE; any end will do, but it must end.
      const end = (async () => {
        for (let i = 0; i < 1000; i++) {
          const result = await iterator.next();
          if (result.done) return "done";
        }
        return "still streaming";
      })().catch((error: unknown) => `error: ${String(error)}`);
      const outcome = await within(end, 20_000, "the WatchStats stream to end");
      expect(outcome).not.toBe("still streaming");
      await within(closing, 20_000, "close() to resolve");

      // New connections are refused on both ports.
      const fresh = createGrpcJsClient(CacheService, grpcAddress);
      clients.push(fresh);
      const refused = await rejection(fresh.get({ namespace: "shutdown", key: "k" }, { timeoutMs: 5_000 }));
      expect(refused.code).toBe(Code.Unavailable);
      await expect(fetch(`http://127.0.0.1:${instance.httpPort}/healthz`)).rejects.toThrow();
    },
  );

  it("health turns NOT_SERVING as soon as close() begins", async () => {
    const instance = await startTestService({ server: { shutdownGrace: "500ms" } });
    started.push(instance);
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const health = new loaded.grpc.health.v1.Health(
      `127.0.0.1:${instance.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as grpc.Client & {
      Watch(request: { service: string }): grpc.ClientReadableStream<{ status: string }>;
    };
    clients.push(health);
    const watch = health.Watch({ service: "mlcache.v1.CacheService" });
    const statuses: string[] = [];
    let changed: (() => void) | undefined;
    watch.on("data", (message: { status: string }) => {
      statuses.push(message.status);
      changed?.();
    });
    watch.on("error", () => {});
    const waitFor = (n: number) =>
      within(
        new Promise<void>((resolve) => {
          changed = () => statuses.length >= n && resolve();
          changed();
        }),
        10_000,
        `${n} health statuses`,
      );
    await waitFor(1);
    expect(statuses).toEqual(["SERVING"]);
    const closing = instance.close();
    await waitFor(2);
    expect(statuses).toEqual(["SERVING", "NOT_SERVING"]);
    watch.cancel();
    await within(closing, 10_000, "close() to resolve");
  });
});

// Nobody holds the ports for free: silent connections are closed, connections are capped, and
// WatchStats subscribers are capped and share their snapshots.
import { connect, type Socket } from "node:net";
import { Code, ConnectError } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import { createGrpcJsClient, startTestService, within } from "../support/service.js";

/** Opens a TCP connection that never says anything; resolves once connected. */
function silentSocket(port: number): Promise<Socket & { gone: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    socket.resume(); // reads what the server sends (and so notices its close), says nothing
    const gone = new Promise<void>((done) => socket.once("close", () => done()));
    socket.on("error", () => {});
    socket.once("connect", () => resolve(Object.assign(socket, { gone })));
    socket.once("error", reject);
  });
}

describe("silent connections are closed after the idle timeout", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ server: { connections: { idleTimeout: "500ms" } } });
  });
  afterAll(async () => {
    await service?.close();
  });

  for (const port of ["gRPC", "HTTP"] as const) {
    it(`${port} port: connections that never send a byte are dropped`, async () => {
      const sockets = await Promise.all(
        Array.from({ length: 20 }, () => silentSocket(port === "gRPC" ? service.grpcPort : service.httpPort)),
      );
      await within(Promise.all(sockets.map((s) => s.gone)), 10_000, "the server to close the silent connections");
      expect(sockets.every((s) => s.destroyed)).toBe(true);
    });
  }
});

describe("connections are capped", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ server: { connections: { maxConnections: 5, idleTimeout: "60s" } } });
  });
  afterAll(async () => {
    await service?.close();
  });

  for (const port of ["gRPC", "HTTP"] as const) {
    it(`${port} port: past maxConnections a new connection is closed on arrival, the held ones stay`, async () => {
      const address = port === "gRPC" ? service.grpcPort : service.httpPort;
      const held = await Promise.all(Array.from({ length: 5 }, () => silentSocket(address)));
      const extra = await silentSocket(address);
      await within(extra.gone, 5_000, "the server to refuse the connection past the cap");
      expect(held.some((s) => s.destroyed)).toBe(false);
      for (const socket of held) socket.destroy();
      await Promise.all(held.map((s) => s.gone));
    });
  }
});

describe("WatchStats subscribers", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ limits: { maxWatchers: 3 } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("past limits.maxWatchers a subscriber is refused with RESOURCE_EXHAUSTED; a place freed is taken again", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const stops = Array.from({ length: 4 }, () => new AbortController());
    try {
      const streams = stops.map((stop) =>
        client.watchStats({ interval: { seconds: 1n, nanos: 0 } }, { signal: stop.signal })[Symbol.asyncIterator](),
      );
      for (const stream of streams.slice(0, 3)) await within(stream.next(), 5_000, "a snapshot");
      const refused = await streams[3]?.next().catch((e: unknown) => ConnectError.from(e));
      expect(refused).toMatchObject({ code: Code.ResourceExhausted });
      stops[0]?.abort();
      let again: unknown;
      for (let attempt = 0; attempt < 50 && !again; attempt++) {
        const stream = client
          .watchStats({ interval: { seconds: 1n, nanos: 0 } }, { signal: stops[3]?.signal })
          [Symbol.asyncIterator]();
        again = await stream.next().catch(() => undefined);
        if (!again) await new Promise((resolve) => setTimeout(resolve, 100));
      }
      expect(again).toBeDefined();
    } finally {
      for (const stop of stops) stop.abort();
      client.close();
    }
  });

  it("subscribers asking for the same view at once share one snapshot", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const stop = new AbortController();
    try {
      const firsts = await Promise.all(
        Array.from({ length: 3 }, async () => {
          const stream = client.watchStats({ interval: { seconds: 1n, nanos: 0 } }, { signal: stop.signal });
          for await (const message of stream) return message.snapshot?.time;
          return undefined;
        }),
      );
      const times = new Set(firsts.map((t) => `${t?.seconds}.${t?.nanos}`));
      expect(times.size).toBe(1);
    } finally {
      stop.abort();
      client.close();
    }
  });
});

// The TypeScript client against a real server (scripts/clients/run-suites.mjs starts it and sets
// MLCACHE_SERVER=host:grpcPort, MLCACHE_HTTP=http://host:httpPort and MLCACHE_TOKEN, which has every
// right on every namespace). Every CacheService RPC,
// over grpc-js, connect-node's gRPC transport and the Connect protocol browsers use.
import net from "node:net";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { bearerToken, CacheClient, Code, ConnectError, createGrpcJsTransport, Source } from "../src/index.js";

const server = process.env.MLCACHE_SERVER;
const http = process.env.MLCACHE_HTTP;
const token = process.env.MLCACHE_TOKEN;
if (!server || !http || !token) {
  throw new Error(
    "MLCACHE_SERVER, MLCACHE_HTTP and MLCACHE_TOKEN must name a running server: run `npm run test:clients`",
  );
}

const grpcJs = createGrpcJsTransport({ address: server, token });
const interceptors = [bearerToken(token)];
const transports = [
  { name: "grpc-js", transport: grpcJs },
  { name: "connect-node gRPC", transport: createGrpcTransport({ baseUrl: `http://${server}`, interceptors }) },
  {
    name: "Connect (HTTP/1.1, as browsers)",
    transport: createConnectTransport({ baseUrl: http, httpVersion: "1.1", interceptors }),
  },
];
afterAll(() => grpcJs.close());

const run = Date.now().toString(36);

describe.each(transports)("CacheClient over $name", ({ name, transport }) => {
  const cache = new CacheClient({ transport, namespace: "client-ts", timeoutMs: 5000 });
  const k = (key: string) => `${run}:${name}:${key}`;

  it("Set then Get returns the value from L1", async () => {
    const written = await cache.set(k("a"), "hello", { ttlMs: 60_000, tags: ["t1"] });
    expect(written.applied).toBe(true);
    const item = await cache.get(k("a"));
    expect(new TextDecoder().decode(item?.value)).toBe("hello");
    expect(item?.source).toBe(Source.L1);
    expect(item?.version).toBe(written.version);
    expect(item?.tags).toEqual(["t1"]);
  });

  it("Get of a missing key is undefined", async () => {
    expect(await cache.get(k("missing"), { skipLoader: true })).toBeUndefined();
  });

  it("getJson / setJson", async () => {
    await cache.setJson(k("json"), { name: "Ada", n: 1 });
    expect(await cache.getJson<{ name: string; n: number }>(k("json"))).toEqual({ name: "Ada", n: 1 });
  });

  it("BulkGet answers every key: found, not found", async () => {
    await cache.set(k("b1"), "one");
    const results = await cache.bulkGet([k("b1"), k("b2")]);
    expect(results.size).toBe(2);
    const one = results.get(k("b1"));
    expect(one instanceof ConnectError ? one : new TextDecoder().decode(one?.value)).toBe("one");
    expect(results.get(k("b2"))).toBeUndefined();
  });

  it("Invalidate by key, tag and prefix", async () => {
    await cache.set(k("i1"), "x");
    await cache.set(k("i2"), "x", { tags: [`tag-${name}`] });
    await cache.set(k("p:1"), "x");
    const byKey = await cache.invalidate({ keys: [k("i1")] });
    expect(byKey.keysRemoved).toBe(1);
    await cache.invalidate({ tags: [`tag-${name}`] });
    await cache.invalidate({ prefix: k("p:") });
    for (const key of ["i1", "i2", "p:1"]) expect(await cache.get(k(key))).toBeUndefined();
  });

  it("getOrSet calls the fallback once, then reads the cache", async () => {
    let calls = 0;
    const fallback = async () => {
      calls++;
      return "computed";
    };
    const [a, b] = await Promise.all([cache.getOrSet(k("gos"), fallback), cache.getOrSet(k("gos"), fallback)]);
    expect(new TextDecoder().decode(a)).toBe("computed");
    expect(b).toEqual(a);
    expect(new TextDecoder().decode(await cache.getOrSet(k("gos"), fallback))).toBe("computed");
    expect(calls).toBe(1);
    expect(await cache.getOrSetJson(k("gos-json"), () => ({ ok: true }))).toEqual({ ok: true });
  });

  it("WatchStats streams snapshots until the signal aborts", async () => {
    await cache.get(k("a"));
    const stop = new AbortController();
    const snapshots = [];
    for await (const response of cache.watchStats({
      intervalMs: 100,
      namespaces: ["client-ts"],
      signal: stop.signal,
    })) {
      snapshots.push(response.snapshot);
      if (snapshots.length === 2) stop.abort();
    }
    expect(snapshots).toHaveLength(2);
    const stats = snapshots[1]?.namespaces.find((n) => n.namespace === "client-ts");
    expect(stats?.requests).toBeGreaterThan(0n);
  });

  it("Inspect reports per-key statistics", async () => {
    await cache.set(k("insp"), "v");
    const { keyStats } = await cache.inspect({ namespace: "client-ts", keys: [k("insp")], hotKeys: 10 });
    expect(keyStats[0]?.key).toBe(k("insp"));
    expect(keyStats[0]?.layers.some((l) => l.present)).toBe(true);
  });

  it("errors carry gRPC codes: an empty key is INVALID_ARGUMENT", async () => {
    const error = await cache.get("").catch((e: unknown) => ConnectError.from(e));
    expect(error).toBeInstanceOf(ConnectError);
    expect((error as ConnectError).code).toBe(Code.InvalidArgument);
    await expect(cache.invalidate({})).rejects.toMatchObject({ code: Code.InvalidArgument });
    await expect(cache.watchStats({ intervalMs: 1 }).next()).rejects.toMatchObject({ code: Code.InvalidArgument });
  });
});

describe("deadlines and retries", () => {
  let silent: net.Server;
  let silentPort = 0;
  beforeAll(async () => {
    // Accepts connections and never answers: a hung server.
    silent = net.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    silentPort = (silent.address() as net.AddressInfo).port;
  });
  afterAll(() => silent.close());

  it("a call past its deadline fails with DEADLINE_EXCEEDED", async () => {
    const transport = createGrpcJsTransport({ address: `127.0.0.1:${silentPort}` });
    const cache = new CacheClient({ transport, timeoutMs: 200, retry: { maxAttempts: 1 } });
    const started = Date.now();
    await expect(cache.get("k")).rejects.toMatchObject({ code: Code.DeadlineExceeded });
    expect(Date.now() - started).toBeLessThan(3000);
    transport.close();
  });

  it("UNAVAILABLE is retried with backoff, then reported", async () => {
    const closed = net.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as net.AddressInfo).port;
    await new Promise((resolve) => closed.close(resolve));
    const inner = createGrpcTransport({ baseUrl: `http://127.0.0.1:${port}` });
    let attempts = 0;
    const counting = {
      unary: ((...args: Parameters<typeof inner.unary>) => {
        attempts++;
        return inner.unary(...args);
      }) as typeof inner.unary,
      stream: inner.stream.bind(inner),
    };
    const cache = new CacheClient({ transport: counting, retry: { maxAttempts: 4, initialBackoffMs: 10 } });
    await expect(cache.get("k")).rejects.toMatchObject({ code: Code.Unavailable });
    expect(attempts).toBe(4);
  });
});

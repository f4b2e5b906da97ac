// Go origin → TypeScript server → TypeScript client. scripts/clients/run-suites.mjs builds and
// starts clients/go/cmd/example-loader (a LoaderService written in Go, backed by an in-memory
// map that holds one key from the start, `-seed client-loader/<MLCACHE_LOADER_SEEDED>`), then
// starts the server with a config file whose namespace `client-loader` has
// `loader: { grpc: { target: <the Go loader> } }`, and sets MLCACHE_LOADER_NAMESPACE,
// MLCACHE_LOADER_TARGET (its gRPC address), MLCACHE_LOADER_ADMIN (its HTTP API: GET /calls,
// GET /items/{namespace}/{key}) and MLCACHE_LOADER_SEEDED (key=value it was seeded with).
import { createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { LoaderService } from "../gen/mlcache/v1/loader_pb.js";
import { CacheClient, createGrpcJsTransport, Source, WriteMode } from "../src/index.js";

const server = process.env.MLCACHE_SERVER;
const namespace = process.env.MLCACHE_LOADER_NAMESPACE;
const target = process.env.MLCACHE_LOADER_TARGET;
const admin = process.env.MLCACHE_LOADER_ADMIN;
const [seededKey, seededValue] = process.env.MLCACHE_LOADER_SEEDED?.split("=") ?? [];
const token = process.env.MLCACHE_TOKEN;
if (!server || !token || !namespace || !target || !admin || !seededKey) {
  throw new Error(
    `the Go LoaderService is not running (MLCACHE_SERVER, MLCACHE_TOKEN and MLCACHE_LOADER_{NAMESPACE,TARGET,ADMIN,SEEDED} must be set by \`npm run test:clients\`)${
      process.env.MLCACHE_LOADER_ERROR ? `: ${process.env.MLCACHE_LOADER_ERROR}` : ""
    }`,
  );
}

const transport = createGrpcJsTransport({ address: server, token });
afterAll(() => transport.close());
const cache = new CacheClient({ transport, namespace, timeoutMs: 10_000 });
/** The Go loader itself, called directly over gRPC to put values into its map (Store). */
const origin = createClient(LoaderService, createGrpcTransport({ baseUrl: `http://${target}` }));

const run = Date.now().toString(36);
const k = (key: string) => `${run}:${key}`;
const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

/** What the Go loader says it was asked for: loads per "namespace/key". */
async function loadsOf(key: string): Promise<number> {
  const response = await fetch(`${admin}/calls`);
  expect(response.status).toBe(200);
  const calls = (await response.json()) as { loaded: Record<string, number> | null };
  return calls.loaded?.[`${namespace}/${key}`] ?? 0;
}

describe(`a namespace whose loader is a LoaderService written in Go (${target})`, () => {
  it("get reads through to the Go origin: the value from its map, source LOADER, then L1", async () => {
    const item = await cache.get(seededKey);
    expect(text(item?.value)).toBe(seededValue);
    expect(item?.source).toBe(Source.LOADER);
    expect((await cache.get(seededKey))?.source).toBe(Source.L1);
    expect(await loadsOf(seededKey)).toBe(1);
  });

  it("a value the test puts into the Go map (its Store RPC) is read through, with its tags and version", async () => {
    await origin.store({
      namespace,
      items: [{ key: k("user:1"), value: new TextEncoder().encode('{"name":"Ada"}'), tags: ["team:7"], version: 42n }],
    });
    expect(await loadsOf(k("user:1"))).toBe(0);
    const item = await cache.get(k("user:1"));
    expect(item?.source).toBe(Source.LOADER);
    expect(item?.tags).toEqual(["team:7"]);
    expect(item?.version).toBe(42n);
    expect(await cache.getJson<{ name: string }>(k("user:1"))).toEqual({ name: "Ada" });
    expect(await loadsOf(k("user:1"))).toBe(1);
  });

  it("a key the Go origin lacks is not found, and the origin was asked once", async () => {
    expect(await cache.get(k("nobody"))).toBeUndefined();
    expect(await cache.get(k("nobody"))).toBeUndefined(); // cached negatively
    expect(await loadsOf(k("nobody"))).toBe(1);
  });

  it("bulkGet loads misses from the Go origin", async () => {
    await origin.store({
      namespace,
      items: [
        { key: k("b1"), value: new TextEncoder().encode("one") },
        { key: k("b2"), value: new TextEncoder().encode("two") },
      ],
    });
    const results = await cache.bulkGet([k("b1"), k("b2"), k("b3")]);
    expect(text((results.get(k("b1")) as { value: Uint8Array }).value)).toBe("one");
    expect(text((results.get(k("b2")) as { value: Uint8Array }).value)).toBe("two");
    expect(results.get(k("b3"))).toBeUndefined();
    for (const key of ["b1", "b2", "b3"]) expect(await loadsOf(k(key))).toBe(1);
  });

  it("a WRITE_THROUGH set reaches the Go origin (Store) before it is acknowledged", async () => {
    const written = await cache.set(k("w1"), "Grace", { writeMode: WriteMode.WRITE_THROUGH });
    expect(written.applied).toBe(true);
    const stored = await fetch(`${admin}/items/${namespace}/${encodeURIComponent(k("w1"))}`);
    expect(stored.status).toBe(200);
    expect(await stored.text()).toBe("Grace");
  });
});

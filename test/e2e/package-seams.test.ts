// The package's seams (package.json `exports`): the root is the library only, and importing it
// in a fresh Node process loads none of the service's dependencies.
import { execFileSync } from "node:child_process";
import { join } from "node:path";
import { beforeAll, describe, expect, it } from "vitest";

const root = join(import.meta.dirname, "..", "..");
const SERVICE_PACKAGES = ["@grpc/grpc-js", "kafkajs", "ioredis", "prom-client", "@connectrpc/connect-node", "pino"];

/** The npm packages a fresh Node process resolves while importing `specifier` (self-referenced). */
function packagesLoadedBy(specifier: string): string[] {
  const script = `
    import { registerHooks } from "node:module";
    const seen = new Set();
    registerHooks({ resolve(specifier, context, next) { const r = next(specifier, context); seen.add(r.url); return r; } });
    await import(${JSON.stringify(specifier)});
    process.stdout.write(JSON.stringify([...seen]));`;
  const out = execFileSync(process.execPath, ["--input-type=module", "-e", script], { cwd: root, encoding: "utf8" });
  const packages = new Set<string>();
  for (const url of JSON.parse(out) as string[]) {
    const match = /\/node_modules\/((?:@[^/]+\/)?[^/]+)\//.exec(url);
    if (match?.[1]) packages.add(match[1]);
  }
  return [...packages].sort();
}

beforeAll(() => {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, stdio: "pipe", timeout: 120_000 });
});

describe("package exports", () => {
  it("the root (the library) loads no gRPC, Kafka, Redis, Prometheus or logging package", () => {
    const loaded = packagesLoadedBy("multilayer-cache");
    for (const name of SERVICE_PACKAGES) expect(loaded).not.toContain(name);
  });

  it("./redis loads ioredis and nothing of the service", () => {
    const loaded = packagesLoadedBy("multilayer-cache/redis");
    expect(loaded).toContain("ioredis");
    for (const name of SERVICE_PACKAGES.filter((n) => n !== "ioredis")) expect(loaded).not.toContain(name);
  });

  it("./server brings the service (the check above can see what it forbids)", () => {
    const loaded = packagesLoadedBy("multilayer-cache/server");
    for (const name of SERVICE_PACKAGES) expect(loaded).toContain(name);
  });

  it("./testing and ./events export what they document", async () => {
    const testing = await import("../../src/exports/testing.js");
    expect(Object.keys(testing).sort()).toEqual([
      "ChaosLayer",
      "SharedMemoryLayer",
      "SharedMemoryStore",
      "layerContract",
    ]);
    const events = await import("../../src/exports/events.js");
    expect(events.InvalidationEventSchema.typeName).toBe("mlcache.v1.InvalidationEvent");
  });
});

// `mlcache top` in a real terminal: tmux runs it against a service with traffic, and the
// captured screen must show the live numbers; `q` quits.
import { execFileSync } from "node:child_process";
import { randomUUID } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import { createGrpcJsClient, type GrpcJsClient, startTestService } from "../support/service.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const session = `mlcache-top-${randomUUID().slice(0, 8)}`;

function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("MLCACHE_")) env[name] = value;
  env.PATH = `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  return env;
}

const tmux = (...args: string[]) => execFileSync("tmux", args, { encoding: "utf8", env: childEnv(), timeout: 10_000 });
const sessionAlive = () => {
  try {
    tmux("has-session", "-t", session);
    return true;
  } catch {
    return false;
  }
};

/** Polls the pane until `matches` holds (bounded); returns the last screen. */
async function screenUntil(matches: (screen: string) => boolean, ms = 20_000): Promise<string> {
  const deadline = Date.now() + ms;
  let screen = "";
  while (Date.now() < deadline) {
    screen = tmux("capture-pane", "-p", "-t", session);
    if (matches(screen)) return screen;
    await sleep(200);
  }
  throw new Error(`the screen never showed what was expected within ${ms} ms; last screen:\n${screen}`);
}

let service: RunningService;
let client: GrpcJsClient<typeof CacheService>;
let traffic = true;
let trafficDone: Promise<void> = Promise.resolve();

beforeAll(async () => {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, env: childEnv(), stdio: "pipe", timeout: 120_000 });
  service = await startTestService();
  client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
  const value = new TextEncoder().encode("v");
  for (const key of ["hottest-key", "warm-1", "warm-2"]) await client.set({ namespace: "storefront", key, value });
  trafficDone = (async () => {
    while (traffic) {
      await Promise.all([
        ...Array.from({ length: 8 }, () => client.get({ namespace: "storefront", key: "hottest-key" })),
        client.get({ namespace: "storefront", key: "warm-1" }),
        client.get({ namespace: "storefront", key: "absent" }),
      ]);
      await sleep(20);
    }
  })();
});

afterAll(async () => {
  traffic = false;
  await trafficDone;
  if (sessionAlive()) tmux("kill-session", "-t", session);
  client?.close();
  await service?.close();
});

describe("mlcache top", () => {
  it("shows namespace, layer hit ratio, rate and hot key live, and quits on q", async () => {
    const command = `cd ${root} && node bin/mlcache.js top --server 127.0.0.1:${service.grpcPort} --interval 300ms --hot-keys 3`;
    tmux("new-session", "-d", "-s", session, "-x", "120", "-y", "40", command);
    const screen = await screenUntil(
      (s) => /storefront\s+L1\s+\d+\.\d%\s+[1-9]\d*/.test(s) && s.includes("hottest-key ("),
    );
    expect(screen).toContain("mlcache top");
    expect(screen).toMatch(/NAMESPACE\s+LAYER\s+HIT%/);
    // Eight of every ten Gets hit the hot key, one a warm key, one a missing key.
    const ratio = Number(/storefront\s+L1\s+(\d+\.\d)%/.exec(screen)?.[1]);
    expect(ratio).toBeGreaterThan(80);
    expect(ratio).toBeLessThan(100);
    expect(screen).toMatch(/storefront\s+hottest-key \(\d+\)/);

    tmux("send-keys", "-t", session, "q");
    const deadline = Date.now() + 10_000;
    while (sessionAlive() && Date.now() < deadline) await sleep(100);
    expect(sessionAlive()).toBe(false);
  });
});

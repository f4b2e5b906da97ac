// The `mlcache` command, built and run as a user runs it, against a service in this process.
import { execFile, execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { RunningService } from "../../src/server.js";
import { startTestService } from "../support/service.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const bin = join(root, "bin", "mlcache.js");

/** The environment for child processes: Node 24 first on PATH, no MLCACHE_* settings leaking in. */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [name, value] of Object.entries(process.env)) if (!name.startsWith("MLCACHE_")) env[name] = value;
  env.PATH = `${join(root, "node_modules", ".bin")}:${process.env.PATH ?? ""}`;
  return env;
}

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs `node bin/mlcache.js ARGS` asynchronously (the service answering it lives in this
 * process, so a synchronous spawn would deadlock), with a bounded wait.
 */
function mlcache(args: string[], input?: string, timeoutMs = 30_000): Promise<Run> {
  return new Promise((resolve, reject) => {
    const child = execFile(
      process.execPath,
      [bin, ...args],
      { cwd: root, env: childEnv(), timeout: timeoutMs, encoding: "utf8" },
      (error, stdout, stderr) => {
        if (error && typeof error.code !== "number") {
          const why = error.killed
            ? `was still running after ${timeoutMs} ms`
            : `did not exit normally: ${error.message}`;
          reject(new Error(`mlcache ${args.join(" ")} ${why}\nstdout: ${stdout}\nstderr: ${stderr}`));
          return;
        }
        resolve({ code: error ? (error.code as number) : 0, stdout, stderr });
      },
    );
    if (input !== undefined) child.stdin?.end(input);
    else child.stdin?.end();
  });
}

/** The single JSON line a command printed. */
function jsonLine(run: Run): Record<string, unknown> {
  const lines = run.stdout.split("\n").filter((l) => l.length > 0);
  expect(lines, `stdout: ${run.stdout}\nstderr: ${run.stderr}`).toHaveLength(1);
  return JSON.parse(lines[0] as string) as Record<string, unknown>;
}

let service: RunningService;
let server: string;
let tmp: string;

beforeAll(async () => {
  execFileSync("npm", ["run", "build", "--silent"], { cwd: root, env: childEnv(), stdio: "pipe", timeout: 120_000 });
  service = await startTestService();
  server = `127.0.0.1:${service.grpcPort}`;
  tmp = mkdtempSync(join(tmpdir(), "mlcache-cli-"));
});

afterAll(async () => {
  await service?.close();
  if (tmp) rmSync(tmp, { recursive: true, force: true });
});

describe("client commands", () => {
  const ns = "cli";

  it("set then get prints the item as JSON", async () => {
    const set = await mlcache([
      "set",
      "user:1",
      "hello cli",
      "-n",
      ns,
      "--ttl",
      "30s",
      "--tag",
      "users",
      "--server",
      server,
    ]);
    expect(set.code, set.stderr).toBe(0);
    const written = jsonLine(set);
    expect(written.applied).toBe(true);
    expect(BigInt(written.version as string)).toBeGreaterThan(0n);

    const get = await mlcache(["get", "user:1", "-n", ns, "--server", server]);
    expect(get.code, get.stderr).toBe(0);
    const item = jsonLine(get);
    expect(item).toMatchObject({
      key: "user:1",
      found: true,
      value: "hello cli",
      stale: false,
      version: written.version,
      tags: ["users"],
    });
    expect(String(item.source)).toMatch(/L1/);
    expect(item.ttlRemainingMs).toBeGreaterThan(0);
    // --ttl 30s plus at most the default 10% jitter.
    expect(item.ttlRemainingMs).toBeLessThanOrEqual(33_000);

    // The value really is in the service: read it in-process too.
    const lookup = await service.manager.get(ns, "user:1");
    expect(new TextDecoder().decode(lookup.value)).toBe("hello cli");
  });

  it("get --raw prints the bytes; set - reads the value from stdin", async () => {
    const set = await mlcache(["set", "from-stdin", "-", "-n", ns, "--server", server], "line one\nline two\n");
    expect(set.code, set.stderr).toBe(0);
    const raw = await mlcache(["get", "from-stdin", "--raw", "-n", ns, "--server", server]);
    expect(raw.code, raw.stderr).toBe(0);
    expect(raw.stdout).toBe("line one\nline two\n");
  });

  it("get of a missing key exits 3 and says so on stderr", async () => {
    const get = await mlcache(["get", "nobody", "-n", ns, "--server", server]);
    expect(get.code).toBe(3);
    expect(get.stdout).toBe("");
    expect(get.stderr).toContain("not found: nobody");
  });

  it("invalidate --key removes the key", async () => {
    await mlcache(["set", "doomed", "x", "-n", ns, "--server", server]);
    const invalidate = await mlcache(["invalidate", "--key", "doomed", "-n", ns, "--server", server]);
    expect(invalidate.code, invalidate.stderr).toBe(0);
    expect(jsonLine(invalidate)).toMatchObject({ keysRemoved: 1, published: false });
    const get = await mlcache(["get", "doomed", "-n", ns, "--server", server]);
    expect(get.code).toBe(3);
  });

  it("invalidate --tag and --prefix", async () => {
    await mlcache(["set", "a:1", "1", "-n", ns, "--tag", "group-a", "--server", server]);
    await mlcache(["set", "b:1", "1", "-n", ns, "--server", server]);
    await mlcache(["set", "c:1", "1", "-n", ns, "--server", server]);
    expect((await mlcache(["invalidate", "--tag", "group-a", "-n", ns, "--server", server])).code).toBe(0);
    expect((await mlcache(["invalidate", "--prefix", "b:", "-n", ns, "--server", server])).code).toBe(0);
    expect((await mlcache(["get", "a:1", "-n", ns, "--server", server])).code).toBe(3);
    expect((await mlcache(["get", "b:1", "-n", ns, "--server", server])).code).toBe(3);
    expect((await mlcache(["get", "c:1", "-n", ns, "--server", server])).code).toBe(0);
  });

  it("stats (without --watch) prints one snapshot with the namespace's counters and exits", async () => {
    const stats = await mlcache(["stats", "-n", ns, "--server", server], undefined, 15_000);
    expect(stats.code, stats.stderr).toBe(0);
    const message = jsonLine(stats) as {
      snapshot?: { instanceId?: string; namespaces?: { namespace: string; requests?: string }[] };
    };
    expect(message.snapshot?.instanceId).toBe("e2e-test");
    const mine = message.snapshot?.namespaces ?? [];
    expect(mine.map((n) => n.namespace)).toEqual([ns]);
    expect(Number(mine[0]?.requests)).toBeGreaterThan(0);
  });

  it("a refused request exits 1 with the status and message on stderr", async () => {
    const get = await mlcache(["get", "", "-n", ns, "--server", server]);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain("INVALID_ARGUMENT");
    expect(get.stderr).toContain("key must not be empty");
  });

  it("an unreachable server is reported, not hung on", async () => {
    // A port nothing listens on: the service's own HTTP port speaks HTTP/1.1 only, so use a
    // closed one by starting and stopping a service.
    const gone = await startTestService();
    const port = gone.grpcPort;
    await gone.close();
    const get = await mlcache(["get", "k", "--server", `127.0.0.1:${port}`]);
    expect(get.code).toBe(1);
    expect(get.stderr).toContain("UNAVAILABLE");
  });
});

describe("check-config", () => {
  it("prints the effective configuration with the Redis password redacted", async () => {
    const file = join(tmp, "with-secret.yaml");
    writeFileSync(
      file,
      [
        "server:",
        "  grpcPort: 50999",
        "redis:",
        "  url: redis://cacheuser:Sup3rS3cretPw@redis.internal:6379/2",
        "namespaces:",
        "  products:",
        "    l1:",
        "      ttl: 90s",
        "",
      ].join("\n"),
    );
    const run = await mlcache(["check-config", "--config", file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toContain("<redacted>");
    expect(run.stdout).not.toContain("Sup3rS3cretPw");
    expect(run.stdout).toContain("redis://cacheuser:<redacted>@redis.internal:6379/2");
    expect(run.stdout).toContain("grpcPort: 50999");
    expect(run.stdout).toContain("products:");
  });

  it("a password field is redacted too", async () => {
    const file = join(tmp, "password-field.yaml");
    writeFileSync(file, "redis:\n  url: redis://redis.internal:6379\n  password: An0therSecret\n");
    const run = await mlcache(["check-config", "--config", file]);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).not.toContain("An0therSecret");
    expect(run.stdout).toMatch(/password: <redacted>/);
  });

  it("an invalid value exits 2 naming the field", async () => {
    const file = join(tmp, "bad-port.yaml");
    writeFileSync(file, 'server: { grpcPort: "abc" }\n');
    const run = await mlcache(["check-config", "--config", file]);
    expect(run.code).toBe(2);
    expect(run.stdout).toBe("");
    expect(run.stderr).toContain("server.grpcPort");
  });

  it("a missing config file exits 2 naming the file", async () => {
    const file = join(tmp, "does-not-exist.yaml");
    const run = await mlcache(["check-config", "--config", file]);
    expect(run.code).toBe(2);
    expect(run.stderr).toContain(file);
  });
});

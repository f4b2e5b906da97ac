#!/usr/bin/env node
// `npm test`: type check, proto lint, real services, vitest — and later other languages'
// client suites. Every step reports passed/failed counts; the last line of output is always
// `N passed, N failed` over all steps, and the exit code is non-zero if anything failed.
//
//   npm test                                   everything
//   npm test -- test/integration/kafka.test.ts extra args go to vitest (e.g. a file filter)
//
// Services: started through scripts/services.mjs unless the environment already names them
// (MLCACHE_REDIS_URL or REDIS_URL, MLCACHE_REDIS_CLUSTER_NODES, MLCACHE_KAFKA_BROKERS or
// KAFKA_BROKERS); whatever this run started, it stops again, also on Ctrl-C / SIGTERM.

import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parse as parseYaml } from "yaml";
import { down, ensureAptTools, PIECE_ENV, PIECES, ROOT, running, up } from "./services.mjs";

const BIN = path.join(ROOT, "node_modules", ".bin");
const RESULTS_DIR = path.join(ROOT, ".cache", "test-results");
const vitestArgs = process.argv.slice(2);

/**
 * The steps, in order. Adding a suite (Go, Python, Java clients …) is one entry:
 *   name    shown in the report
 *   when    optional; the step is skipped (and not counted) when it returns false
 *   run     async (ctx) => ({ passed, failed }); ctx.env holds the MLCACHE_* service variables
 * A step that only succeeds or fails counts as 1 passed or 1 failed (see `command`).
 */
const steps = [
  { name: "type check (tsc --noEmit)", run: () => command("tsc", ["-p", "tsconfig.json", "--noEmit"]) },
  {
    name: "proto lint (buf lint)",
    when: () => fs.existsSync(path.join(ROOT, "buf.yaml")),
    run: () => command("buf", ["lint"]),
  },
  { name: "lint (biome check)", run: () => command("biome", ["check", "."]) },
  {
    // The plugins `buf generate` needs for Go, Python and Java, and the client suites' deps.
    name: "client toolchains (scripts/clients/install.sh)",
    run: async () =>
      (await exec("sh", ["scripts/clients/install.sh"])) === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 },
  },
  { name: "generated code matches `buf generate`", run: () => generatedCodeIsCurrent() },
  {
    // Also when the services come from the environment: the dashboard test drives Debian's chromium.
    name: "apt tools (redis, kcat, openssl, chromium)",
    run: async () => {
      try {
        await ensureAptTools();
        return { passed: 1, failed: 0 };
      } catch (err) {
        console.error(`apt tools could not be installed: ${err.message}`);
        return { passed: 0, failed: 1 };
      }
    },
  },
  { name: "start services", run: (ctx) => startServices(ctx) },
  { name: "vitest (unit + integration)", run: (ctx) => vitest(ctx) },
  { name: "client suites (TypeScript, Go, Python, Java)", run: () => clientSuites() },
];

// ─────────────────────────── step helpers ───────────────────────────

let current; // the child process of the running step, so a signal can reach it
let interrupted; // the signal that asked us to stop, if any

/** Runs a child with inherited stdio; resolves with its exit code (signals map to 128+n). */
function exec(cmd, args, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, {
      cwd: ROOT,
      stdio: "inherit",
      // The project's pinned tools (and Node 24, for their `#!/usr/bin/env node`) come first.
      env: { ...process.env, ...env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}` },
    });
    current = child;
    child.on("error", (err) => {
      console.error(`cannot run ${cmd}: ${err.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      current = undefined;
      resolve(code ?? 128 + (signal === "SIGINT" ? 2 : signal === "SIGKILL" ? 9 : 15));
    });
  });
}

/** A pass/fail step: exit code 0 is 1 passed, anything else 1 failed. */
async function command(cmd, args, env) {
  const code = await exec(path.join(BIN, cmd), args, env);
  return code === 0 ? { passed: 1, failed: 0 } : { passed: 0, failed: 1 };
}

/**
 * Runs `buf generate` into a scratch directory and compares it with the committed output, so
 * a proto change without regenerated code (or a hand edit of generated code) fails the run.
 */
async function generatedCodeIsCurrent() {
  const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "mlcache-gen-"));
  try {
    const code = await exec(path.join(BIN, "buf"), ["generate", "-o", scratch]);
    if (code !== 0) return { passed: 0, failed: 1 };
    const differences = [];
    /** Files under `dir`, as paths relative to `base`. */
    const walk = (dir, base) =>
      fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const full = path.join(dir, e.name);
        return e.isDirectory() ? walk(full, base) : [path.relative(base, full)];
      });
    const generated = walk(scratch, scratch);
    for (const file of generated) {
      const committed = path.join(ROOT, file);
      if (!fs.existsSync(committed) || !fs.readFileSync(committed).equals(fs.readFileSync(path.join(scratch, file)))) {
        differences.push(file);
      }
    }
    // Files left over from a proto or message that no longer exists, in the output folders
    // (every plugin's `out` in buf.gen.yaml holds generated code only).
    const template = parseYaml(fs.readFileSync(path.join(ROOT, "buf.gen.yaml"), "utf8"));
    const outputs = [...new Set(template.plugins.map((p) => path.normalize(p.out)))];
    for (const out of outputs) {
      if (!fs.existsSync(path.join(ROOT, out))) continue;
      for (const file of walk(path.join(ROOT, out), ROOT)) {
        if (!generated.includes(file)) differences.push(`${file} (not generated any more)`);
      }
    }
    if (differences.length === 0) return { passed: 1, failed: 0 };
    console.error(`generated code differs from \`buf generate\`; run \`npm run generate\` and commit:`);
    for (const d of differences) console.error(`  ${d}`);
    return { passed: 0, failed: 1 };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

/** Pieces whose connection info the caller already provides (CI services, a dev's own). */
function providedByEnvironment(ctx) {
  const e = process.env;
  const given = {
    redis: e.MLCACHE_REDIS_URL || e.REDIS_URL,
    cluster: e.MLCACHE_REDIS_CLUSTER_NODES,
    kafka: e.MLCACHE_KAFKA_BROKERS || e.KAFKA_BROKERS,
  };
  if (given.redis) ctx.env.MLCACHE_REDIS_URL = given.redis;
  if (given.cluster) ctx.env.MLCACHE_REDIS_CLUSTER_NODES = given.cluster;
  if (given.kafka) ctx.env.MLCACHE_KAFKA_BROKERS = given.kafka;
  return PIECES.filter((p) => given[p]);
}

/**
 * Counted as a step only when it fails (1 failed): a healthy setup is not a test. On failure
 * the next steps still run, so unit tests report and integration tests fail with a clear message.
 */
async function startServices(ctx) {
  const provided = providedByEnvironment(ctx);
  const needed = PIECES.filter((p) => !provided.includes(p));
  if (provided.length) console.error(`using ${provided.join(", ")} from the environment`);
  if (needed.length === 0) return { passed: 0, failed: 0 };
  // Decide ownership before starting: pieces someone else already runs (`scripts/services up`
  // in another terminal) are reused and left running; the rest, even if start-up fails half
  // way, are ours to stop.
  const before = running(needed);
  ctx.started.push(...needed.filter((p) => !before.includes(p)));
  try {
    const { env } = await up(needed);
    for (const p of needed) Object.assign(ctx.env, pick(env, p));
    for (const [k, v] of Object.entries(ctx.env)) console.error(`  ${k}=${/PASSWORD/.test(k) ? "<redacted>" : v}`);
    return { passed: 0, failed: 0 };
  } catch (err) {
    console.error(`services failed to start: ${err.message}`);
    return { passed: 0, failed: 1 };
  }
}

function pick(env, piece) {
  return Object.fromEntries(PIECE_ENV[piece].filter((name) => name in env).map((name) => [name, env[name]]));
}

/** vitest with its usual output, plus a JSON report we count from. */
async function vitest(ctx) {
  const report = path.join(RESULTS_DIR, "vitest.json");
  fs.mkdirSync(RESULTS_DIR, { recursive: true });
  fs.rmSync(report, { force: true }); // never count a previous run's results
  const code = await exec(
    path.join(BIN, "vitest"),
    ["run", "--reporter=default", "--reporter=json", `--outputFile.json=${report}`, ...vitestArgs],
    ctx.env,
  );
  let result;
  try {
    result = JSON.parse(fs.readFileSync(report, "utf8"));
  } catch {
    console.error(`vitest exited with ${code} and wrote no report`);
    return { passed: 0, failed: 1 };
  }
  const passed = result.numPassedTests;
  // A file that fails outside any test (import error, failing hook) has no failed test of its own.
  const brokenFiles = result.testResults.filter(
    (f) => f.status === "failed" && !f.assertionResults.some((a) => a.status === "failed"),
  ).length;
  let failed = result.numFailedTests + brokenFiles;
  // Unhandled errors or "no test files found" fail the run without failing a test.
  if (code !== 0 && failed === 0) failed = 1;
  return { passed, failed };
}

/**
 * The four generated clients' own test suites against a real server (scripts/clients/
 * run-suites.mjs starts it); its last line is `N passed, N failed`.
 */
async function clientSuites() {
  const child = spawn(process.execPath, ["scripts/clients/run-suites.mjs"], {
    cwd: ROOT,
    env: { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}` },
    stdio: ["ignore", "pipe", "inherit"],
  });
  current = child;
  let tail = "";
  child.stdout.on("data", (data) => {
    process.stdout.write(data);
    tail = (tail + data).slice(-500);
  });
  const code = await new Promise((resolve) => {
    child.on("error", () => resolve(127));
    child.on("exit", (exitCode) => resolve(exitCode ?? 1));
  });
  current = undefined;
  const counts = tail.match(/(\d+) passed, (\d+) failed\s*$/);
  if (counts) return { passed: Number(counts[1]), failed: Number(counts[2]) };
  return { passed: 0, failed: code === 0 ? 0 : 1 };
}

// ─────────────────────────────── main ───────────────────────────────

function onSignal(signal) {
  if (interrupted) {
    // Second signal: the user insists. Leave services for `scripts/services down`.
    console.error(`\n${signal} again: exiting now; run scripts/services down to clean up`);
    process.exit(128 + (signal === "SIGINT" ? 2 : 15));
  }
  interrupted = signal;
  console.error(`\n${signal}: stopping after the current step, then cleaning up`);
  // On Ctrl-C the terminal already signalled the child (same process group); SIGTERM sent to us
  // alone must be passed on.
  current?.kill(signal);
}

async function main() {
  process.on("SIGINT", onSignal);
  process.on("SIGTERM", onSignal);
  if (Number(process.versions.node.split(".")[0]) < 24) {
    console.error(`warning: Node ${process.version}; this project pins Node 24 (node_modules/.bin/node)`);
  }

  const ctx = { env: {}, started: [] };
  const results = [];
  try {
    for (const step of steps) {
      if (interrupted) break;
      if (step.when && !step.when()) {
        console.error(`\n── ${step.name}: skipped`);
        continue;
      }
      console.error(`\n── ${step.name}`);
      const t0 = Date.now();
      let counts;
      try {
        counts = await step.run(ctx);
      } catch (err) {
        console.error(err?.stack ?? String(err));
        counts = { passed: 0, failed: 1 };
      }
      results.push({ name: step.name, ...counts });
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.error(`── ${step.name}: ${counts.passed} passed, ${counts.failed} failed (${secs}s)`);
    }
  } finally {
    if (ctx.started.length) {
      console.error(`\n── stopping ${ctx.started.join(", ")}`);
      await down(ctx.started).catch((err) => console.error(`services failed to stop: ${err.message}`));
    }
  }

  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0) + (interrupted ? 1 : 0);
  if (interrupted) console.error(`interrupted by ${interrupted}`);
  console.log(`${passed} passed, ${failed} failed`);
  return interrupted ? 128 + (interrupted === "SIGINT" ? 2 : 15) : failed > 0 ? 1 : 0;
}

main().then(
  (code) => process.exit(code),
  (err) => {
    console.error(err?.stack ?? String(err));
    console.log("0 passed, 1 failed");
    process.exit(1);
  },
);

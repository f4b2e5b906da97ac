#!/usr/bin/env node
// `npm run test:clients`: the four client suites (TypeScript, Go, Python, Java) against one real
// server. Builds the server (tsc), installs what each suite needs (scripts/clients/install.sh:
// Go plugins and modules, a Python venv in .cache/venv, Maven deps), starts
// `node bin/mlcache.js serve` on two free loopback ports, runs each suite with
// MLCACHE_SERVER=127.0.0.1:<grpc> and MLCACHE_HTTP=http://127.0.0.1:<http>, reads its counts from
// the runner's machine-readable report, stops the server. The last line is always
// `N passed, N failed`; the exit code is non-zero when anything failed.
//
//   npm run test:clients                 all four suites
//   npm run test:clients -- go python    only these (ts, go, python, java)
//
// A missing toolchain (go, python3, java/mvn) fails its suite with what to install; it is never
// skipped. The other suites still run.

import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..", "..");
const BIN = path.join(ROOT, "node_modules", ".bin");
const RESULTS = path.join(ROOT, ".cache", "test-results");
const INSTALL = path.join(ROOT, "scripts", "clients", "install.sh");
const env = { ...process.env, PATH: `${BIN}${path.delimiter}${process.env.PATH ?? ""}` };

/** The suites: what they need on PATH, and how to run them and count their results. */
const SUITES = {
  ts: { title: "TypeScript (vitest)", needs: [], run: tsSuite },
  go: { title: "Go (go test)", needs: [["go", "Go 1.26+ (https://go.dev/dl/)"]], install: "go", run: goSuite },
  python: {
    title: "Python (pytest)",
    needs: [["python3", "Python 3.10+ with venv (apt-get install python3 python3-venv)"]],
    install: "python",
    run: pythonSuite,
  },
  java: {
    title: "Java (JUnit 5, mvn test)",
    needs: [
      ["java", "a JDK 17+ (apt-get install openjdk-17-jdk-headless)"],
      ["mvn", "Maven 3.8+ (apt-get install maven)"],
    ],
    install: "java",
    run: javaSuite,
  },
};

// ─────────────────────────── process helpers ───────────────────────────

let current; // the running child, so a signal can reach it
let serverChild; // the server, stopped on Ctrl-C / SIGTERM too

/** Runs a command with inherited stdio; resolves with its exit code. */
function exec(cmd, args, options = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { cwd: ROOT, stdio: "inherit", env, ...options });
    current = child;
    child.on("error", (error) => {
      console.error(`cannot run ${cmd}: ${error.message}`);
      resolve(127);
    });
    child.on("exit", (code, signal) => {
      current = undefined;
      resolve(code ?? (signal ? 128 + 15 : 1));
    });
  });
}

/** Whether `cmd` is on PATH. */
const onPath = (cmd) => spawnSync("sh", ["-c", `command -v ${cmd}`], { env }).status === 0;

/** A port the kernel says is free right now (bind to 0, read it, release it). */
function freePort() {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address();
      server.close(() => resolve(port));
    });
  });
}

// ─────────────────────────── the server ───────────────────────────

/** Starts the built server on free ports; resolves once /readyz answers 200 (at most 30 s). */
async function startServer() {
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort();
  fs.mkdirSync(RESULTS, { recursive: true });
  const log = fs.openSync(path.join(RESULTS, "clients-server.log"), "w");
  const server = spawn(process.execPath, [path.join(ROOT, "bin", "mlcache.js"), "serve"], {
    cwd: ROOT,
    stdio: ["ignore", log, log],
    env: {
      ...env,
      MLCACHE_LOG_LEVEL: process.env.MLCACHE_LOG_LEVEL ?? "info",
      MLCACHE_HOST: "127.0.0.1",
      MLCACHE_GRPC_PORT: String(grpcPort),
      MLCACHE_HTTP_PORT: String(httpPort),
    },
  });
  serverChild = server;
  let exited = false;
  server.on("exit", () => {
    exited = true;
  });
  const deadline = Date.now() + 30_000;
  while (Date.now() < deadline && !exited) {
    try {
      const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
      if (response.status === 200) return { server, grpcPort, httpPort };
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill("SIGKILL");
  throw new Error(
    `the server did not become ready within 30 s${exited ? " (it exited)" : ""}; see .cache/test-results/clients-server.log`,
  );
}

/** SIGTERM, then SIGKILL after 10 s. */
async function stopServer(server) {
  if (server.exitCode !== null || server.signalCode !== null) return;
  const exited = new Promise((resolve) => server.once("exit", resolve));
  server.kill("SIGTERM");
  const timer = setTimeout(() => server.kill("SIGKILL"), 10_000);
  await exited;
  clearTimeout(timer);
}

// ─────────────────────────── the suites ───────────────────────────

const failedOnce = { passed: 0, failed: 1 };

async function tsSuite(suiteEnv) {
  const report = path.join(RESULTS, "clients-ts.json");
  fs.rmSync(report, { force: true });
  await exec(
    path.join(BIN, "vitest"),
    [
      "run",
      "--config",
      "clients/ts/vitest.config.ts",
      "--reporter=default",
      "--reporter=json",
      `--outputFile=${report}`,
    ],
    { env: suiteEnv },
  );
  if (!fs.existsSync(report)) return failedOnce;
  const json = JSON.parse(fs.readFileSync(report, "utf8"));
  const failed = json.numFailedTests + (json.numFailedTestSuites > 0 && json.numFailedTests === 0 ? 1 : 0);
  return { passed: json.numPassedTests, failed };
}

async function goSuite(suiteEnv) {
  const report = path.join(RESULTS, "clients-go.jsonl");
  const out = fs.openSync(report, "w");
  const code = await exec("go", ["test", "-count=1", "-json", "./..."], {
    cwd: path.join(ROOT, "clients", "go"),
    env: suiteEnv,
    stdio: ["ignore", out, "inherit"],
  });
  fs.closeSync(out);
  let passed = 0;
  let failed = 0;
  const output = new Map(); // test → its output lines, printed when it fails
  for (const line of fs.readFileSync(report, "utf8").split("\n")) {
    if (!line.startsWith("{")) continue;
    const event = JSON.parse(line);
    const id = `${event.Package} ${event.Test ?? ""}`;
    if (event.Action === "output") output.set(id, (output.get(id) ?? "") + event.Output);
    if (!event.Test) {
      if (event.Action === "fail" && !output.get(id)?.includes("--- FAIL")) process.stdout.write(output.get(id) ?? "");
      continue;
    }
    if (event.Action === "pass") {
      passed++;
      console.log(`  ✓ ${event.Test} (${event.Elapsed}s)`);
    } else if (event.Action === "fail") {
      failed++;
      process.stdout.write(`  ✗ ${event.Test}\n${output.get(id) ?? ""}`);
    }
  }
  return code !== 0 && failed === 0 ? { passed, failed: 1 } : { passed, failed };
}

async function pythonSuite(suiteEnv) {
  const report = path.join(RESULTS, "clients-python.xml");
  fs.rmSync(report, { force: true });
  const code = await exec(
    path.join(ROOT, ".cache", "venv", "bin", "python"),
    ["-m", "pytest", "-q", "-p", "no:cacheprovider", `--junitxml=${report}`],
    // No __pycache__ next to the generated modules: gen/ must hold exactly what buf generates.
    { cwd: path.join(ROOT, "clients", "python"), env: { ...suiteEnv, PYTHONDONTWRITEBYTECODE: "1" } },
  );
  if (!fs.existsSync(report)) return failedOnce;
  const counts = junitCounts(fs.readFileSync(report, "utf8"));
  return code !== 0 && counts.failed === 0 ? { passed: counts.passed, failed: 1 } : counts;
}

async function javaSuite(suiteEnv) {
  const reports = path.join(ROOT, "clients", "java", "target", "surefire-reports");
  fs.rmSync(reports, { recursive: true, force: true });
  const code = await exec("mvn", ["-q", "-B", "test"], { cwd: path.join(ROOT, "clients", "java"), env: suiteEnv });
  const files = fs.existsSync(reports) ? fs.readdirSync(reports).filter((f) => /^TEST-.*\.xml$/.test(f)) : [];
  const counts = files
    .map((f) => junitCounts(fs.readFileSync(path.join(reports, f), "utf8")))
    .reduce((a, b) => ({ passed: a.passed + b.passed, failed: a.failed + b.failed }), { passed: 0, failed: 0 });
  return code !== 0 && counts.failed === 0 ? { passed: counts.passed, failed: 1 } : counts;
}

/** Counts summed over the <testsuite> elements of a JUnit XML report (pytest, surefire). */
function junitCounts(xml) {
  let passed = 0;
  let failed = 0;
  for (const [tag] of xml.matchAll(/<testsuite\b[^>]*>/g)) {
    const attr = (name) => Number(tag.match(new RegExp(`\\b${name}="(\\d+)"`))?.[1] ?? 0);
    failed += attr("failures") + attr("errors");
    passed += attr("tests") - attr("failures") - attr("errors") - attr("skipped");
  }
  return { passed, failed };
}

// ─────────────────────────── main ───────────────────────────

async function main() {
  const names = process.argv.slice(2).length ? process.argv.slice(2) : Object.keys(SUITES);
  const unknown = names.filter((n) => !SUITES[n]);
  if (unknown.length) {
    console.error(`unknown suite ${unknown.join(", ")}; choose from ${Object.keys(SUITES).join(", ")}`);
    return 2;
  }
  const results = [];
  const started = Date.now();

  console.log("── build the server (npm run build)");
  if ((await exec(path.join(BIN, "tsc"), ["-p", "tsconfig.build.json"])) !== 0) {
    console.log("the server does not build: every client suite fails");
    for (const name of names) results.push({ name, passed: 0, failed: 1, seconds: 0 });
    return report(results, started);
  }

  // Install first (downloads can be slow), so the server does not sit idle meanwhile.
  const ready = new Map();
  for (const name of names) {
    const suite = SUITES[name];
    const missing = suite.needs.filter(([cmd]) => !onPath(cmd));
    if (missing.length) {
      for (const [cmd, what] of missing) console.log(`✗ ${suite.title}: '${cmd}' not found: install ${what}`);
      ready.set(name, false);
      continue;
    }
    if (suite.install) {
      console.log(`── install for ${suite.title} (scripts/clients/install.sh ${suite.install})`);
      const code = await exec("sh", [INSTALL, suite.install]);
      if (code !== 0)
        console.log(`✗ ${suite.title}: scripts/clients/install.sh ${suite.install} failed (exit ${code})`);
      ready.set(name, code === 0);
    } else ready.set(name, true);
  }

  let service;
  try {
    service = await startServer();
  } catch (error) {
    console.log(`✗ ${error.message}`);
    for (const name of names) results.push({ name, passed: 0, failed: 1, seconds: 0 });
    return report(results, started);
  }
  console.log(`── server on gRPC 127.0.0.1:${service.grpcPort}, HTTP 127.0.0.1:${service.httpPort}`);
  const suiteEnv = {
    ...env,
    MLCACHE_SERVER: `127.0.0.1:${service.grpcPort}`,
    MLCACHE_HTTP: `http://127.0.0.1:${service.httpPort}`,
  };
  try {
    for (const name of names) {
      const suite = SUITES[name];
      if (!ready.get(name)) {
        results.push({ name, passed: 0, failed: 1, seconds: 0 });
        continue;
      }
      console.log(`\n── ${suite.title}`);
      const t0 = Date.now();
      let counts;
      try {
        counts = await suite.run(suiteEnv);
      } catch (error) {
        console.log(`✗ ${suite.title}: ${error.message}`);
        counts = failedOnce;
      }
      results.push({ name, ...counts, seconds: (Date.now() - t0) / 1000 });
    }
  } finally {
    await stopServer(service.server);
  }
  return report(results, started);
}

function report(results, started) {
  console.log("\n── client suites");
  for (const r of results) {
    const title = SUITES[r.name].title.padEnd(26);
    console.log(
      `  ${r.failed ? "✗" : "✓"} ${title} ${r.passed} passed, ${r.failed} failed  (${r.seconds.toFixed(1)}s)`,
    );
  }
  const passed = results.reduce((n, r) => n + r.passed, 0);
  const failed = results.reduce((n, r) => n + r.failed, 0);
  console.log(`  total ${((Date.now() - started) / 1000).toFixed(1)}s`);
  console.log(`${passed} passed, ${failed} failed`);
  return failed === 0 ? 0 : 1;
}

for (const signal of ["SIGINT", "SIGTERM"]) {
  process.on(signal, () => {
    current?.kill(signal);
    serverChild?.kill("SIGTERM");
    process.exitCode = 130;
  });
}

process.exitCode = await main();

#!/usr/bin/env node
// `npm run test:clients`: the four client suites (TypeScript, Go, Python, Java) against one real
// server. In order:
//
//   1. builds the server (tsc) and installs what each suite needs (scripts/clients/install.sh:
//      Go plugins and modules, a Python venv in .cache/venv, Maven deps);
//   2. for the TypeScript suite: builds and starts clients/go/cmd/example-loader, a LoaderService
//      written in Go (in-memory map) on a free loopback port;
//   3. for the Python suite: finds Kafka (MLCACHE_KAFKA_BROKERS or KAFKA_BROKERS, else one that
//      scripts/services.mjs runs, else starts one with it and stops it again at the end);
//   4. starts `node bin/mlcache.js serve --config .cache/test-results/clients-server.json` on two
//      free loopback ports, the config naming the Go loader as namespace `client-loader`'s origin
//      and Kafka with topics unique to this run (`mlcache-clients-<run>.invalidations`, …), with
//      auth on: two tokens made for this run (every right on `*`; `read` on `client-readonly`),
//      given to the server through its environment (tokenEnv), never written to a file;
//      at the same time a second, L1-only server (clients-server-tls.json) with mutual TLS on both
//      ports: a CA, a server certificate for 127.0.0.1 and a client certificate (CN=client-suites,
//      an identity with read/write on `tls-*`) made by openssl in a temporary folder. A second
//      instance rather than the whole run over TLS: the existing tests (Connect over HTTP/1.1, the
//      loader, Kafka) stay as they are, the TLS tests are a handful per language, and the extra
//      server starts in parallel with the first (about a second);
//   5. runs each suite with MLCACHE_SERVER=127.0.0.1:<grpc>, MLCACHE_HTTP=http://127.0.0.1:<http>,
//      MLCACHE_TOKEN, MLCACHE_READ_TOKEN, MLCACHE_READ_NAMESPACE, MLCACHE_TLS_SERVER (the TLS
//      server's gRPC port), MLCACHE_CA, MLCACHE_CERT, MLCACHE_CERT_KEY, MLCACHE_TLS_IDENTITY,
//      MLCACHE_LOADER_NAMESPACE, MLCACHE_LOADER_TARGET, MLCACHE_LOADER_ADMIN (the Go loader),
//      MLCACHE_KAFKA_BROKERS, MLCACHE_KAFKA_INVALIDATIONS_TOPIC (or MLCACHE_LOADER_ERROR /
//      MLCACHE_KAFKA_ERROR / MLCACHE_TLS_ERROR saying why one is missing, so the tests that need it
//      fail saying so),
//      and reads its counts from the runner's machine-readable report;
//   6. stops the servers and the loader, removes the certificates, deletes the run's topics, stops
//      Kafka if it started it.
//
// The last line is always `N passed, N failed`; the exit code is non-zero when anything failed.
//
//   npm run test:clients                 all four suites
//   npm run test:clients -- go python    only these (ts, go, python, java)
//
// A missing toolchain (go, python3, java/mvn) fails its suite with what to install; it is never
// skipped. The other suites still run. Logs: .cache/test-results/clients-{server,server-tls,loader}.log.

import { spawn, spawnSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import https from "node:https";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { makeCertificates } from "../../test/support/certs.ts";
import {
  down as servicesDown,
  env as servicesEnv,
  running as servicesRunning,
  up as servicesUp,
} from "../services.mjs";

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
const serverChildren = new Set(); // the servers, stopped on Ctrl-C / SIGTERM too
let loaderChild; // the Go example loader, likewise
let interrupted = false; // a signal asked us to stop: no further suite starts

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

// ─────────────────────────── the Go loader ───────────────────────────

/** The namespace whose origin is the Go loader, and the value the loader holds from the start. */
const LOADER_NAMESPACE = "client-loader";
const LOADER_SEED_VALUE = "from-the-go-map";

/**
 * Builds and starts clients/go/cmd/example-loader on free loopback ports (it binds port 0 and
 * prints the address it got, so no port can be taken in between); resolves with its gRPC and
 * HTTP addresses once it listens (at most 60 s, a cold build included).
 */
async function startLoader(seedKey) {
  if (!onPath("go")) throw new Error("'go' not found: install Go 1.26+ (https://go.dev/dl/)");
  const binary = path.join(ROOT, ".cache", "clients", "example-loader");
  const build = await exec("go", ["build", "-o", binary, "./cmd/example-loader"], {
    cwd: path.join(ROOT, "clients", "go"),
  });
  if (build !== 0) throw new Error(`go build ./cmd/example-loader failed (exit ${build})`);
  const logFile = path.join(RESULTS, "clients-loader.log");
  fs.mkdirSync(RESULTS, { recursive: true }); // a fresh clone has no .cache/test-results yet
  const log = fs.createWriteStream(logFile);
  const loader = spawn(
    binary,
    ["-addr", "127.0.0.1:0", "-admin", "127.0.0.1:0", "-seed", `${LOADER_NAMESPACE}/${seedKey}=${LOADER_SEED_VALUE}`],
    {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
      env,
    },
  );
  loaderChild = loader;
  loader.stderr.pipe(log, { end: false }); // two sources: neither may close it
  let out = "";
  return await new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail("it did not print its addresses within 60 s"), 60_000);
    function fail(why) {
      clearTimeout(timer);
      loader.kill("SIGKILL");
      reject(new Error(`the Go example loader did not start: ${why}; see .cache/test-results/clients-loader.log`));
    }
    loader.on("error", (error) => fail(error.message));
    loader.on("exit", (code, signal) => fail(`it exited (${signal ?? code})`));
    loader.stdout.on("data", (data) => {
      log.write(data);
      out += data;
      const target = out.match(/^loader listening on (\S+)$/m)?.[1];
      const admin = out.match(/^admin listening on (\S+)$/m)?.[1];
      if (target && admin) {
        clearTimeout(timer);
        loader.removeAllListeners("exit");
        loader.stdout.removeAllListeners("data");
        loader.stdout.pipe(log, { end: false });
        resolve({ loader, target, admin });
      }
    });
  });
}

// ─────────────────────────── Kafka ───────────────────────────

/**
 * Brokers for the server: from the environment (CI services, `export $(scripts/services up)`),
 * else the Kafka that scripts/services.mjs already runs (e.g. the one `npm test` started), else
 * one started here through scripts/services.mjs (`started` lists it; it is stopped at the end).
 */
async function findKafka() {
  const given = process.env.MLCACHE_KAFKA_BROKERS || process.env.KAFKA_BROKERS;
  if (given) return { brokers: given, started: [], from: "MLCACHE_KAFKA_BROKERS / KAFKA_BROKERS" };
  if (servicesRunning(["kafka"]).length) {
    return { brokers: servicesEnv(["kafka"]).MLCACHE_KAFKA_BROKERS, started: [], from: "scripts/services" };
  }
  console.log("── start Kafka (scripts/services.mjs up kafka)");
  const { env: upEnv, started } = await servicesUp(["kafka"]).catch((error) => {
    throw new Error(`scripts/services.mjs up kafka failed: ${error.message.split("\n")[0]} (logs in .services/logs)`);
  });
  if (!upEnv.MLCACHE_KAFKA_BROKERS) throw new Error("scripts/services.mjs started Kafka but reports no brokers");
  return { brokers: upEnv.MLCACHE_KAFKA_BROKERS, started, from: "scripts/services (started for this run)" };
}

/**
 * Runs `fn` with a connected kafkajs admin. kafkajs sets a negative timer under Node 24 (a
 * harmless TimeoutNegativeWarning that would land in the middle of a suite's output): that one
 * warning is dropped while it runs.
 */
async function withKafkaAdmin(brokers, fn) {
  const { Kafka, logLevel } = await import("kafkajs");
  const emitWarning = process.emitWarning;
  process.emitWarning = (warning, ...rest) => {
    if (rest[0] === "TimeoutNegativeWarning" || rest[0]?.type === "TimeoutNegativeWarning") return;
    emitWarning.call(process, warning, ...rest);
  };
  const admin = new Kafka({
    brokers: brokers.split(","),
    logLevel: logLevel.NOTHING,
    connectionTimeout: 3_000,
    retry: { retries: 1 },
  }).admin();
  try {
    await admin.connect();
    return await fn(admin);
  } finally {
    await admin.disconnect().catch(() => {});
    process.emitWarning = emitWarning;
  }
}

/** Rejects unless the brokers answer a metadata request within a few seconds. */
async function checkKafka(brokers, from) {
  try {
    await withKafkaAdmin(brokers, (admin) => admin.listTopics());
  } catch (error) {
    throw new Error(`Kafka at ${brokers} (from ${from}) does not answer: ${error.message}`);
  }
}

/** Deletes this run's topics, best effort (a shared broker should not collect them). */
async function deleteTopics(brokers, topics) {
  try {
    await withKafkaAdmin(brokers, (admin) => admin.deleteTopics({ topics, timeout: 10_000 }));
  } catch (error) {
    console.log(`  (could not delete the topics ${topics.join(", ")}: ${error.message})`);
  }
}

// ─────────────────────────── the server ───────────────────────────

/**
 * Starts the built server on free ports with the given config (written to
 * .cache/test-results/<name>.json, its log next to it as <name>.log) and extra environment;
 * resolves once /readyz answers 200 (at most 60 s: with Kafka it is ready once its invalidation
 * consumer has joined). `tls` ({ ca, cert, key } PEM) is what the probe presents to a TLS server.
 */
async function startServer(name, config, serverEnv, tls) {
  const grpcPort = await freePort();
  let httpPort = await freePort();
  while (httpPort === grpcPort) httpPort = await freePort();
  fs.mkdirSync(RESULTS, { recursive: true });
  const configFile = path.join(RESULTS, `${name}.json`);
  fs.writeFileSync(configFile, `${JSON.stringify(config, null, 2)}\n`);
  const log = fs.openSync(path.join(RESULTS, `${name}.log`), "w");
  const server = spawn(process.execPath, [path.join(ROOT, "bin", "mlcache.js"), "serve", "--config", configFile], {
    cwd: ROOT,
    stdio: ["ignore", log, log],
    env: {
      ...env,
      ...serverEnv,
      MLCACHE_CONFIG: configFile,
      // Kafka is what the config file says (or none), not a broker list inherited from elsewhere.
      MLCACHE_KAFKA_BROKERS: "",
      MLCACHE_LOG_LEVEL: process.env.MLCACHE_LOG_LEVEL ?? "info",
      MLCACHE_HOST: "127.0.0.1",
      MLCACHE_GRPC_PORT: String(grpcPort),
      MLCACHE_HTTP_PORT: String(httpPort),
    },
  });
  serverChildren.add(server);
  let exited = false;
  server.on("exit", () => {
    exited = true;
    serverChildren.delete(server);
  });
  const deadline = Date.now() + 60_000;
  while (Date.now() < deadline && !exited) {
    if ((await readyz(httpPort, tls)) === 200) return { server, grpcPort, httpPort };
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  server.kill("SIGKILL");
  throw new Error(
    `the server did not become ready within 60 s${exited ? " (it exited)" : ""}; see .cache/test-results/${name}.log`,
  );
}

/** The status of GET /readyz (0 while nothing answers), over TLS with a client certificate when given. */
function readyz(port, tls) {
  if (!tls) {
    return fetch(`http://127.0.0.1:${port}/readyz`, { signal: AbortSignal.timeout(1000) }).then(
      (response) => response.status,
      () => 0,
    );
  }
  return new Promise((resolve) => {
    const request = https.get({ host: "127.0.0.1", port, path: "/readyz", timeout: 1000, ...tls }, (response) => {
      response.resume();
      resolve(response.statusCode ?? 0);
    });
    request.on("timeout", () => request.destroy());
    request.on("error", () => resolve(0));
  });
}

/** The namespace the read-only token may read (and nothing else). */
const READ_NAMESPACE = "client-readonly";
/** The identity of the suites' client certificate (CN), and where it may read and write. */
const TLS_IDENTITY = "client-suites";
const TLS_NAMESPACES = "tls-*";

/**
 * A second server, L1 only, with mutual TLS on both ports: a CA, its server certificate for
 * 127.0.0.1 and a client certificate (CN=client-suites) made by openssl in a temporary folder
 * (removed at the end). It knows the same tokens and the certificate's identity. Resolves with
 * the server and the environment its tests need (MLCACHE_TLS_SERVER, MLCACHE_CA, MLCACHE_CERT,
 * MLCACHE_CERT_KEY, MLCACHE_TLS_IDENTITY).
 */
async function startTlsServer(auth, tokenEnv, cleanups) {
  let certificates;
  try {
    certificates = makeCertificates();
  } catch (error) {
    throw new Error(`openssl could not make the test certificates: ${error.message.split("\n")[0]}`);
  }
  cleanups.push(() => certificates.remove());
  const client = certificates.client(TLS_IDENTITY);
  const config = {
    server: {
      tls: {
        certFile: certificates.serverCert,
        keyFile: certificates.serverKey,
        caFile: certificates.ca,
        requireClientCert: true,
      },
    },
    auth: {
      ...auth,
      identities: [
        { name: TLS_IDENTITY, commonName: TLS_IDENTITY, namespaces: [TLS_NAMESPACES], rights: ["read", "write"] },
      ],
    },
  };
  const probe = {
    ca: fs.readFileSync(certificates.ca),
    cert: fs.readFileSync(client.cert),
    key: fs.readFileSync(client.key),
  };
  const started = await startServer("clients-server-tls", config, tokenEnv, probe);
  return {
    ...started,
    env: {
      MLCACHE_TLS_SERVER: `127.0.0.1:${started.grpcPort}`,
      MLCACHE_CA: certificates.ca,
      MLCACHE_CERT: client.cert,
      MLCACHE_CERT_KEY: client.key,
      MLCACHE_TLS_IDENTITY: TLS_IDENTITY,
    },
  };
}

/** Stops a child (the server, the loader): SIGTERM, then SIGKILL after 10 s. */
async function stop(child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once("exit", resolve));
  child.kill("SIGTERM");
  const timer = setTimeout(() => child.kill("SIGKILL"), 10_000);
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

  const run = `${Date.now().toString(36)}-${process.pid}`;
  // Tokens fresh for this run, handed to the server through its environment (tokenEnv), so the
  // config files on disk hold none; the suites get them as MLCACHE_TOKEN / MLCACHE_READ_TOKEN.
  const tokens = { admin: randomBytes(24).toString("hex"), read: randomBytes(24).toString("hex") };
  const tokenEnv = { MLCACHE_SUITE_ADMIN_TOKEN: tokens.admin, MLCACHE_SUITE_READ_TOKEN: tokens.read };
  const auth = {
    tokens: [
      {
        name: "suite-admin",
        tokenEnv: "MLCACHE_SUITE_ADMIN_TOKEN",
        namespaces: ["*"],
        rights: ["read", "write", "admin"],
      },
      { name: "suite-reader", tokenEnv: "MLCACHE_SUITE_READ_TOKEN", namespaces: [READ_NAMESPACE], rights: ["read"] },
    ],
  };
  const config = {
    auth,
    // The Go suite points a namespace at an origin it serves on a loopback port (UpdatePolicy).
    origins: { allowedTargets: ["127.0.0.1:*"] },
    namespaces: {},
  };
  const extraEnv = {};
  const cleanups = []; // run in reverse order at the end, also after a failure
  try {
    // The Go LoaderService the TypeScript suite reads through (Go origin → server → TS client).
    if (names.includes("ts")) {
      try {
        // Unique per run: with a Redis L2 that outlives the run, a fixed key would come from L2.
        const seedKey = `seeded-${run}`;
        const { loader, target, admin } = await startLoader(seedKey);
        cleanups.push(() => stop(loader));
        console.log(`── Go example loader (clients/go/cmd/example-loader) on gRPC ${target}, HTTP ${admin}`);
        config.namespaces[LOADER_NAMESPACE] = { loader: { grpc: { target } } };
        Object.assign(extraEnv, {
          MLCACHE_LOADER_NAMESPACE: LOADER_NAMESPACE,
          MLCACHE_LOADER_TARGET: target,
          MLCACHE_LOADER_ADMIN: admin,
          MLCACHE_LOADER_SEEDED: `${seedKey}=${LOADER_SEED_VALUE}`,
        });
      } catch (error) {
        console.log(`✗ ${error.message}`);
        extraEnv.MLCACHE_LOADER_ERROR = error.message;
      }
    }

    // Kafka for the InvalidationEvents the Python suite consumes.
    if (names.includes("python") && !interrupted) {
      try {
        const kafka = await findKafka();
        if (kafka.started.length) cleanups.push(() => servicesDown(kafka.started));
        await checkKafka(kafka.brokers, kafka.from);
        const prefix = `mlcache-clients-${run}`;
        const topics = {
          invalidations: `${prefix}.invalidations`,
          writes: `${prefix}.writes`,
          deadLetters: `${prefix}.dead-letters`,
        };
        cleanups.push(() => deleteTopics(kafka.brokers, Object.values(topics)));
        console.log(`── Kafka ${kafka.brokers} (from ${kafka.from}), topics ${prefix}.*`);
        config.kafka = { brokers: kafka.brokers.split(","), topics };
        Object.assign(extraEnv, {
          MLCACHE_KAFKA_BROKERS: kafka.brokers,
          MLCACHE_KAFKA_INVALIDATIONS_TOPIC: topics.invalidations,
        });
      } catch (error) {
        const why = `no Kafka for the server: ${error.message}`;
        console.log(`✗ ${why}`);
        extraEnv.MLCACHE_KAFKA_ERROR = why;
      }
    }

    let service;
    try {
      if (interrupted) throw new Error("interrupted");
      // Both at once; whichever started is stopped at the end, whatever happened to the other.
      const [plain, tls] = await Promise.allSettled([
        startServer("clients-server", config, tokenEnv),
        startTlsServer(auth, tokenEnv, cleanups),
      ]);
      if (tls.status === "fulfilled") {
        cleanups.push(() => stop(tls.value.server));
        Object.assign(extraEnv, tls.value.env);
      } else {
        // The TLS tests fail saying why; every other test still runs.
        console.log(`✗ TLS server: ${tls.reason.message}`);
        extraEnv.MLCACHE_TLS_ERROR = tls.reason.message;
      }
      if (plain.status === "rejected") throw plain.reason;
      service = plain.value;
      cleanups.push(() => stop(service.server));
      console.log(`── server on gRPC 127.0.0.1:${service.grpcPort}, HTTP 127.0.0.1:${service.httpPort}`);
      if (tls.status === "fulfilled") {
        const { grpcPort, httpPort } = tls.value;
        console.log(`── TLS server (mutual TLS) on gRPC 127.0.0.1:${grpcPort}, HTTPS 127.0.0.1:${httpPort}`);
      }
    } catch (error) {
      console.log(`✗ ${error.message}`);
    }
    const suiteEnv = service && {
      ...env,
      MLCACHE_KAFKA_BROKERS: "", // the server's, set below when it has Kafka
      ...extraEnv,
      MLCACHE_SERVER: `127.0.0.1:${service.grpcPort}`,
      MLCACHE_HTTP: `http://127.0.0.1:${service.httpPort}`,
      MLCACHE_TOKEN: tokens.admin,
      MLCACHE_READ_TOKEN: tokens.read,
      MLCACHE_READ_NAMESPACE: READ_NAMESPACE,
    };
    for (const name of names) {
      const suite = SUITES[name];
      if (!suiteEnv || !ready.get(name) || interrupted) {
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
    // Before the report: its last line must stay the last line of stdout.
    for (const cleanup of cleanups.reverse()) {
      await Promise.resolve()
        .then(cleanup)
        .catch((error) => console.log(`  (cleanup: ${error.message})`));
    }
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
    // The running suite stops; no other starts; the server, the loader, this run's topics and
    // a Kafka started here are cleaned up by main's finally.
    interrupted = true;
    current?.kill(signal);
    for (const server of serverChildren) server.kill("SIGTERM");
    loaderChild?.kill("SIGTERM");
  });
}

const code = await main();
process.exitCode = interrupted ? 130 : code;

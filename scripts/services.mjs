#!/usr/bin/env node
// Real Redis (single node + 3-master cluster) and a real Kafka broker (KRaft) for the tests,
// running as plain local processes on free 127.0.0.1 ports: no Docker on the CI machines.
// Every Redis also listens for TLS on a second port (certificates made here with openssl) and
// knows an ACL user with a password besides `default`, so TLS and ACL tests use the same pieces.
// The broker has two client listeners: PLAINTEXT, and SASL_SSL (SCRAM-SHA-512 or PLAIN, with a
// certificate from a CA made by openssl at start).
//
//   scripts/services up [redis|cluster|kafka ...]    start (idempotent), print env lines
//   scripts/services down [redis|cluster|kafka ...]  stop (idempotent), remove data dirs
//   scripts/services env [redis|cluster|kafka ...]   print env lines of what is running
//
// Import it to drive the same from code (scripts/test.mjs, fault tests):
//   import { up, down, env } from "../scripts/services.mjs";
//
// State (ports, pids, data dirs, logs) lives in <project>/.services/. Every process we start
// carries a path under that directory on its command line, which is how we recognise our own
// processes later (pids can be reused; a bare pid is never trusted on its own).

import { execFile, spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const execFileP = promisify(execFile);

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const STATE_DIR = path.join(ROOT, ".services");
const STATE_FILE = path.join(STATE_DIR, "state.json");
const LOCK_DIR = path.join(STATE_DIR, "lock");
const LOG_DIR = path.join(STATE_DIR, "logs");
/** CA, server and client certificates and the ACL password, shared by every Redis we start. */
const TLS_DIR = path.join(STATE_DIR, "tls");
/** The ACL user every Redis knows besides `default` (which stays passwordless for the other tests). */
const ACL_USER = "mlcache";
const KAFKA_POM = path.join(ROOT, "scripts", "kafka", "pom.xml");

export const PIECES = /** @type {const} */ (["redis", "cluster", "kafka"]);
const CLUSTER_SIZE = 3;

// Bounded waits (ms). Generous for a loaded 2-core CI box, but never open-ended.
const WAIT = {
  redisReady: 15_000,
  clusterOk: 30_000,
  kafkaReady: 90_000,
  kafkaFormat: 60_000,
  mavenFetch: 600_000,
  aptInstall: 600_000,
  stopGrace: { redis: 10_000, cluster: 10_000, kafka: 30_000 },
  afterKill: 5_000,
  lock: 900_000, // another `up` may be downloading Kafka for the first time
};

const log = (msg) => process.stderr.write(`[services] ${msg}\n`);
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// ───────────────────────────── state ─────────────────────────────

/**
 * @typedef {{ port: number, tlsPort?: number, busPort?: number, pid?: number, dir: string, marker: string }} Proc
 * @typedef {{ port: number, username: string, password: string, ca: string }} KafkaSasl
 * @typedef {{ redis?: { procs: Proc[] }, cluster?: { procs: Proc[] }, kafka?: { procs: Proc[], controllerPort: number, version: string, sasl?: KafkaSasl } }} State
 */

/** @returns {State} */
function readState() {
  try {
    return JSON.parse(fs.readFileSync(STATE_FILE, "utf8"));
  } catch {
    return {};
  }
}

/** @param {State} state */
function writeState(state) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  // Write-then-rename so a concurrent `env` never reads half a file.
  const tmp = `${STATE_FILE}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, `${JSON.stringify(state, null, 2)}\n`);
  fs.renameSync(tmp, STATE_FILE);
}

/** Cross-process mutex: two `up`s at once would otherwise race for ports and data dirs. */
async function withLock(fn) {
  fs.mkdirSync(STATE_DIR, { recursive: true });
  const deadline = Date.now() + WAIT.lock;
  for (;;) {
    try {
      fs.mkdirSync(LOCK_DIR);
      fs.writeFileSync(path.join(LOCK_DIR, "pid"), String(process.pid));
      break;
    } catch (err) {
      if (err.code !== "EEXIST") throw err;
      let holder = NaN;
      try {
        holder = Number(fs.readFileSync(path.join(LOCK_DIR, "pid"), "utf8"));
      } catch {}
      // A lock left by a killed process must not block forever. (An empty pid file means
      // the holder is between mkdir and write; treat it as live and wait.)
      if (Number.isInteger(holder) && holder > 0 && !pidAlive(holder)) {
        fs.rmSync(LOCK_DIR, { recursive: true, force: true });
        continue;
      }
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${LOCK_DIR} (held by pid ${holder})`);
      await sleep(200);
    }
  }
  try {
    return await fn();
  } finally {
    fs.rmSync(LOCK_DIR, { recursive: true, force: true });
  }
}

// ─────────────────────────── processes ───────────────────────────

function pidAlive(pid) {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return err.code === "EPERM";
  }
}

/** True if `pid` is a live (non-zombie) process whose argv mentions `marker`. */
function isOurs(pid, marker) {
  if (!pid) return false;
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // Field 3 (after the parenthesised comm) is the state; Z = zombie, X = dead.
    const st = stat.slice(stat.lastIndexOf(")") + 2, stat.lastIndexOf(")") + 3);
    if (st === "Z" || st === "X") return false;
    return fs.readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").includes(marker);
  } catch {
    return false;
  }
}

/** Every live process whose argv contains `marker`, including ones the state file lost. */
function findOurs(marker) {
  const pids = [];
  for (const name of fs.readdirSync("/proc")) {
    if (/^\d+$/.test(name) && Number(name) !== process.pid && isOurs(Number(name), marker)) pids.push(Number(name));
  }
  return pids;
}

/** Live processes with an argv entry under `dir` (a config path of ours), e.g. orphans
 *  of a state file that was deleted by hand. */
function findUnder(dir) {
  const pids = [];
  for (const name of fs.readdirSync("/proc")) {
    if (!/^\d+$/.test(name) || Number(name) === process.pid) continue;
    try {
      const argv = fs.readFileSync(`/proc/${name}/cmdline`, "utf8").split("\0");
      const marker = argv.find((a) => a.startsWith(`${dir}/`));
      if (marker && isOurs(Number(name), marker)) pids.push({ pid: Number(name), marker });
    } catch {}
  }
  return pids;
}

/** SIGTERM, bounded wait, then SIGKILL. Only touches processes carrying our marker. */
async function stopProc(proc, graceMs) {
  const pids = new Set(findOurs(proc.marker));
  if (isOurs(proc.pid, proc.marker)) pids.add(proc.pid);
  if (pids.size === 0) return;
  const signalAll = (sig) => {
    for (const pid of pids) {
      try {
        process.kill(pid, sig);
      } catch {}
    }
  };
  const allGone = () => [...pids].every((pid) => !isOurs(pid, proc.marker));
  signalAll("SIGTERM");
  if (await waitUntil(allGone, graceMs)) return;
  log(`pid ${[...pids].join(",")} ignored SIGTERM for ${graceMs / 1000}s; sending SIGKILL`);
  signalAll("SIGKILL");
  if (!(await waitUntil(allGone, WAIT.afterKill))) throw new Error(`could not kill pid ${[...pids].join(",")}`);
}

/** Polls `check` (sync or async) until it returns truthy or `ms` elapse. */
async function waitUntil(check, ms, intervalMs = 200) {
  const deadline = Date.now() + ms;
  for (;;) {
    const result = await check();
    if (result) return result;
    if (Date.now() >= deadline) return undefined;
    await sleep(intervalMs);
  }
}

/**
 * Starts a long-lived daemon. Detached (own session) so Ctrl-C in a terminal running
 * `npm test` does not hit it directly: test.mjs decides when it stops, and a daemon started
 * by `scripts/services up` outlives that command.
 */
function spawnDaemon(cmd, args, logFile, cwd) {
  fs.mkdirSync(path.dirname(logFile), { recursive: true });
  const fd = fs.openSync(logFile, "w");
  try {
    const child = spawn(cmd, args, { cwd, detached: true, stdio: ["ignore", fd, fd] });
    child.on("error", () => {}); // reported through the readiness check instead
    child.unref();
    return child.pid;
  } finally {
    fs.closeSync(fd);
  }
}

function tail(file, lines = 40) {
  try {
    return fs.readFileSync(file, "utf8").split("\n").slice(-lines).join("\n");
  } catch {
    return `(no log at ${file})`;
  }
}

// ───────────────────────────── ports ─────────────────────────────

function portFree(port) {
  return new Promise((resolve) => {
    const srv = net.createServer();
    srv.once("error", () => resolve(false));
    srv.listen({ host: "127.0.0.1", port, exclusive: true }, () => srv.close(() => resolve(true)));
  });
}

/** `n` distinct free loopback ports, chosen by the kernel. */
async function freePorts(n) {
  const servers = [];
  try {
    // Hold all listeners open until we have n, so the kernel cannot hand out one port twice.
    for (let i = 0; i < n; i++) {
      const srv = net.createServer();
      await new Promise((resolve, reject) => {
        srv.once("error", reject);
        srv.listen({ host: "127.0.0.1", port: 0, exclusive: true }, resolve);
      });
      servers.push(srv);
    }
    return servers.map((s) => s.address().port);
  } finally {
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
  }
}

/** Reuse the ports of a piece that was stopped on its own (clients keep working), if free. */
async function reusePorts(previous, n) {
  // A state written before a piece had its TLS port lacks that port: new ports then.
  const complete = previous?.length === n && previous.every(Number.isInteger);
  if (complete && (await Promise.all(previous.map(portFree))).every(Boolean)) return previous;
  return freePorts(n);
}

// ──────────────────────────── tooling ────────────────────────────

async function which(cmd) {
  try {
    await execFileP("sh", ["-c", `command -v ${cmd}`]);
    return true;
  } catch {
    return false;
  }
}

/**
 * redis-server, redis-cli, kcat, openssl and chromium (the dashboard's browser test) come from
 * Debian; install them if this box lacks them.
 */
export async function ensureAptTools() {
  const wanted = {
    "redis-server": "redis-server",
    "redis-cli": "redis-tools",
    kcat: "kcat",
    openssl: "openssl",
    chromium: "chromium",
  };
  const missing = [];
  for (const [cmd, pkg] of Object.entries(wanted)) if (!(await which(cmd))) missing.push(pkg);
  if (missing.length === 0) return;
  log(`installing ${missing.join(" ")} with apt-get`);
  const env = { ...process.env, DEBIAN_FRONTEND: "noninteractive" };
  // Another apt run (e.g. provisioning) may hold the dpkg lock: wait for it, boundedly.
  const install = () =>
    execFileP("apt-get", ["-o", "DPkg::Lock::Timeout=300", "install", "-y", "--no-install-recommends", ...missing], {
      env,
      timeout: WAIT.aptInstall,
      maxBuffer: 64 << 20,
    });
  try {
    await install();
  } catch {
    // Most common cause: stale or absent package lists.
    await execFileP("apt-get", ["-o", "DPkg::Lock::Timeout=300", "update"], {
      env,
      timeout: WAIT.aptInstall,
      maxBuffer: 64 << 20,
    });
    await install();
  }
}

async function redisCli(port, args, timeout = 5_000) {
  const { stdout } = await execFileP("redis-cli", ["-h", "127.0.0.1", "-p", String(port), ...args], { timeout });
  return stdout;
}

// ───────────────────────────── redis ─────────────────────────────

// ────────────────────────── redis TLS and ACL ──────────────────────────

/** Runs openssl in `dir`; its output only matters when it fails. */
async function openssl(dir, args) {
  await execFileP("openssl", args, { cwd: dir, timeout: 30_000 }).catch((err) => {
    throw new Error(`openssl ${args[0]} failed: ${err.stderr ?? ""}${err.message}`);
  });
}

/**
 * A test CA (`ca.pem`, `ca.key`) in `dir` and, per entry of `certs`, `<name>.key` and
 * `<name>.pem` signed by it with the entry's subject and extensions; 30 days. `-nodes` writes
 * unencrypted PKCS#8 keys ("BEGIN PRIVATE KEY"), the form Redis and Kafka's PEM keystore read.
 */
async function makeCertificates(dir, caSubject, certs) {
  fs.mkdirSync(dir, { recursive: true });
  const days = ["-days", "30"];
  await openssl(dir, [
    "req",
    "-x509",
    "-newkey",
    "rsa:2048",
    "-nodes",
    "-keyout",
    "ca.key",
    "-out",
    "ca.pem",
    ...days,
    "-subj",
    caSubject,
  ]);
  for (const { name, subject, extensions } of certs) {
    fs.writeFileSync(path.join(dir, `${name}.ext`), extensions);
    await openssl(dir, [
      "req",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      `${name}.key`,
      "-out",
      `${name}.csr`,
      "-subj",
      subject,
    ]);
    await openssl(dir, [
      "x509",
      "-req",
      "-in",
      `${name}.csr`,
      "-CA",
      "ca.pem",
      "-CAkey",
      "ca.key",
      "-CAcreateserial",
      "-out",
      `${name}.pem`,
      ...days,
      "-extfile",
      `${name}.ext`,
    ]);
  }
}

/**
 * The TLS material and ACL password of our Redis servers, made once into TLS_DIR (kept until
 * everything is down): a CA, a server certificate for 127.0.0.1 and localhost (also a client
 * certificate: cluster nodes present it on the TLS cluster bus), and a client certificate.
 */
async function ensureTls() {
  const files = {
    ca: path.join(TLS_DIR, "ca.pem"),
    serverCert: path.join(TLS_DIR, "server.pem"),
    serverKey: path.join(TLS_DIR, "server.key"),
    clientCert: path.join(TLS_DIR, "client.pem"),
    clientKey: path.join(TLS_DIR, "client.key"),
    aclPassword: path.join(TLS_DIR, "acl-password"),
  };
  if (Object.values(files).every((f) => fs.existsSync(f))) return files;
  fs.rmSync(TLS_DIR, { recursive: true, force: true });
  log("making TLS certificates for redis with openssl");
  await makeCertificates(TLS_DIR, "/CN=mlcache services CA", [
    {
      name: "server",
      subject: "/CN=localhost",
      extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth,clientAuth\n",
    },
    {
      name: "client",
      subject: "/CN=mlcache-client",
      extensions: "subjectAltName=DNS:mlcache-client.internal\nextendedKeyUsage=clientAuth\n",
    },
  ]);
  // Hex: no character a URL, a shell `export $(...)` or redis.conf would need escaped.
  fs.writeFileSync(files.aclPassword, randomBytes(24).toString("hex"), { mode: 0o600 });
  return files;
}

function redisConf({ port, tlsPort, busPort, dir, tls, authClients }) {
  return [
    "bind 127.0.0.1",
    `port ${port}`,
    // TLS on a second port; the plain port stays for the tests that do not need TLS.
    `tls-port ${tlsPort}`,
    `tls-cert-file ${tls.serverCert}`,
    `tls-key-file ${tls.serverKey}`,
    `tls-ca-cert-file ${tls.ca}`,
    `tls-auth-clients ${authClients}`,
    // `default` stays as it is (no password, every right); the ACL user needs its password.
    `user ${ACL_USER} on >${fs.readFileSync(tls.aclPassword, "utf8")} ~* &* +@all`,
    `dir ${dir}`,
    // Tests need no durability; no RDB/AOF keeps start/stop instant and the disk clean.
    'save ""',
    "appendonly no",
    "daemonize no",
    'logfile ""',
    // Keep the config path in /proc/<pid>/cmdline: it is how isOurs() recognises the process.
    "set-proc-title no",
    ...(busPort
      ? [
          "cluster-enabled yes",
          "cluster-config-file nodes.conf",
          `cluster-port ${busPort}`,
          "cluster-node-timeout 5000",
          // The bus speaks TLS, and CLUSTER SLOTS answers TLS clients with TLS ports
          // (plain clients still get the plain ones).
          "tls-cluster yes",
          "tls-replication yes",
        ]
      : []),
    "",
  ].join("\n");
}

/** Starts one redis-server and waits for PING; returns its Proc record. */
async function startRedisProc(name, { port, tlsPort, busPort, authClients }) {
  const dir = path.join(STATE_DIR, name);
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dir, { recursive: true });
  const conf = path.join(dir, "redis.conf");
  const tls = await ensureTls();
  fs.writeFileSync(conf, redisConf({ port, tlsPort, busPort, dir, tls, authClients }), { mode: 0o600 });
  const logFile = path.join(LOG_DIR, `${name}.log`);
  const pid = spawnDaemon("redis-server", [conf], logFile, dir);
  /** @type {Proc} */
  const proc = { port, tlsPort, pid, dir, marker: conf, ...(busPort ? { busPort } : {}) };
  const ready = await waitUntil(async () => {
    if (!isOurs(pid, conf)) throw new Error(`redis-server ${name} exited during start-up:\n${tail(logFile)}`);
    try {
      return (await redisCli(port, ["ping"], 2_000)).trim() === "PONG";
    } catch {
      return false;
    }
  }, WAIT.redisReady);
  if (!ready) {
    await stopProc(proc, 2_000);
    throw new Error(`redis-server ${name} not answering PING after ${WAIT.redisReady / 1000}s:\n${tail(logFile)}`);
  }
  return proc;
}

async function redisHealthy(piece) {
  const procs = piece?.procs ?? [];
  if (procs.length === 0 || !procs.every((p) => isOurs(p.pid, p.marker))) return false;
  try {
    return (await redisCli(procs[0].port, ["ping"], 2_000)).trim() === "PONG";
  } catch {
    return false;
  }
}

async function clusterHealthy(piece) {
  if (!(await redisHealthy(piece))) return false;
  try {
    const infos = await Promise.all(piece.procs.map((p) => redisCli(p.port, ["cluster", "info"], 2_000)));
    return infos.every((i) => /cluster_state:ok/.test(i) && /cluster_slots_ok:16384/.test(i));
  } catch {
    return false;
  }
}

async function upRedis(state) {
  if (await redisHealthy(state.redis)) return false;
  await downPiece(state, "redis");
  const [port, tlsPort] = await reusePorts(
    state.redis?.procs.flatMap((p) => [p.port, p.tlsPort]),
    2,
  );
  log(`starting redis on 127.0.0.1:${port} (TLS ${tlsPort})`);
  // The single node wants a client certificate on its TLS port (mutual TLS); the cluster does not.
  state.redis = { procs: [await startRedisProc("redis", { port, tlsPort, authClients: "yes" })] };
  writeState(state);
  return true;
}

async function upCluster(state) {
  if (await clusterHealthy(state.cluster)) return false;
  await downPiece(state, "cluster");
  const prev = state.cluster?.procs;
  // Explicit bus ports (not the implicit port+10000, which may be taken or exceed 65535).
  const ports = await reusePorts(
    prev?.flatMap((p) => [p.port, p.busPort, p.tlsPort]),
    CLUSTER_SIZE * 3,
  );
  const nodes = Array.from({ length: CLUSTER_SIZE }, (_, i) => ({
    port: ports[3 * i],
    busPort: ports[3 * i + 1],
    tlsPort: ports[3 * i + 2],
    authClients: "optional",
  }));
  log(
    `starting redis cluster on 127.0.0.1:${nodes.map((n) => n.port).join(",")} (TLS ${nodes.map((n) => n.tlsPort).join(",")})`,
  );
  state.cluster = { procs: [] };
  for (const [i, n] of nodes.entries()) {
    state.cluster.procs.push(await startRedisProc(`cluster-${i + 1}`, n));
    writeState(state); // record each node as soon as it runs, so a failure later still cleans it
  }
  const addrs = nodes.map((n) => `127.0.0.1:${n.port}`);
  await execFileP("redis-cli", ["--cluster", "create", ...addrs, "--cluster-replicas", "0", "--cluster-yes"], {
    timeout: WAIT.clusterOk,
  }).catch((err) => {
    throw new Error(`redis-cli --cluster create failed: ${err.stdout ?? ""}${err.stderr ?? ""}${err.message}`);
  });
  // `--cluster create` returns once slots are assigned; gossip makes every node agree a bit later.
  if (!(await waitUntil(() => clusterHealthy(state.cluster), WAIT.clusterOk, 250))) {
    const info = await redisCli(nodes[0].port, ["cluster", "info"]).catch((e) => String(e));
    throw new Error(`redis cluster not ok after ${WAIT.clusterOk / 1000}s:\n${info}`);
  }
  return true;
}

// ───────────────────────────── kafka ─────────────────────────────

/** The Kafka version is defined once, in the pom; the lib cache is keyed by it. */
export function kafkaVersion() {
  const m = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(fs.readFileSync(KAFKA_POM, "utf8"));
  if (!m) throw new Error(`no <kafka.version> in ${KAFKA_POM}`);
  return m[1].trim();
}

/** Resolves the broker's jars from Maven Central once; later runs are offline. */
async function kafkaLib(version) {
  const lib = path.join(ROOT, ".cache", "kafka", version, "lib");
  if (fs.existsSync(lib)) return lib;
  for (const tool of ["java", "mvn"]) {
    if (!(await which(tool)))
      throw new Error(
        `${tool} not found: Kafka needs Java 17+ and Maven (apt-get install openjdk-17-jre-headless maven)`,
      );
  }
  // Download into a temp dir and rename: an interrupted download never looks complete.
  const tmp = `${lib}.tmp-${process.pid}`;
  fs.rmSync(tmp, { recursive: true, force: true });
  log(`fetching Kafka ${version} jars from Maven Central (first run only)`);
  const started = Date.now();
  try {
    await execFileP(
      "mvn",
      [
        "-q",
        "-B",
        "-f",
        KAFKA_POM,
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        `-DoutputDirectory=${tmp}`,
      ],
      { timeout: WAIT.mavenFetch, maxBuffer: 64 << 20 },
    );
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw new Error(`mvn could not fetch Kafka ${version}: ${err.stdout ?? ""}${err.stderr ?? ""}${err.message}`);
  }
  fs.renameSync(tmp, lib);
  log(`Kafka jars ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return lib;
}

/** The user the SASL_SSL listener knows, by SCRAM-SHA-512 (added at format time) and PLAIN. */
const KAFKA_SASL_USER = "mlcache";

function kafkaServerProperties({ port, controllerPort, dataDir, sasl, keystore }) {
  return [
    // One JVM is both broker and KRaft controller: the smallest real Kafka there is.
    "process.roles=broker,controller",
    "node.id=1",
    `controller.quorum.voters=1@127.0.0.1:${controllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${port},CONTROLLER://127.0.0.1:${controllerPort},SASL_SSL://127.0.0.1:${sasl.port}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${port},SASL_SSL://127.0.0.1:${sasl.port}`,
    "controller.listener.names=CONTROLLER",
    // The broker talks to itself in plaintext; only clients use SASL_SSL.
    "inter.broker.listener.name=PLAINTEXT",
    "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT,SASL_SSL:SASL_SSL",
    // SASL_SSL: TLS with a PEM key and chain (no client certificates), then SCRAM or PLAIN.
    "listener.name.sasl_ssl.ssl.keystore.type=PEM",
    `listener.name.sasl_ssl.ssl.keystore.location=${keystore}`,
    "listener.name.sasl_ssl.sasl.enabled.mechanisms=SCRAM-SHA-512,PLAIN",
    // SCRAM credentials live in the cluster metadata (StorageTool format --add-scram).
    "listener.name.sasl_ssl.scram-sha-512.sasl.jaas.config=org.apache.kafka.common.security.scram.ScramLoginModule required;",
    `listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required user_${sasl.username}="${sasl.password}";`,
    `log.dirs=${dataDir}`,
    "num.partitions=1",
    "auto.create.topics.enable=true",
    // Internal topics must fit a single broker.
    "offsets.topic.replication.factor=1",
    "transaction.state.log.replication.factor=1",
    "transaction.state.log.min.isr=1",
    "share.coordinator.state.topic.replication.factor=1",
    "share.coordinator.state.topic.min.isr=1",
    // Fewer internal partitions: creating/loading 50 of them costs seconds on a 2-core box.
    "offsets.topic.num.partitions=1",
    "transaction.state.log.num.partitions=1",
    // Consumer groups in tests should not wait 3 s for more members that never come.
    "group.initial.rebalance.delay.ms=0",
    // Broker and controller share one JVM: a test that pauses it (SIGSTOP) would have the
    // controller fence its own broker on resume (missed heartbeats) and move every partition's
    // leadership — an artifact of the combined mode, not the stall under test. Kafka's fencing
    // after a real broker failover is a separate case (README, "Consistency": known limits).
    "broker.session.timeout.ms=30000",
    // The default 128 MiB dedupe buffer would take a quarter of the small heap.
    "log.cleaner.dedupe.buffer.size=16777216",
    "",
  ].join("\n");
}

function kafkaLog4j(file) {
  return [
    "status = warn",
    // Kafka stops on SIGTERM via its own hook; log4j's hook would race it and complain.
    "shutdownHook = disable",
    "appender.file.type = File",
    "appender.file.name = FILE",
    `appender.file.fileName = ${file}`,
    "appender.file.layout.type = PatternLayout",
    "appender.file.layout.pattern = [%d] %p %m (%c)%n",
    "rootLogger.level = INFO",
    "rootLogger.appenderRef.file.ref = FILE",
    "",
  ].join("\n");
}

/** Kafka's cluster id: 16 random bytes, base64url; like Kafka's own, never starting with '-'. */
function kafkaClusterId() {
  for (;;) {
    const id = randomBytes(16).toString("base64url");
    if (!id.startsWith("-")) return id;
  }
}

/**
 * A CA and a broker certificate for 127.0.0.1 / localhost, made by openssl in `dir`; the broker
 * reads key and chain from one PEM file. Returns the CA (clients trust it) and that file.
 */
async function kafkaCertificates(dir) {
  await makeCertificates(dir, "/CN=mlcache test Kafka CA", [
    {
      name: "broker",
      subject: "/CN=localhost",
      extensions: "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
    },
  ]);
  const keystore = path.join(dir, "broker-keystore.pem");
  const read = (name) => fs.readFileSync(path.join(dir, name), "utf8");
  fs.writeFileSync(keystore, read("broker.key") + read("broker.pem") + read("ca.pem"), { mode: 0o600 });
  return { ca: path.join(dir, "ca.pem"), keystore };
}

/**
 * librdkafka properties (kcat -X) for the SASL_SSL listener. PLAIN: Debian's kcat (librdkafka
 * 2.0.2) fails SCRAM-SHA-512 against Kafka 4.4 ("invalid credentials") where kafkajs succeeds
 * with the same user and password; PLAIN over the same TLS listener works for both.
 */
export function kafkaSaslKcatArgs(sasl) {
  return [
    "-X",
    "security.protocol=SASL_SSL",
    "-X",
    "sasl.mechanisms=PLAIN",
    "-X",
    `sasl.username=${sasl.username}`,
    "-X",
    `sasl.password=${sasl.password}`,
    "-X",
    `ssl.ca.location=${sasl.ca}`,
  ];
}

const JVM_OPTS = ["-Xms128m", "-Xmx512m", "-XX:+UseG1GC", "-XX:+ExitOnOutOfMemoryError", "-Djava.awt.headless=true"];

async function kafkaHealthy(piece) {
  const proc = piece?.procs?.[0];
  if (!proc || !isOurs(proc.pid, proc.marker)) return false;
  // A broker started by an older version of this script has no SASL_SSL listener: restart it.
  if (!piece.sasl) return false;
  try {
    // A metadata round trip that lists our broker: the listener is up and the broker has
    // registered with the controller (a mere TCP connect would pass earlier than that). Both
    // listeners, the SASL_SSL one with the SCRAM user: TLS and the credentials work.
    const metadata = async (port, extra) => {
      const { stdout } = await execFileP("kcat", ["-b", `127.0.0.1:${port}`, ...extra, "-L", "-m", "3"], {
        timeout: 5_000,
      });
      return /\b1 brokers:/.test(stdout) && stdout.includes(`broker 1 at 127.0.0.1:${port}`);
    };
    return (await metadata(proc.port, [])) && (await metadata(piece.sasl.port, kafkaSaslKcatArgs(piece.sasl)));
  } catch {
    return false;
  }
}

async function upKafka(state) {
  if (await kafkaHealthy(state.kafka)) return false;
  await downPiece(state, "kafka");
  const version = kafkaVersion();
  const lib = await kafkaLib(version);
  const prev = state.kafka
    ? [state.kafka.procs[0]?.port, state.kafka.controllerPort, state.kafka.sasl?.port]
    : undefined;
  const [port, controllerPort, saslPort] = await reusePorts(prev, 3);

  const dir = path.join(STATE_DIR, "kafka");
  const dataDir = path.join(dir, "data");
  fs.rmSync(dir, { recursive: true, force: true });
  fs.mkdirSync(dataDir, { recursive: true });
  const props = path.join(dir, "server.properties");
  const log4j = path.join(dir, "log4j2.properties");
  const serverLog = path.join(LOG_DIR, "kafka.log");
  const stdoutLog = path.join(LOG_DIR, "kafka.out");
  fs.mkdirSync(LOG_DIR, { recursive: true });
  fs.rmSync(serverLog, { force: true });
  const { ca, keystore } = await kafkaCertificates(path.join(dir, "tls"));
  // Hex: nothing to quote in the JAAS line, the --add-scram argument or kcat's -X.
  const sasl = { port: saslPort, username: KAFKA_SASL_USER, password: randomBytes(18).toString("hex"), ca };
  fs.writeFileSync(props, kafkaServerProperties({ port, controllerPort, dataDir, sasl, keystore }), { mode: 0o600 });
  fs.writeFileSync(log4j, kafkaLog4j(serverLog));
  const classpath = ["-cp", path.join(lib, "*")];
  // The data dir is made afresh on every start (removed above), so the SCRAM user is always there.
  const scram = `SCRAM-SHA-512=[name=${sasl.username},password=${sasl.password}]`;

  log(`formatting Kafka ${version} storage`);
  await execFileP(
    "java",
    // No log4j config here: its default (errors to the console) lands in the error message.
    [
      "-Xmx256m",
      ...classpath,
      "kafka.tools.StorageTool",
      "format",
      "-t",
      kafkaClusterId(),
      "-c",
      props,
      "--add-scram",
      scram,
    ],
    {
      timeout: WAIT.kafkaFormat,
    },
  ).catch((err) => {
    throw new Error(`kafka storage format failed: ${err.stdout ?? ""}${err.stderr ?? ""}${err.message}`);
  });

  log(`starting Kafka ${version} on 127.0.0.1:${port}, SASL_SSL on ${saslPort} (controller ${controllerPort})`);
  const jvm = [...JVM_OPTS, ...classpath, `-Dlog4j2.configurationFile=${log4j}`];
  const pid = spawnDaemon("java", [...jvm, "kafka.Kafka", props], stdoutLog, dir);
  state.kafka = { procs: [{ port, pid, dir, marker: props }], controllerPort, version, sasl };
  writeState(state);

  const started = Date.now();
  const ready = await waitUntil(
    async () => {
      if (!isOurs(pid, props)) throw new Error(`Kafka exited during start-up:\n${tail(stdoutLog)}\n${tail(serverLog)}`);
      return kafkaHealthy(state.kafka);
    },
    WAIT.kafkaReady,
    500,
  );
  if (!ready) {
    const logs = `${tail(serverLog, 60)}\n--- ${stdoutLog} ---\n${tail(stdoutLog, 20)}`;
    await downPiece(state, "kafka");
    throw new Error(`Kafka not ready after ${WAIT.kafkaReady / 1000}s:\n${logs}`);
  }
  log(`Kafka ready in ${((Date.now() - started) / 1000).toFixed(1)}s`);
  return true;
}

// ──────────────────────────── public API ────────────────────────────

/** Stops one piece; keeps its ports in the state so a later `up` of it reuses them. */
async function downPiece(state, piece) {
  const entry = state[piece];
  if (!entry) return;
  await Promise.all(entry.procs.map((p) => stopProc(p, WAIT.stopGrace[piece])));
  for (const p of entry.procs) {
    fs.rmSync(p.dir, { recursive: true, force: true });
    delete p.pid;
  }
  writeState(state);
}

/** @param {string | string[] | undefined} which @returns {Array<typeof PIECES[number]>} */
function normalize(which) {
  const list = (Array.isArray(which) ? which : which ? [which] : []).flatMap((w) => (w === "all" ? [...PIECES] : [w]));
  for (const w of list)
    if (!PIECES.includes(w)) throw new Error(`unknown service "${w}" (expected ${PIECES.join(", ")} or all)`);
  return list.length ? PIECES.filter((p) => list.includes(p)) : [...PIECES];
}

/** The variables each piece prints (the first names the piece's address). */
export const PIECE_ENV = {
  redis: [
    "MLCACHE_REDIS_URL",
    "MLCACHE_REDIS_TLS_URL", // rediss://, the TLS port; wants a client certificate
    "MLCACHE_REDIS_TLS_CA",
    "MLCACHE_REDIS_TLS_CERT",
    "MLCACHE_REDIS_TLS_KEY",
    "MLCACHE_REDIS_ACL_USER",
    "MLCACHE_REDIS_ACL_PASSWORD",
  ],
  cluster: [
    "MLCACHE_REDIS_CLUSTER_NODES",
    "MLCACHE_REDIS_CLUSTER_TLS_NODES", // TLS ports; a client certificate is optional
    "MLCACHE_REDIS_TLS_CA",
    "MLCACHE_REDIS_TLS_CERT",
    "MLCACHE_REDIS_TLS_KEY",
    "MLCACHE_REDIS_ACL_USER",
    "MLCACHE_REDIS_ACL_PASSWORD",
  ],
  kafka: [
    "MLCACHE_KAFKA_BROKERS",
    "MLCACHE_KAFKA_SASL_BROKERS", // SASL_SSL listener
    "MLCACHE_KAFKA_CA",
    "MLCACHE_KAFKA_SASL_MECHANISM",
    "MLCACHE_KAFKA_SASL_USER",
    "MLCACHE_KAFKA_SASL_PASSWORD",
  ],
};

/** The TLS files and ACL credentials every Redis piece prints. */
function redisSecurityEnv() {
  let password;
  try {
    password = fs.readFileSync(path.join(TLS_DIR, "acl-password"), "utf8");
  } catch {
    return [];
  }
  return [
    ["MLCACHE_REDIS_TLS_CA", path.join(TLS_DIR, "ca.pem")],
    ["MLCACHE_REDIS_TLS_CERT", path.join(TLS_DIR, "client.pem")],
    ["MLCACHE_REDIS_TLS_KEY", path.join(TLS_DIR, "client.key")],
    ["MLCACHE_REDIS_ACL_USER", ACL_USER],
    ["MLCACHE_REDIS_ACL_PASSWORD", password],
  ];
}

/** [name, value] pairs of a running piece; undefined when it is not running. */
function envOf(state, piece) {
  const procs = state[piece]?.procs ?? [];
  if (procs.length === 0 || !procs.every((p) => isOurs(p.pid, p.marker))) return undefined;
  switch (piece) {
    case "redis":
      return [
        ["MLCACHE_REDIS_URL", `redis://127.0.0.1:${procs[0].port}`],
        ...(procs[0].tlsPort ? [["MLCACHE_REDIS_TLS_URL", `rediss://127.0.0.1:${procs[0].tlsPort}`]] : []),
        ...redisSecurityEnv(),
      ];
    case "cluster":
      return [
        ["MLCACHE_REDIS_CLUSTER_NODES", procs.map((p) => `127.0.0.1:${p.port}`).join(",")],
        ...(procs.every((p) => p.tlsPort)
          ? [["MLCACHE_REDIS_CLUSTER_TLS_NODES", procs.map((p) => `127.0.0.1:${p.tlsPort}`).join(",")]]
          : []),
        ...redisSecurityEnv(),
      ];
    case "kafka": {
      const sasl = state.kafka.sasl;
      return [
        ["MLCACHE_KAFKA_BROKERS", `127.0.0.1:${procs[0].port}`],
        ...(sasl
          ? [
              ["MLCACHE_KAFKA_SASL_BROKERS", `127.0.0.1:${sasl.port}`],
              ["MLCACHE_KAFKA_CA", sasl.ca],
              ["MLCACHE_KAFKA_SASL_MECHANISM", "scram-sha-512"],
              ["MLCACHE_KAFKA_SASL_USER", sasl.username],
              ["MLCACHE_KAFKA_SASL_PASSWORD", sasl.password],
            ]
          : []),
      ];
    }
  }
}

/**
 * Env vars of the running pieces among `which` (default all). Only process liveness is
 * checked here, so it is cheap; `up` does the real health checks.
 * @returns {Record<string, string>}
 */
export function env(which) {
  const state = readState();
  return Object.fromEntries(normalize(which).flatMap((p) => envOf(state, p) ?? []));
}

/** Names of the pieces among `which` that are running now. */
export function running(which) {
  const state = readState();
  return normalize(which).filter((p) => envOf(state, p));
}

/**
 * Starts the pieces in `which` (default all) that are not already healthy.
 * @returns {Promise<{ env: Record<string, string>, started: string[] }>} env of every
 *   running piece, and which pieces this call started (the caller owns stopping those).
 */
export async function up(which) {
  const pieces = normalize(which);
  return withLock(async () => {
    await ensureAptTools();
    const state = readState();
    const started = [];
    const starters = { redis: upRedis, cluster: upCluster, kafka: upKafka };
    for (const piece of pieces) {
      try {
        if (await starters[piece](state)) started.push(piece);
      } catch (err) {
        // Leave no half-started piece behind (e.g. cluster nodes whose `--cluster create` failed).
        await downPiece(state, piece).catch(() => {});
        throw err;
      }
    }
    return { env: env(), started };
  });
}

/** Stops the pieces in `which` (default all) and removes their data; idempotent. */
export async function down(which) {
  const pieces = normalize(which);
  await withLock(async () => {
    const state = readState();
    for (const piece of pieces) {
      if (state[piece]) log(`stopping ${piece}`);
      await downPiece(state, piece);
    }
    if (pieces.length === PIECES.length) {
      // Sweep up daemons whose state entry was lost (state file deleted by hand, or a crash
      // between spawn and writeState): they still name a config file under .services/.
      const orphans = findUnder(STATE_DIR);
      if (orphans.length) log(`stopping orphaned pid ${orphans.map((o) => o.pid).join(",")}`);
      await Promise.all(orphans.map((o) => stopProc({ marker: o.marker, pid: o.pid }, WAIT.stopGrace.kafka)));
      // Everything is down: forget the reserved ports too. Logs stay for post-mortems.
      for (const name of [
        "redis",
        "kafka",
        "tls",
        ...Array.from({ length: CLUSTER_SIZE }, (_, i) => `cluster-${i + 1}`),
      ]) {
        fs.rmSync(path.join(STATE_DIR, name), { recursive: true, force: true });
      }
      fs.rmSync(STATE_FILE, { force: true });
    }
  });
}

export function formatEnv(vars) {
  return Object.entries(vars)
    .map(([k, v]) => `${k}=${v}\n`)
    .join("");
}

// ─────────────────────────────── CLI ───────────────────────────────

async function main(argv) {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case "up": {
      const t0 = Date.now();
      const { started } = await up(rest);
      log(
        started.length
          ? `started ${started.join(", ")} in ${((Date.now() - t0) / 1000).toFixed(1)}s`
          : "already running",
      );
      process.stdout.write(formatEnv(env(rest)));
      return 0;
    }
    case "down":
      await down(rest);
      return 0;
    case "env": {
      const vars = env(rest);
      process.stdout.write(formatEnv(vars));
      const missing = normalize(rest).filter((p) => !running(p).length);
      if (missing.length) log(`not running: ${missing.join(", ")}`);
      return missing.length ? 1 : 0;
    }
    default:
      process.stderr.write(
        "usage: scripts/services up|down|env [redis|cluster|kafka|all ...]\n" +
          "  up    start (idempotent); prints MLCACHE_* lines: export $(scripts/services up)\n" +
          "  down  stop and remove data (idempotent)\n" +
          "  env   print MLCACHE_* lines of running services; non-zero if any is not running\n",
      );
      return 2;
  }
}

if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err) => {
      log(`error: ${err.message}`);
      process.exit(1);
    },
  );
}

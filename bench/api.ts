/**
 * Get over the gRPC port, answered by L1, against a bare grpc-js handler that answers the same
 * message with no cache, interceptors or contexts — the floor of what grpc-js costs. Load comes
 * from ghz (`go install github.com/bojand/ghz/cmd/ghz@latest`; found on PATH or in ~/go/bin),
 * a separate process, alternating each variant with the bare server run for run, so noise on a
 * shared machine hits both sides of a ratio alike. Prints JSON lines and the ratios.
 *
 * Variants: `plain` (no authentication) and `auth` (a bearer token configured and sent as
 * `authorization` metadata, `/metrics` closed to anonymous callers and scraped with the token
 * once a second during the run, so the metrics path is exercised too).
 *
 *   npm run bench:api                      # 15 alternating pairs of 10,000 calls, 32 in flight
 *   npm run bench:api -- --requests 30000 --concurrency 32 --runs 5
 *   npm run bench:api -- --variants auth --runs 5
 *
 * To profile one side: `--variants plain --peer false` under `node --cpu-prof`, then
 * `node scripts/cpuprofile-top.mjs CPU.*.cpuprofile`.
 */
import { execFile, execFileSync } from "node:child_process";
import { existsSync, mkdtempSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { parseArgs, promisify } from "node:util";
import { create } from "@bufbuild/protobuf";
import * as grpc from "@grpc/grpc-js";
import { parseConfig } from "../src/config/config.js";
import { CacheService, GetResponseSchema } from "../src/gen/mlcache/v1/cache_pb.js";
import { itemFrom } from "../src/rpc/convert.js";
import { grpcService } from "../src/rpc/grpc-adapter.js";
import { type RunningService, startService } from "../src/server.js";

const execFileAsync = promisify(execFile);
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "10000" },
    concurrency: { type: "string", default: "32" },
    runs: { type: "string", default: "15" },
    /** Comma-separated: plain, auth. */
    variants: { type: "string", default: "plain,auth" },
    /** "false": load only the variants (for profiling them alone). */
    peer: { type: "string", default: "true" },
  },
});
const ghz = ["ghz", join(homedir(), "go", "bin", "ghz")].find((candidate) => {
  try {
    execFileSync(candidate, ["--version"], { stdio: "ignore" });
    return true;
  } catch {
    return existsSync(candidate) && false;
  }
});
if (!ghz) throw new Error("ghz not found: go install github.com/bojand/ghz/cmd/ghz@latest");

const TOKEN = "bench-token-0123456789abcdef";
const value = new Uint8Array(256).fill(7);

/** The instance of a variant, with `bench/k` in L1. */
async function instance(variant: string): Promise<RunningService> {
  const auth =
    variant === "auth"
      ? { auth: { tokens: [{ name: "bench", token: TOKEN, rights: ["read", "write"] }], open: { metrics: false } } }
      : {};
  const service = await startService(
    parseConfig({ server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 }, log: { level: "silent" }, ...auth }),
  );
  await service.manager.set("bench", "k", value);
  return service;
}

// The bare peer: the same method and message, answered with a constant: the message ours
// answers (every field of the item set: source, age, ttl, version), taken from each variant's
// instance before its runs.
let answer = create(GetResponseSchema, { item: { key: "k", found: true, value } });
const bare = new grpc.Server();
const { definition } = grpcService(CacheService, {
  get: () => answer,
  bulkGet: () => ({}),
  set: () => ({}),
  invalidate: () => ({}),
  async *watchStats() {},
  inspect: () => ({}),
});
bare.addService(definition, { Get: (_call: unknown, callback: grpc.sendUnaryData<unknown>) => callback(null, answer) });
const barePort = await new Promise<number>((resolve, reject) =>
  bare.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, port) =>
    error ? reject(error) : resolve(port),
  ),
);

// ghz's own .proto parser predates proto3 `optional`: hand it a descriptor set built by buf.
const protoset = join(mkdtempSync(join(tmpdir(), "mlcache-bench-")), "mlcache.binpb");
execFileSync(join(process.cwd(), "node_modules", ".bin", "buf"), ["build", "-o", protoset], { stdio: "inherit" });
// Asynchronous: the servers run in this process and must keep serving while ghz runs.
// Besides throughput, the CPU time this process spends per call while it is under load: the
// servers share the process but take turns, and CPU time hardly depends on what else the
// machine runs, so its ratio is the steadier one on a shared machine.
async function load(port: number, metadata?: Record<string, string>): Promise<{ rps: number; cpuUs: number }> {
  const cpuBefore = process.cpuUsage();
  const { stdout: out } = await execFileAsync(
    ghz as string,
    [
      "--insecure",
      "--protoset",
      protoset,
      "--call",
      "mlcache.v1.CacheService/Get",
      "-d",
      '{"namespace":"bench","key":"k"}',
      ...(metadata ? ["-m", JSON.stringify(metadata)] : []),
      "-c",
      String(values.concurrency),
      "-n",
      String(values.requests),
      "--format",
      "json",
      `127.0.0.1:${port}`,
    ],
    { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 },
  );
  const report = JSON.parse(out) as { rps: number; statusCodeDistribution?: Record<string, number> };
  const codes = Object.keys(report.statusCodeDistribution ?? {});
  if (codes.some((code) => code !== "OK"))
    throw new Error(`calls failed: ${JSON.stringify(report.statusCodeDistribution)}`);
  const cpu = process.cpuUsage(cpuBefore);
  return { rps: report.rps, cpuUs: (cpu.user + cpu.system) / Number(values.requests) };
}

/** Scrapes `/metrics` with the token once a second until stopped, as a (busy) Prometheus would. */
function scraping(service: RunningService): () => Promise<number> {
  let scrapes = 0;
  let failed: unknown;
  const scrape = () =>
    fetch(`http://127.0.0.1:${service.httpPort}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } })
      .then(async (response) => {
        if (!response.ok) throw new Error(`/metrics answered ${response.status}`);
        await response.text();
        scrapes++;
      })
      .catch((error: unknown) => {
        failed ??= error;
      });
  const timer = setInterval(scrape, 1000);
  return async () => {
    clearInterval(timer);
    await scrape();
    if (failed) throw failed;
    return scrapes;
  };
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "api", ...line }));
const withPeer = values.peer !== "false";
for (const variant of values.variants.split(",")) {
  if (variant !== "plain" && variant !== "auth") throw new Error(`unknown variant ${variant}: plain or auth`);
  const service = await instance(variant);
  answer = create(GetResponseSchema, { item: itemFrom(await service.manager.get("bench", "k")) });
  const metadata = variant === "auth" ? { authorization: `Bearer ${TOKEN}` } : undefined;
  const ours: { rps: number; cpuUs: number }[] = [];
  const peer: { rps: number; cpuUs: number }[] = [];
  for (let run = 0; run < Number(values.runs); run++) {
    const stopScraping = variant === "auth" ? scraping(service) : undefined;
    ours.push(await load(service.grpcPort, metadata));
    await stopScraping?.();
    // The same request to the floor: with the authorization header when ours gets one.
    if (withPeer) peer.push(await load(barePort, metadata));
  }
  await service.close();
  const impl = variant === "auth" ? "mlcache Get (L1 hit), auth + /metrics scraped" : "mlcache Get (L1 hit)";
  const summary = (runs: typeof ours) => ({
    rps: Math.round(median(runs.map((r) => r.rps))),
    cpuUsPerCall: Number(median(runs.map((r) => r.cpuUs)).toFixed(1)),
    runs: runs.map((r) => Math.round(r.rps)),
  });
  print({ variant, impl, ...summary(ours) });
  if (!withPeer) continue;
  print({ variant, impl: "bare grpc-js handler", ...summary(peer) });
  // Per-run ratios show the noise; `throughput` is their median (each run's pair shared the
  // machine's state), `ofMedians` the ratio of the medians of each side. `cpu` is the bare
  // handler's CPU time per call over ours: the throughput ratio the two would have on a quiet
  // machine where the server is the bottleneck.
  const ratio = (a: number, b: number) => Number((a / b).toFixed(3));
  const perRun = ours.map((r, i) => ratio(r.rps, peer[i]?.rps ?? Number.NaN));
  const cpu = ratio(median(peer.map((r) => r.cpuUs)), median(ours.map((r) => r.cpuUs)));
  print({
    variant,
    ratio: "mlcache/bare",
    throughput: median(perRun),
    ofMedians: ratio(median(ours.map((r) => r.rps)), median(peer.map((r) => r.rps))),
    perRun,
    cpu,
  });
}
bare.forceShutdown();

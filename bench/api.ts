/**
 * Get over the gRPC port, answered by L1, against a bare grpc-js handler that answers the same
 * message with no cache, interceptors or contexts — the floor of what grpc-js costs. Load comes
 * from ghz (`go install github.com/bojand/ghz/cmd/ghz@latest`; found on PATH or in ~/go/bin),
 * a separate process, alternating the two servers. Prints JSON lines and the ratio.
 *
 *   npm run bench:api -- --requests 30000 --concurrency 32
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
import { grpcService } from "../src/rpc/grpc-adapter.js";
import { startService } from "../src/server.js";

const execFileAsync = promisify(execFile);
const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "30000" },
    concurrency: { type: "string", default: "32" },
    runs: { type: "string", default: "3" },
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

const value = new Uint8Array(256).fill(7);
const service = await startService(
  parseConfig({ server: { host: "127.0.0.1", grpcPort: 0, httpPort: 0 }, log: { level: "silent" } }),
);
await service.manager.set("bench", "k", value);

// The bare peer: the same method and message, answered with a constant.
const answer = create(GetResponseSchema, { item: { key: "k", found: true, value } });
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
async function load(port: number): Promise<number> {
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
  return (JSON.parse(out) as { rps: number }).rps;
}

const ours: number[] = [];
const peer: number[] = [];
for (let run = 0; run < Number(values.runs); run++) {
  ours.push(await load(service.grpcPort));
  peer.push(await load(barePort));
}
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] ?? 0;
const print = (line: Record<string, unknown>) => console.log(JSON.stringify({ bench: "api", ...line }));
print({ impl: "mlcache Get (L1 hit)", rps: Math.round(median(ours)), runs: ours.map(Math.round) });
print({ impl: "bare grpc-js handler", rps: Math.round(median(peer)), runs: peer.map(Math.round) });
print({ ratio: "mlcache/bare", throughput: Number((median(ours) / median(peer)).toFixed(3)) });
bare.forceShutdown();
await service.close();

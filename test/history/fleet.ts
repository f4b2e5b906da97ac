// The fleet under test: service instances as separate processes (`mlcache serve`), each with a
// stable instanceId and fixed loopback ports so that a killed instance comes back as itself,
// plus one write-behind sink (`mlcache sink`). All share the real Redis and Kafka.

import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { createWriteStream, mkdirSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { parseConfig } from "../../src/config/config.js";
import { sleep, waitFor } from "./clock.js";
import { PROJECT_ROOT } from "./project.js";
import { ServicePauser } from "./services.js";

/** One instance clients can call. */
export interface FleetMember {
  readonly instanceId: string;
  /** host:port of its gRPC port. */
  readonly grpcAddress: string;
}

/** The instances under test, and what the checker may do to them. */
export interface Fleet {
  readonly members: readonly FleetMember[];
  /** Kills an instance at once (no shutdown). Absent: the fleet cannot be killed. */
  kill?(index: number): Promise<void>;
  /** Starts a killed instance again, same identity and ports; resolves once it is ready. */
  restart?(index: number): Promise<void>;
  close(): Promise<void>;
}

/** What a process fleet is made of. */
export interface ProcessFleetOptions {
  size: number;
  /** Unique per fleet: names its instances, Redis key prefix and Kafka topics. */
  tag: string;
  redisUrl: string;
  kafkaBrokers: string[];
  origin: { urlTemplate: string; bulkUrl: string };
  propagationBoundMs: number;
  /** Where configs and logs go. */
  dir: string;
  /** How long an instance may take to report ready. */
  readyTimeoutMs?: number;
}

/** The configured L1 TTL of every namespace: the policy checks' starting marker. */
export const BASE_L1_TTL_SECONDS = 300;

const CHILD_ENV = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("MLCACHE_")));

/** A port free on 127.0.0.1 right now. */
async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** Whether this build knows `consistency.propagationBound` (the contract's new setting). */
function supportsPropagationBound(): boolean {
  try {
    parseConfig({ consistency: { propagationBound: "2s" } });
    return true;
  } catch {
    return false;
  }
}

function seconds(ms: number): string {
  return `${ms / 1000}s`;
}

/** The configuration of one process of the fleet (JSON is YAML). */
export function fleetConfig(options: ProcessFleetOptions, instanceId: string, ports?: { grpc: number; http: number }) {
  return {
    instanceId,
    ...(ports
      ? { server: { host: "127.0.0.1", grpcPort: ports.grpc, httpPort: ports.http, shutdownGrace: "2s" } }
      : {}),
    log: { level: "warn" },
    redis: { url: options.redisUrl, keyPrefix: `${options.tag}:` },
    kafka: {
      brokers: options.kafkaBrokers,
      topics: {
        invalidations: `${options.tag}.invalidations`,
        writes: `${options.tag}.writes`,
        deadLetters: `${options.tag}.dead-letters`,
      },
    },
    ...(supportsPropagationBound() ? { consistency: { propagationBound: seconds(options.propagationBoundMs) } } : {}),
    defaults: {
      // Stale after 3 s, so refreshes run during the workload; gone after 300 s (never, here).
      l1: { ttl: `${BASE_L1_TTL_SECONDS}s`, freshFor: "3s" },
      loader: {
        http: { urlTemplate: options.origin.urlTemplate, bulkUrl: options.origin.bulkUrl },
        hardTimeout: "5s",
      },
      writer: { http: { urlTemplate: options.origin.urlTemplate } },
    },
  };
}

interface Instance {
  instanceId: string;
  grpcPort: number;
  httpPort: number;
  configFile: string;
  process?: ChildProcess | undefined;
}

const started = new Set<ChildProcess>();
process.once("exit", () => {
  for (const child of started) child.kill("SIGKILL");
});

/** A fleet of `mlcache serve` processes and one `mlcache sink`. Start it with `start()`. */
export class ProcessFleet implements Fleet {
  private readonly instances: Instance[] = [];
  private sink: ChildProcess | undefined;

  constructor(private readonly options: ProcessFleetOptions) {}

  get members(): FleetMember[] {
    return this.instances.map((i) => ({ instanceId: i.instanceId, grpcAddress: `127.0.0.1:${i.grpcPort}` }));
  }

  /** Starts every instance and the sink; resolves once all instances are ready. */
  async start(): Promise<void> {
    mkdirSync(this.options.dir, { recursive: true });
    for (let index = 0; index < this.options.size; index++) {
      const instanceId = `${this.options.tag}-${index}`;
      const ports = { grpc: await freePort(), http: await freePort() };
      const configFile = join(this.options.dir, `${instanceId}.json`);
      writeFileSync(configFile, JSON.stringify(fleetConfig(this.options, instanceId, ports), null, 2));
      this.instances.push({ instanceId, grpcPort: ports.grpc, httpPort: ports.http, configFile });
    }
    const sinkConfig = join(this.options.dir, "sink.json");
    writeFileSync(sinkConfig, JSON.stringify(fleetConfig(this.options, `${this.options.tag}-sink`), null, 2));
    this.sink = this.spawn("sink", sinkConfig, `${this.options.tag}-sink`);
    // One at a time: two cold starts at once on a 2-core machine only slow each other down.
    for (let index = 0; index < this.instances.length; index++) await this.restart(index);
  }

  async kill(index: number): Promise<void> {
    const instance = this.instance(index);
    const child = instance.process;
    instance.process = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = once(child, "exit");
    child.kill("SIGKILL");
    await exited;
  }

  async restart(index: number): Promise<void> {
    const instance = this.instance(index);
    if (instance.process) throw new Error(`${instance.instanceId} is running`);
    const child = this.spawn("serve", instance.configFile, instance.instanceId);
    instance.process = child;
    const timeoutMs = this.options.readyTimeoutMs ?? 60_000;
    const ready = await waitFor(
      async () => {
        if (child.exitCode !== null || child.signalCode !== null) {
          throw new Error(
            `${instance.instanceId} exited (${child.exitCode ?? child.signalCode}); see ${this.logFile(instance.instanceId)}`,
          );
        }
        return isReady(instance.httpPort);
      },
      timeoutMs,
      100,
    );
    if (!ready)
      throw new Error(
        `${instance.instanceId} was not ready within ${timeoutMs} ms; see ${this.logFile(instance.instanceId)}`,
      );
  }

  /** Stops every process: SIGTERM, then SIGKILL after a grace. */
  async close(): Promise<void> {
    const children = [...this.instances.map((i) => i.process), this.sink].filter((c): c is ChildProcess => !!c);
    for (const instance of this.instances) instance.process = undefined;
    this.sink = undefined;
    await Promise.all(children.map((child) => stop(child)));
  }

  private instance(index: number): Instance {
    const instance = this.instances[index];
    if (!instance) throw new Error(`no instance ${index} in a fleet of ${this.instances.length}`);
    return instance;
  }

  private logFile(name: string): string {
    return join(this.options.dir, `${name}.log`);
  }

  private spawn(command: "serve" | "sink", configFile: string, name: string): ChildProcess {
    const log = createWriteStream(this.logFile(name), { flags: "a" });
    // The sink gets a consumer group of its own fleet: no member left over from another run's
    // sink (same broker, same default group) can hold up its first rebalance.
    const group = command === "sink" ? ["--group", `${this.options.tag}-sink`] : [];
    const child = spawn(
      process.execPath,
      [join(PROJECT_ROOT, "bin", "mlcache.js"), command, "--config", configFile, ...group],
      {
        cwd: PROJECT_ROOT,
        env: CHILD_ENV,
        stdio: ["ignore", "pipe", "pipe"],
      },
    );
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    started.add(child);
    child.once("exit", () => {
      started.delete(child);
      log.end();
    });
    return child;
  }
}

async function isReady(httpPort: number): Promise<boolean> {
  try {
    const response = await fetch(`http://127.0.0.1:${httpPort}/readyz`, { signal: AbortSignal.timeout(1000) });
    await response.body?.cancel();
    return response.ok;
  } catch {
    return false;
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, "exit");
  child.kill("SIGTERM");
  const timeout = sleep(5_000).then(() => "timeout");
  if ((await Promise.race([exited, timeout])) === "timeout") {
    child.kill("SIGKILL");
    await exited;
  }
}

/** Where the real fleet's back-ends are. */
export interface RealServices {
  redisUrl: string;
  kafkaBrokers: string[];
}

/**
 * Starts the real fleet for `origin` on the real services, with a pauser for Redis and Kafka
 * faults when `pausable` (the services must then be scripts/services.mjs's own).
 */
export async function startProcessFleet(
  origin: { urlTemplate: string; bulkUrl: string },
  size: number,
  options: RealServices & { propagationBoundMs: number; dir: string; pausable: boolean },
): Promise<{ fleet: ProcessFleet; pauser?: ServicePauser }> {
  const pauser = options.pausable ? new ServicePauser(options.redisUrl, options.kafkaBrokers[0] ?? "") : undefined;
  const tag = `hf${Math.floor(Math.random() * 36 ** 5).toString(36)}`;
  const fleet = new ProcessFleet({
    size,
    tag,
    redisUrl: options.redisUrl,
    kafkaBrokers: options.kafkaBrokers,
    origin,
    propagationBoundMs: options.propagationBoundMs,
    dir: join(options.dir, tag),
  });
  try {
    await fleet.start();
  } catch (error) {
    await fleet.close();
    throw error;
  }
  return pauser ? { fleet, pauser } : { fleet };
}

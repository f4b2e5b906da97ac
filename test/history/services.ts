// Pausing the real Redis and Kafka that scripts/services.mjs started (SIGSTOP: connections
// stay open and hang, as in a network partition) and resuming them (SIGCONT). A process
// paused here is resumed on exit too, whatever ends the checker.

import { readFileSync } from "node:fs";
import { join } from "node:path";
import { waitFor } from "./clock.js";
import { PROJECT_ROOT } from "./project.js";

/** A back-end the checker can pause. */
export type PausableService = "redis" | "kafka";

interface ServicesState {
  redis?: { procs: { pid: number; port: number }[] };
  kafka?: { procs: { pid: number; port: number }[] };
}

const paused = new Set<number>();
process.once("exit", () => {
  for (const pid of paused) resume(pid);
});

function resume(pid: number): void {
  try {
    process.kill(pid, "SIGCONT");
  } catch {
    // Gone already.
  }
}

/** Whether a process is stopped (state T in /proc). */
function stopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

function portOf(address: string): number {
  return Number(new URL(address.includes("://") ? address : `tcp://${address}`).port);
}

/** Pauses and resumes the services that scripts/services.mjs runs for these addresses. */
export class ServicePauser {
  private readonly pids: Record<PausableService, number>;

  /** `redisUrl` and `kafkaBroker` must be services scripts/services.mjs started. */
  constructor(redisUrl: string, kafkaBroker: string) {
    const state = JSON.parse(readFileSync(join(PROJECT_ROOT, ".services", "state.json"), "utf8")) as ServicesState;
    const find = (service: PausableService, port: number) => {
      const proc = state[service]?.procs.find((p) => p.port === port);
      if (!proc) {
        throw new Error(
          `${service} on port ${port} was not started by scripts/services.mjs here, so it cannot be paused; run without that fault`,
        );
      }
      return proc.pid;
    };
    this.pids = { redis: find("redis", portOf(redisUrl)), kafka: find("kafka", portOf(kafkaBroker)) };
  }

  /** Stops the service's process; resolves once it is stopped. */
  async pause(service: PausableService): Promise<void> {
    const pid = this.pids[service];
    paused.add(pid);
    process.kill(pid, "SIGSTOP");
    if (!(await waitFor(() => stopped(pid), 5_000, 10))) throw new Error(`${service} (pid ${pid}) did not stop`);
  }

  /** Lets the service run again. */
  resume(service: PausableService): void {
    const pid = this.pids[service];
    resume(pid);
    paused.delete(pid);
  }

  /** Resumes whatever this pauser left paused. */
  resumeAll(): void {
    for (const service of ["redis", "kafka"] as const) {
      if (paused.has(this.pids[service])) this.resume(service);
    }
  }
}

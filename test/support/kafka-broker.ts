// Pausing the Kafka broker that scripts/services started (SIGSTOP): its connections hang as in
// a network partition, which is harder on clients than a refused connection.
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { eventually } from "./origins.js";

const ROOT = join(import.meta.dirname, "..", "..");

/** The pid of the broker scripts/services started on the port of `brokers`. */
export function brokerPid(brokers: string): number {
  const state = JSON.parse(readFileSync(join(ROOT, ".services", "state.json"), "utf8")) as {
    kafka?: { procs: { pid: number; port: number }[] };
  };
  const port = Number(brokers.split(",")[0]?.split(":")[1]);
  const proc = state.kafka?.procs.find((p) => p.port === port);
  if (!proc) {
    throw new Error(`this test pauses the broker that scripts/services started; ${brokers} is not one of those`);
  }
  return proc.pid;
}

/** Whether a process is stopped (state T in /proc): a signal takes effect a moment after kill(). */
function stopped(pid: number): boolean {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  return stat.slice(stat.lastIndexOf(")") + 2).startsWith("T");
}

/** Pauses and resumes one broker; `resume` is safe to call when it is not paused. */
export class BrokerPause {
  private paused: number | undefined;

  constructor(private readonly brokers: string) {}

  async pause(): Promise<void> {
    const pid = brokerPid(this.brokers);
    process.kill(pid, "SIGSTOP");
    this.paused = pid;
    await eventually(() => stopped(pid), 5_000, "the broker to be stopped");
  }

  resume(): void {
    if (this.paused === undefined) return;
    process.kill(this.paused, "SIGCONT");
    this.paused = undefined;
  }
}

// The fault track of a run: each planned fault at its time, beside the clients, recorded as a
// window of the history (from when it began to when it was over: resumed, or ready again).

import { now, sleep } from "./clock.js";
import type { Fleet } from "./fleet.js";
import type { FaultWindow } from "./history.js";
import type { PlannedFault } from "./plan.js";
import type { ServicePauser } from "./services.js";

/** What the fault track works with. */
export interface FaultTrackContext {
  fleet: Fleet;
  /** Absent: Redis and Kafka faults are skipped. */
  pauser?: ServicePauser | undefined;
  log?: ((line: string) => void) | undefined;
}

/**
 * Runs the fault track: each fault at its time (after `startedAt`), until `clientsDone`; a
 * fault in force when the clients finish still ends as planned. Appends to `windows`.
 */
export async function runFaults(
  faults: readonly PlannedFault[],
  context: FaultTrackContext,
  startedAt: number,
  clientsDone: AbortSignal,
  windows: FaultWindow[],
): Promise<void> {
  const { fleet, pauser, log } = context;
  for (const fault of faults) {
    await sleep(startedAt + fault.atMs - now(), clientsDone);
    if (clientsDone.aborted) return;
    if (fault.kind === "kill") {
      const member = fleet.members[fault.instance];
      if (!fleet.kill || !fleet.restart || !member) {
        log?.("fault skipped: this fleet cannot kill instances");
        continue;
      }
      const window: FaultWindow = { kind: "instance-down", instance: member.instanceId, startedAt: now(), endedAt: 0 };
      windows.push(window);
      log?.(`fault: SIGKILL ${member.instanceId}, restart after ${fault.durationMs} ms`);
      try {
        await fleet.kill(fault.instance);
        await sleep(fault.durationMs);
        await fleet.restart(fault.instance);
      } finally {
        window.endedAt = now();
      }
      log?.(`fault over: ${member.instanceId} ready again after ${Math.round(window.endedAt - window.startedAt)} ms`);
      continue;
    }
    if (!pauser) {
      log?.(`fault skipped: no ${fault.kind} to pause`);
      continue;
    }
    const window: FaultWindow = { kind: `${fault.kind}-paused`, startedAt: now(), endedAt: 0 };
    windows.push(window);
    log?.(`fault: ${fault.kind} paused (SIGSTOP) for ${fault.durationMs} ms`);
    try {
      await pauser.pause(fault.kind);
      await sleep(fault.durationMs);
    } finally {
      pauser.resume(fault.kind);
      window.endedAt = now();
    }
    log?.(`fault over: ${fault.kind} resumed`);
  }
}

// One readable line per operation or origin event, times in seconds since the run started.

import type { FaultWindow, History, Op, OriginLoad, OriginVersion, ReadItem, WriterWrite } from "./history.js";

/** A time as seconds since the run's start, e.g. "12.305s". */
export function at(history: History, time: number): string {
  return `${((time - history.startedAt) / 1000).toFixed(3)}s`;
}

function interval(history: History, op: Op): string {
  return `[${at(history, op.invokedAt)} → ${at(history, op.completedAt)}]`;
}

function item(read: ReadItem): string {
  if (read.status !== "OK") return `${read.key}: ${read.status}`;
  if (!read.found) return `${read.key}: not found`;
  const stale = read.stale ? " stale" : "";
  return `${read.key}=${read.valueId ?? "?"} v${read.version} ${read.source.replace("SOURCE_", "")}${stale}`;
}

/** BulkGets with more keys than this are shortened unless a key is in focus. */
const LONG_BULK = 6;

function outcome(op: Op, focus: string | undefined): string {
  if (op.status !== "OK") return `${op.status}${op.message ? ` (${op.message.slice(0, 120)})` : ""}`;
  switch (op.kind) {
    case "get":
      return op.item ? item(op.item) : "OK";
    case "bulkGet": {
      if (focus !== undefined)
        return op.items
          .filter((i) => i.key === focus)
          .map(item)
          .join(", ");
      if (op.items.length <= LONG_BULK) return op.items.map(item).join(", ");
      const sources = new Map<string, number>();
      for (const i of op.items) {
        const source = i.status !== "OK" ? i.status : i.found ? i.source.replace("SOURCE_", "") : "not found";
        sources.set(source, (sources.get(source) ?? 0) + 1);
      }
      return [...sources].map(([source, n]) => `${n} ${source}`).join(", ");
    }
    case "set":
      return `OK applied=${op.applied} v${op.version}`;
    case "getPolicy":
      return `OK l1.ttl=${op.l1TtlSeconds}s`;
    case "invalidate":
      return op.published === false ? "OK (published: false)" : "OK";
    default:
      return "OK";
  }
}

function request(op: Op, focus: string | undefined): string {
  switch (op.kind) {
    case "get":
      return `Get ${op.key}${op.bypassL1 ? " (bypass L1)" : ""}`;
    case "bulkGet":
      if (op.keys.length <= LONG_BULK) return `BulkGet [${op.keys.join(" ")}]`;
      return `BulkGet [${op.keys.length} keys${focus === undefined ? "" : `, ${focus} among them`}]`;
    case "set": {
      const version = op.requestedVersion === undefined ? "auto" : `explicit ${op.requestedVersion}`;
      const ttl = op.ttlMs === undefined ? "" : ` ttl=${op.ttlMs}ms`;
      const mode = op.writeMode === "write-behind" ? " write-behind" : "";
      return `Set${mode} ${op.key}=${op.valueId} v=${version}${ttl} tags=[${op.tags.join(" ")}]`;
    }
    case "invalidate": {
      const parts = [
        ...op.keys.map((k) => `key ${k}`),
        ...op.tags.map((t) => `tag ${t}`),
        ...(op.prefix === undefined ? [] : [`prefix "${op.prefix}"`]),
      ];
      return `Invalidate ${parts.join(", ")}`;
    }
    case "updatePolicy":
      return `UpdatePolicy l1.ttl=${op.l1TtlSeconds}s`;
    case "getPolicy":
      return "GetPolicy";
  }
}

/**
 * "2.17 Get c:1:p:7 on h-0 [3.210s → 3.214s] → c:1:p:7=set:1.4 v5000 L1". With `focus`, a
 * BulkGet shows only that key's answer; a long one without focus is summed up by source.
 */
export function describeOp(history: History, op: Op, focus?: string): string {
  return `${op.id} ${request(op, focus)} on ${op.instance} ${interval(history, op)} → ${outcome(op, focus)}`;
}

export function describeOriginVersion(history: History, version: OriginVersion): string {
  const cause = version.causedBy ? ` (by ${version.causedBy})` : "";
  return `origin ${version.key} generation ${version.generation} (${version.valueId}, v${version.version}) current from ${at(history, version.at)}${cause}`;
}

export function describeLoad(history: History, load: OriginLoad): string {
  return `origin load of ${load.key} by ${load.instance} via ${load.via} [${at(history, load.startedAt)} → ${at(history, load.endedAt)}] served generation ${load.generation}`;
}

export function describeWrite(history: History, write: WriterWrite): string {
  return `writer got ${write.key}=${write.valueId ?? "?"} v${write.version} from ${write.instance} at ${at(history, write.at)}`;
}

export function describeFault(history: History, fault: FaultWindow): string {
  const who = fault.instance ? ` ${fault.instance}` : "";
  return `${fault.kind}${who} [${at(history, fault.startedAt)} → ${at(history, fault.endedAt)}]`;
}

import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { statusName } from "../errors.js";
import { type AdviseResponse, AdviseResponseSchema } from "../gen/mlcache/v1/admin_pb.js";
import { RefreshMode, UsagePattern } from "../gen/mlcache/v1/stats_pb.js";
import { adminClient, CONNECTION_OPTIONS } from "./connection.js";

const PATTERN_NAMES: Record<UsagePattern, string> = {
  [UsagePattern.UNSPECIFIED]: "unknown",
  [UsagePattern.REGULAR]: "regular",
  [UsagePattern.BURSTY]: "bursty",
  [UsagePattern.STEADY_HOT]: "steady-hot",
  [UsagePattern.ONE_HIT]: "one-hit",
  [UsagePattern.DECLINING]: "declining",
  [UsagePattern.IRREGULAR]: "irregular",
};

const REFRESH_NAMES: Record<RefreshMode, string> = {
  [RefreshMode.UNSPECIFIED]: "-",
  [RefreshMode.NONE]: "none",
  [RefreshMode.AHEAD]: "ahead",
  [RefreshMode.EARLY]: "early",
};

/** A duration as people write it: 250ms, 4.5s, 46s, 12m, 2h. */
function human(duration: Duration | undefined): string {
  const ms = duration ? durationMs(duration) : 0;
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 10_000) return `${(ms / 1000).toFixed(1)}s`;
  if (ms < 600_000) return `${Math.round(ms / 1000)}s`;
  if (ms < 36_000_000) return `${Math.round(ms / 60_000)}m`;
  return `${Math.round(ms / 3_600_000)}h`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? "").length)));
  const line = (cells: string[]) =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c.padEnd(widths[i] ?? 0)))
      .join("  ")
      .trimEnd();
  return [line(header), ...rows.map(line)].join("\n");
}

/** The advice as the terminal shows it: the starting point, a table per key family, the rules. */
export function formatAdvice(response: AdviseResponse): string {
  const bounds =
    response.minTtl || response.maxTtl
      ? `, TTL bounds [${response.minTtl ? human(response.minTtl) : "-"}, ${response.maxTtl ? human(response.maxTtl) : "-"}]`
      : "";
  const head =
    `namespace ${response.namespace}: ${response.sampledKeys} sampled keys; policy TTL ${human(response.currentTtl)}, ` +
    `fresh-for ${human(response.currentFreshFor)}, early refresh ${response.currentEarlyRefresh ? "on" : "off"}, ` +
    `load ~${human(response.loadLatency)}${bounds}`;
  const families = table(
    ["FAMILY", "KEYS", "PATTERN", "READS/S", "CV", "B", "PERIOD", "TTL", "FRESH", "REFRESH", "WHY"],
    response.families.map((f) => [
      f.family,
      String(f.keys),
      PATTERN_NAMES[f.pattern],
      (f.evidence?.ratePerSecond ?? 0).toFixed(2),
      (f.evidence?.cv ?? 0).toFixed(2),
      (f.evidence?.burstiness ?? 0).toFixed(2),
      human(f.evidence?.period),
      `${human(f.advice?.ttl)}${f.advice?.clamped ? "*" : ""}`,
      human(f.advice?.freshFor),
      f.advice?.admit === false ? "no-admit" : REFRESH_NAMES[f.advice?.refresh ?? RefreshMode.UNSPECIFIED],
      f.advice?.reason ?? "",
    ]),
  );
  const rules =
    response.rules.length === 0
      ? "rules it would add: none (the policy already fits)"
      : `rules it would add (first match wins):\n${table(
          ["RULE", "MATCH", "TTL", "FRESH", "EARLY", "ADMIT"],
          response.rules.map((r) => [
            r.name,
            `${r.match.case}:${r.match.value}`,
            human(r.ttl),
            human(r.freshFor),
            r.earlyRefresh ? "yes" : "no",
            r.admit ? "yes" : "no",
          ]),
        )}`;
  return `${head}\n\n${families}\n${response.families.some((f) => f.advice?.clamped) ? "(* clamped into the bounds)\n" : ""}\n${rules}\n`;
}

/** `mlcache advise [-n NS] [--json]`: the usage patterns and TTL advice of a namespace. */
export async function adviseCommand(args: string[]): Promise<number> {
  const { values } = parseArgs({
    args,
    options: {
      ...CONNECTION_OPTIONS,
      namespace: { type: "string", short: "n", default: "" },
      json: { type: "boolean", default: false },
      apply: { type: "boolean", default: false },
      revert: { type: "boolean", default: false },
    },
  });
  try {
    const response = await adminClient(values).advise({
      namespace: values.namespace,
      apply: values.apply,
      revert: values.revert,
    });
    const done =
      values.apply || values.revert
        ? `\n${response.rulesApplied} advice rules put in force, ${response.rulesRemoved} taken out\n`
        : "";
    process.stdout.write(
      values.json ? `${JSON.stringify(toJson(AdviseResponseSchema, response))}\n` : `${formatAdvice(response)}${done}`,
    );
    return 0;
  } catch (error) {
    if (error instanceof ConnectError) {
      process.stderr.write(`mlcache advise: ${statusName(error.code)}: ${error.rawMessage}\n`);
      return 1;
    }
    throw error;
  }
}

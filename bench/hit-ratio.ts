/**
 * Hit-ratio benchmark: replays the corpus (bench/corpus.ts) through our W-TinyLFU and the
 * references — LRU, Caffeine-style adaptive W-TinyLFU, S3-FIFO, SIEVE — and Bélády's OPT.
 *
 *   npm run bench:hit-ratio                      # both halves, every size
 *   npm run bench:hit-ratio -- --half tuning --only gli,oltp --policies mlcache,adaptive
 *   npm run bench:hit-ratio -- --trace FILE --format lirs --sizes 250,1000
 *
 * Prints one JSON line per (trace, size, policy) on stdout, then a JSON summary per half;
 * a table per half goes to stderr. "gap" is ours minus the best reference (LRU, adaptive
 * W-TinyLFU, S3-FIFO, SIEVE): the target is gap ≥ −1 point on every row.
 */
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { WTinyLfuOptions } from "../src/layers/memory/index.js";
import type { CorpusTrace, Half } from "./corpus.js";
import { CORPUS } from "./corpus.js";
import type { PolicyName } from "./policies.js";
import { nextUses, replayLru, replayMlcache, replayOpt } from "./policies.js";
import { replayAdaptiveWTinyLfu, replayS3Fifo, replaySieve } from "./reference-policies.js";
import type { Trace, TraceFormat } from "./trace-reader.js";
import { guessFormat, readTrace } from "./trace-reader.js";
import { scanWorkload, zipfWorkload } from "./workloads.js";

interface Row {
  half: Half | "ad hoc";
  trace: string;
  size: number;
  results: Partial<Record<PolicyName, number>>;
}

const REFERENCES: readonly PolicyName[] = ["lru", "adaptive", "s3fifo", "sieve"];
/** A row misses when ours is more than this many points below the best reference. */
const TOLERANCE_POINTS = 1;

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const { values } = parseArgs({
  options: {
    trace: { type: "string" },
    format: { type: "string" },
    sizes: { type: "string" },
    half: { type: "string" },
    only: { type: "string" },
    "shared-dir": { type: "string" },
    "data-dir": { type: "string" },
    policies: { type: "string", default: "mlcache,lru,adaptive,s3fifo,sieve,opt" },
    options: { type: "string" },
    /** Accepted for old scripts: the corpus run is the default now. */
    all: { type: "boolean", default: false },
    /** Also replay the synthetic Zipf and Zipf + scans workloads (no half, not in the summary). */
    synthetic: { type: "boolean", default: false },
  },
  allowNegative: true,
});

const policies = values.policies.split(",") as PolicyName[];
const mlcacheOptions = (values.options ? JSON.parse(values.options) : {}) as Partial<WTinyLfuOptions<number>>;

function replayOne(policy: PolicyName, trace: Trace, size: number, next: Int32Array | undefined): number {
  switch (policy) {
    case "mlcache":
      return replayMlcache(trace, size, mlcacheOptions);
    case "lru":
      return replayLru(trace, size);
    case "adaptive":
      return replayAdaptiveWTinyLfu(trace, size);
    case "s3fifo":
      return replayS3Fifo(trace, size);
    case "sieve":
      return replaySieve(trace, size);
    case "opt":
      return replayOpt(trace, size, next);
  }
}

function replay(trace: Trace, half: Row["half"], name: string, sizes: number[]): Row[] {
  const next = policies.includes("opt") ? nextUses(trace) : undefined;
  return sizes.map((size) => {
    const row: Row = { half, trace: name, size, results: {} };
    for (const policy of policies) {
      const hitRatio = replayOne(policy, trace, size, next);
      row.results[policy] = hitRatio;
      process.stdout.write(`${JSON.stringify({ half, trace: name, size, policy, hitRatio })}\n`);
    }
    return row;
  });
}

/** Best reference hit ratio in percent, or undefined when no reference ran. */
function bestReference(row: Row): number | undefined {
  const ratios = REFERENCES.map((p) => row.results[p]).filter((r): r is number => r !== undefined);
  return ratios.length > 0 ? 100 * Math.max(...ratios) : undefined;
}

function gapOf(row: Row): number | undefined {
  const best = bestReference(row);
  const ours = row.results.mlcache;
  return best !== undefined && ours !== undefined ? 100 * ours - best : undefined;
}

function percent(ratio: number | undefined): string {
  return ratio === undefined ? "-" : (100 * ratio).toFixed(1);
}

function printTable(title: string, rows: Row[]): void {
  const header = ["trace", "size", "ours", "LRU", "adaptive", "S3-FIFO", "SIEVE", "OPT", "best ref", "gap"];
  const lines = [header];
  for (const row of rows) {
    const best = bestReference(row);
    const gap = gapOf(row);
    const r = row.results;
    lines.push([
      row.trace,
      String(row.size),
      percent(r.mlcache),
      percent(r.lru),
      percent(r.adaptive),
      percent(r.s3fifo),
      percent(r.sieve),
      percent(r.opt),
      best !== undefined ? best.toFixed(1) : "-",
      gap !== undefined ? `${gap >= 0 ? "+" : ""}${gap.toFixed(1)}${gap < -TOLERANCE_POINTS ? "  MISS" : ""}` : "-",
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  process.stderr.write(`\n${title}\n`);
  for (const line of lines) {
    process.stderr.write(`${line.map((cell, i) => cell.padStart(widths[i]!)).join("  ")}\n`);
  }
}

/** Rows within tolerance and the worst gap, printed as one JSON line and one sentence. */
function summarize(half: Half, rows: Row[]): void {
  const gaps = rows.map(gapOf).filter((g): g is number => g !== undefined);
  if (gaps.length === 0) return;
  const within = gaps.filter((g) => g >= -TOLERANCE_POINTS).length;
  const worst = Math.min(...gaps);
  const mean = gaps.reduce((a, b) => a + b, 0) / gaps.length;
  const summary = { half, rows: gaps.length, within, worstGap: +worst.toFixed(2), meanGap: +mean.toFixed(2) };
  process.stdout.write(`${JSON.stringify({ summary })}\n`);
  process.stderr.write(
    `${half}: ${within} of ${gaps.length} rows within ${TOLERANCE_POINTS} point of the best reference; ` +
      `worst gap ${worst.toFixed(1)}, mean gap ${mean >= 0 ? "+" : ""}${mean.toFixed(2)}\n`,
  );
}

function pathOf(entry: CorpusTrace): string {
  const shared = resolve(values["shared-dir"] ?? join(projectRoot, "..", "shared", "traces"));
  const data = resolve(values["data-dir"] ?? join(projectRoot, "bench", "traces", "data"));
  return join(entry.dir === "shared" ? shared : data, entry.file);
}

async function main(): Promise<void> {
  if (values.trace) {
    const format = (values.format ?? guessFormat(values.trace)) as TraceFormat;
    const sizes = (values.sizes ?? "1000").split(",").map(Number);
    const trace = await readTrace(values.trace, format);
    const name = basename(values.trace).replace(/\.(trace|arc)?(\.(gz|xz))?$/, "");
    printTable(name, replay(trace, "ad hoc", name, sizes));
    return;
  }
  const only = values.only?.split(",");
  const sizes = values.sizes?.split(",").map(Number);
  for (const half of ["tuning", "checking"] as const) {
    if (values.half && values.half !== half) continue;
    const rows: Row[] = [];
    for (const entry of CORPUS) {
      if (entry.half !== half || (only && !only.includes(entry.name))) continue;
      const trace = await readTrace(pathOf(entry), entry.format, entry.prefix);
      rows.push(...replay(trace, half, entry.name, sizes ?? entry.sizes));
    }
    printTable(`${half} half`, rows);
    summarize(half, rows);
  }
  if (values.synthetic) {
    const rows: Row[] = [];
    for (const s of [0.6, 0.9, 1.2]) {
      const trace = zipfWorkload({ keys: 100_000, requests: 1_000_000, s, seed: 42 });
      rows.push(...replay(trace, "ad hoc", `zipf-${s}`, [1000, 10_000]));
    }
    rows.push(...replay(scanWorkload({ seed: 7 }), "ad hoc", "zipf+scans", [1000, 5000]));
    printTable("synthetic", rows);
  }
}

await main();

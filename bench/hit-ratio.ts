/**
 * Hit-ratio benchmark: replays traces through our W-TinyLFU, lru-cache and OPT.
 *
 *   npm run bench:hit-ratio -- --trace FILE --format lirs --sizes 250,1000
 *   npm run bench:hit-ratio -- --all [--traces-dir DIR] [--policies mlcache,lru,opt]
 *
 * Prints one JSON line per (trace, size, policy) on stdout; with --all, a comparison table
 * against the reference numbers of the traces README on stderr.
 */
import { readdirSync, readFileSync } from "node:fs";
import { basename, dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import type { WTinyLfuOptions } from "../src/layers/memory/index.js";
import type { PolicyName } from "./policies.js";
import { nextUses, replayLru, replayMlcache, replayOpt } from "./policies.js";
import type { Trace, TraceFormat } from "./trace-reader.js";
import { guessFormat, readTrace } from "./trace-reader.js";
import { scanWorkload, zipfWorkload } from "./workloads.js";

interface Reference {
  name: string;
  sizes: number[];
  lru: number[];
  fixed: number[];
  adaptive: number[];
  opt: number[];
}

interface Row {
  trace: string;
  size: number;
  results: Partial<Record<PolicyName, number>>;
  reference?: { lru: number; adaptive: number; opt: number };
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..", "..");

const { values } = parseArgs({
  options: {
    trace: { type: "string" },
    format: { type: "string" },
    sizes: { type: "string" },
    all: { type: "boolean", default: false },
    "traces-dir": { type: "string" },
    policies: { type: "string", default: "mlcache,lru,opt" },
    only: { type: "string" },
    synthetic: { type: "boolean", default: true },
    options: { type: "string" },
  },
  allowNegative: true,
});

const policies = values.policies.split(",") as PolicyName[];
const mlcacheOptions = (values.options ? JSON.parse(values.options) : {}) as Partial<WTinyLfuOptions<number>>;

function replay(trace: Trace, name: string, sizes: number[]): Row[] {
  const next = policies.includes("opt") ? nextUses(trace) : undefined;
  const rows: Row[] = [];
  for (const size of sizes) {
    const row: Row = { trace: name, size, results: {} };
    for (const policy of policies) {
      const hitRatio =
        policy === "mlcache"
          ? replayMlcache(trace, size, mlcacheOptions)
          : policy === "lru"
            ? replayLru(trace, size)
            : replayOpt(trace, size, next);
      row.results[policy] = hitRatio;
      process.stdout.write(`${JSON.stringify({ trace: name, size, policy, hitRatio })}\n`);
    }
    rows.push(row);
  }
  return rows;
}

/** Parses the "Reference hit ratios" table of the traces README. */
function readReferences(dir: string): Reference[] {
  let text: string;
  try {
    text = readFileSync(join(dir, "README.md"), "utf8");
  } catch {
    return [];
  }
  const references: Reference[] = [];
  for (const line of text.split("\n")) {
    const match = /^\|\s*([\w-]+)\s*@\s*([\d /]+)\|(.+)\|\s*$/.exec(line);
    if (!match) continue;
    const numbers = (cell: string): number[] => cell.split("/").map((n) => Number(n.trim()));
    const cells = match[3]!.split("|");
    if (cells.length < 4) continue;
    references.push({
      name: match[1]!,
      sizes: numbers(match[2]!),
      lru: numbers(cells[0]!),
      fixed: numbers(cells[1]!),
      adaptive: numbers(cells[2]!),
      opt: numbers(cells[3]!),
    });
  }
  return references;
}

function percent(ratio: number | undefined): string {
  return ratio === undefined ? "-" : (100 * ratio).toFixed(1);
}

function printTable(rows: Row[]): void {
  const header = ["trace", "size", "ours", "ref adaptive", "ref LRU", "lru-cache", "OPT", "target", "gap"];
  const lines = [header];
  for (const row of rows) {
    const ours = row.results.mlcache;
    const ref = row.reference;
    // Target: within 1 point of the better of LRU and the reference adaptive W-TinyLFU.
    const target = ref
      ? Math.max(ref.adaptive, row.results.lru !== undefined ? 100 * row.results.lru : ref.lru)
      : undefined;
    const gap = ours !== undefined && target !== undefined ? 100 * ours - target : undefined;
    lines.push([
      row.trace,
      String(row.size),
      percent(ours),
      ref ? ref.adaptive.toFixed(1) : "-",
      ref ? ref.lru.toFixed(1) : "-",
      percent(row.results.lru),
      percent(row.results.opt),
      target !== undefined ? target.toFixed(1) : "-",
      gap !== undefined ? `${gap >= 0 ? "+" : ""}${gap.toFixed(1)}${gap < -1 ? "  MISS" : ""}` : "-",
    ]);
  }
  const widths = header.map((_, i) => Math.max(...lines.map((l) => l[i]!.length)));
  for (const line of lines) {
    process.stderr.write(`${line.map((cell, i) => cell.padStart(widths[i]!)).join("  ")}\n`);
  }
}

async function main(): Promise<void> {
  if (values.trace) {
    const format = (values.format ?? guessFormat(values.trace)) as TraceFormat;
    const sizes = (values.sizes ?? "1000").split(",").map(Number);
    const trace = await readTrace(values.trace, format);
    const name = basename(values.trace).replace(/\.(trace|arc)?(\.(gz|xz))?$/, "");
    replay(trace, name, sizes);
    return;
  }
  if (!values.all) {
    process.stderr.write("usage: hit-ratio --trace FILE --format FMT --sizes N,M | --all [--traces-dir DIR]\n");
    process.exitCode = 2;
    return;
  }
  const dir = resolve(values["traces-dir"] ?? join(projectRoot, "..", "shared", "traces"));
  const references = readReferences(dir);
  const files = readdirSync(dir).filter((f) => /\.(gz|xz)$/.test(f));
  const only = values.only?.split(",");
  const rows: Row[] = [];
  for (const file of files.sort()) {
    const name = file.split(".")[0]!;
    if (only && !only.includes(name)) continue;
    const reference = references.find((r) => r.name === name);
    const sizes = reference?.sizes ?? [250, 500, 1000];
    const trace = await readTrace(join(dir, file), guessFormat(file));
    const traceRows = replay(trace, name, sizes);
    traceRows.forEach((row, i) => {
      if (reference) {
        row.reference = { lru: reference.lru[i]!, adaptive: reference.adaptive[i]!, opt: reference.opt[i]! };
      }
    });
    rows.push(...traceRows);
  }
  if (values.synthetic && !only) {
    for (const s of [0.6, 0.9, 1.2]) {
      rows.push(
        ...replay(zipfWorkload({ keys: 100_000, requests: 1_000_000, s, seed: 42 }), `zipf-${s}`, [1000, 10_000]),
      );
    }
    rows.push(...replay(scanWorkload({ seed: 7 }), "zipf+scans", [1000, 5000]));
  }
  printTable(rows);
}

await main();

#!/usr/bin/env node
// The functions with the most self time in a V8 CPU profile (`node --cpu-prof`), as a table:
//
//   node scripts/cpuprofile-top.mjs CPU.*.cpuprofile [--top 40] [--match src/]
//
// Self time is summed by function and place, across every node of the call tree; `--match`
// also prints the total (self + callees) of functions whose location contains the text.
import { readFileSync } from "node:fs";
import { parseArgs } from "node:util";

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: { top: { type: "string", default: "40" }, match: { type: "string" } },
});
if (positionals.length !== 1) {
  console.error("usage: cpuprofile-top.mjs FILE.cpuprofile [--top N] [--match TEXT]");
  process.exit(2);
}
const profile = JSON.parse(readFileSync(positionals[0], "utf8"));
const byId = new Map(profile.nodes.map((node) => [node.id, node]));
const selfSamples = new Map();
for (const id of profile.samples) selfSamples.set(id, (selfSamples.get(id) ?? 0) + 1);
const total = profile.samples.length;

const where = (frame) => {
  const file = frame.url.replace(/^file:\/\//, "").replace(/^.*\/node_modules\//, "~/");
  return `${frame.functionName || "(anonymous)"} ${file ? `${file.replace(/^.*\/dist\//, "")}:${frame.lineNumber + 1}` : ""}`;
};
const self = new Map();
for (const node of profile.nodes) {
  const name = where(node.callFrame);
  self.set(name, (self.get(name) ?? 0) + (selfSamples.get(node.id) ?? 0));
}
const pct = (n) => `${((100 * n) / total).toFixed(1).padStart(5)}%`;
console.log(`${total} samples`);
for (const [name, n] of [...self].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
  console.log(`${pct(n)}  ${name}`);
}

if (values.match) {
  // Inclusive time: each sample counts once for every distinct matching function on its stack.
  const parent = new Map();
  for (const node of profile.nodes) for (const child of node.children ?? []) parent.set(child, node.id);
  const inclusive = new Map();
  for (const [id, n] of selfSamples) {
    const seen = new Set();
    for (let at = id; at !== undefined; at = parent.get(at)) {
      const name = where(byId.get(at).callFrame);
      if (!name.includes(values.match) || seen.has(name)) continue;
      seen.add(name);
      inclusive.set(name, (inclusive.get(name) ?? 0) + n);
    }
  }
  console.log(`\ntotal time of functions matching ${values.match}`);
  for (const [name, n] of [...inclusive].sort((a, b) => b[1] - a[1]).slice(0, Number(values.top))) {
    console.log(`${pct(n)}  ${name}`);
  }
}

/**
 * Turns saved benchmark output into the SVG charts of the README (hand-written SVG, no
 * dependencies):
 *  - docs/plots/peers-ratio.svg from bench/results/peers.jsonl (`npm run bench:peers`): our
 *    throughput over each peer's per case, on a log scale around 1× (the stampede row compares
 *    the time until all callers had their answer, inverted so that right of 1× is ours faster).
 *  - docs/plots/l2-latency.svg from bench/results/l2.jsonl (`npm run bench:l2` at several
 *    concurrencies, JSON lines appended): p50 and p99 of an L2 hit against a direct ioredis GET.
 *  - docs/plots/hit-ratio-gap.svg from bench/results/hit-ratio.jsonl (`npm run bench:hit-ratio`'s
 *    stdout): per half and row, our hit ratio minus the best reference's, against the −1 target.
 *
 *   npm run bench:plots [-- --results bench/results --out docs/plots]
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    results: { type: "string", default: "bench/results" },
    out: { type: "string", default: "docs/plots" },
  },
});

type Line = Record<string, unknown>;
const readLines = (file: string): Line[] =>
  readFileSync(file, "utf8")
    .split("\n")
    .filter((line) => line.trim().startsWith("{"))
    .map((line) => JSON.parse(line) as Line);

/** Okabe–Ito colours: told apart with the common colour-vision deficiencies. */
const COLOURS = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9"];
/** Line styles by series, so that series differ without colour too. */
const DASHES = ["", "6 3", "2 3", "8 3 2 3"];
const FONT = `font-family="system-ui, -apple-system, 'Segoe UI', Helvetica, Arial, sans-serif"`;
const escapeXml = (text: string) => text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
const fixed = (x: number) => Number(x.toFixed(1));

/** An SVG document; `title` names it for screen readers (and as a tooltip). */
function svg(title: string, width: number, height: number, body: string[]): string {
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ${FONT} font-size="12">`,
    `<title>${escapeXml(title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    ...body,
    "</svg>",
    "",
  ].join("\n");
}

function text(x: number, y: number, content: string, attributes = ""): string {
  return `<text x="${fixed(x)}" y="${fixed(y)}" ${attributes}>${escapeXml(content)}</text>`;
}

/** A horizontal legend: one coloured swatch (or line) and label per series. */
function legend(
  x: number,
  y: number,
  series: { label: string; colour: string; dash?: string }[],
  maxWidth = Number.POSITIVE_INFINITY,
): string[] {
  const out: string[] = [];
  let at = x;
  for (const { label, colour, dash } of series) {
    const offset = dash === undefined ? 16 : 22;
    const itemWidth = offset + label.length * 6.5 + 18;
    // Wraps onto the next row rather than run off the figure.
    if (at > x && at + itemWidth > x + maxWidth) {
      at = x;
      y += 18;
    }
    out.push(
      dash === undefined
        ? `<rect x="${at}" y="${y - 9}" width="12" height="12" fill="${colour}"/>`
        : `<line x1="${at}" y1="${y - 3}" x2="${at + 18}" y2="${y - 3}" stroke="${colour}" stroke-width="2" stroke-dasharray="${dash}"/>`,
    );
    out.push(text(at + offset, y, label));
    at += itemWidth;
  }
  return out;
}

/** Grouped horizontal bars of ours/peer per case, on a log₂ axis centred on 1×. */
function peersRatioChart(lines: Line[]): string {
  const meta = lines.find((line) => line.meta) ?? {};
  const ratios = lines.filter((line) => typeof line.ratio === "string");
  const cases = [...new Set(ratios.map((line) => line.case as string))];
  const peers = [...new Set(ratios.map((line) => (line.ratio as string).replace("mlcache/", "")))];
  // The median of the per-round ratios where the output has it (steadier under load), else the
  // ratio of medians; a time (the stampede's) is inverted, lower being better.
  const speedRatio = (line: Line) => {
    const ratio = (line.pairedMedian ?? line.throughput ?? line.time) as number;
    return typeof line.throughput === "number" ? ratio : 1 / ratio;
  };

  const labelWidth = 370;
  const plotWidth = 460;
  const barHeight = 14;
  const groupHeight = peers.length * barHeight + 14;
  const top = 70;
  const height = top + cases.length * groupHeight + 60;
  const width = labelWidth + plotWidth + 40;
  const [minLog, maxLog] = [-3, 3]; // 1/8× … 8×
  const xOf = (ratio: number) =>
    labelWidth + ((Math.min(Math.max(Math.log2(ratio), minLog), maxLog) - minLog) / (maxLog - minLog)) * plotWidth;

  const body: string[] = [
    text(
      10,
      22,
      "MultilayerCache vs peers: our throughput ÷ theirs (median over rounds of each round's ratio)",
      'font-size="15" font-weight="600"',
    ),
    text(
      10,
      40,
      `Right of 1×: we are faster. Log scale. ${meta.rounds ?? "?"} interleaved rounds, ${(meta.keys as number | undefined)?.toLocaleString("en-US") ?? "?"} keys of ${meta.valueBytes ?? "?"} B, Zipf ${meta.zipf ?? "?"}, Node ${meta.node ?? "?"}, ${meta.cpus ?? "?"} cores, load average ${meta.loadAverage ?? "?"}.`,
      'fill="#444"',
    ),
    ...legend(
      labelWidth,
      60,
      peers.map((peer, i) => ({ label: `vs ${peer}`, colour: COLOURS[i % COLOURS.length]! })),
    ),
  ];
  const bottom = top + cases.length * groupHeight;
  for (let tick = minLog; tick <= maxLog; tick++) {
    const x = xOf(2 ** tick);
    body.push(
      `<line x1="${fixed(x)}" y1="${top - 4}" x2="${fixed(x)}" y2="${bottom}" stroke="${tick === 0 ? "#000" : "#ddd"}" stroke-width="${tick === 0 ? 1.5 : 1}"/>`,
      text(x, bottom + 16, tick >= 0 ? `${2 ** tick}×` : `1/${2 ** -tick}×`, 'text-anchor="middle" fill="#444"'),
    );
  }
  body.push(
    text(
      labelWidth + plotWidth / 2,
      bottom + 36,
      "ours ÷ peer (throughput; for the stampede, their time ÷ ours)",
      'text-anchor="middle"',
    ),
  );
  cases.forEach((name, row) => {
    const y0 = top + row * groupHeight;
    // Rows that count factory calls (the stampede) show them under the name.
    const counted = lines.filter((line) => line.case === name && typeof line.factoryCalls === "number");
    const note = counted.map((line) => `${line.impl} ${line.factoryCalls}`).join(", ");
    body.push(text(labelWidth - 8, y0 + groupHeight / 2 + (note ? -3 : 2), name, 'text-anchor="end"'));
    if (note)
      body.push(
        text(
          labelWidth - 8,
          y0 + groupHeight / 2 + 10,
          `factory calls: ${note}`,
          'text-anchor="end" font-size="10" fill="#444"',
        ),
      );
    peers.forEach((peer, i) => {
      const line = ratios.find((r) => r.case === name && r.ratio === `mlcache/${peer}`);
      if (!line) return;
      const ratio = speedRatio(line);
      const y = y0 + 4 + i * barHeight;
      const [x1, x2] = [xOf(1), xOf(ratio)].sort((a, b) => a - b) as [number, number];
      body.push(
        `<rect x="${fixed(x1)}" y="${y}" width="${fixed(Math.max(x2 - x1, 1))}" height="${barHeight - 3}" fill="${COLOURS[i % COLOURS.length]}"/>`,
        text(
          ratio >= 1 ? x2 + 4 : x1 - 4,
          y + barHeight - 5,
          `${ratio.toFixed(2)}×`,
          `font-size="10" ${ratio >= 1 ? "" : 'text-anchor="end"'}`,
        ),
      );
    });
  });
  return svg("MultilayerCache vs BentoCache and cache-manager: throughput ratios", width, height, body);
}

/** p50 and p99 against concurrency, one panel each, one line per implementation. */
function l2LatencyChart(lines: Line[]): string {
  const points = lines.filter((line) => line.case === "in-process" && typeof line.impl === "string");
  const impls = [...new Set(points.map((line) => line.impl as string))];
  const concurrencies = [...new Set(points.map((line) => line.concurrency as number))].sort((a, b) => a - b);
  const panelWidth = 340;
  const panelHeight = 240;
  const left = 60;
  const top = 130;
  const gap = 80;
  const width = left + 2 * panelWidth + gap + 30;
  const height = top + panelHeight + 60;
  const body: string[] = [
    text(10, 22, "L2 hit latency vs concurrency, in process (npm run bench:l2)", 'font-size="15" font-weight="600"'),
    text(
      10,
      40,
      "Median of runs at each concurrency (a separate run each); ours with L1 bypassed against a direct ioredis GET of the same bytes.",
      'fill="#444"',
    ),
    ...legend(
      left,
      60,
      impls.map((impl, i) => ({ label: impl, colour: COLOURS[i % COLOURS.length]!, dash: DASHES[i % DASHES.length]! })),
      width - left - 10,
    ),
  ];
  const xOf = (panelLeft: number, concurrency: number) =>
    concurrencies.length === 1
      ? panelLeft + panelWidth / 2
      : panelLeft + (concurrencies.indexOf(concurrency) / (concurrencies.length - 1)) * panelWidth;
  (["p50", "p99"] as const).forEach((field, panel) => {
    const panelLeft = left + panel * (panelWidth + gap);
    const maxValue = Math.max(...points.map((p) => p[field] as number));
    const step = niceStep(maxValue / 5);
    const yMax = Math.ceil(maxValue / step) * step;
    const yOf = (v: number) => top + panelHeight - (v / yMax) * panelHeight;
    for (let v = 0; v <= yMax + step / 2; v += step) {
      body.push(
        `<line x1="${panelLeft}" y1="${fixed(yOf(v))}" x2="${panelLeft + panelWidth}" y2="${fixed(yOf(v))}" stroke="#e5e5e5"/>`,
        text(panelLeft - 6, yOf(v) + 4, String(Number(v.toFixed(3))), 'text-anchor="end" fill="#444"'),
      );
    }
    body.push(
      `<line x1="${panelLeft}" y1="${top}" x2="${panelLeft}" y2="${top + panelHeight}" stroke="#000"/>`,
      `<line x1="${panelLeft}" y1="${top + panelHeight}" x2="${panelLeft + panelWidth}" y2="${top + panelHeight}" stroke="#000"/>`,
      text(panelLeft + panelWidth / 2, top - 6, `${field} latency (ms)`, 'text-anchor="middle" font-weight="600"'),
      text(panelLeft + panelWidth / 2, top + panelHeight + 36, "requests in flight", 'text-anchor="middle"'),
    );
    for (const c of concurrencies) {
      body.push(text(xOf(panelLeft, c), top + panelHeight + 16, String(c), 'text-anchor="middle" fill="#444"'));
    }
    impls.forEach((impl, i) => {
      const series = points
        .filter((p) => p.impl === impl)
        .sort((a, b) => (a.concurrency as number) - (b.concurrency as number));
      const colour = COLOURS[i % COLOURS.length];
      const coords = series.map(
        (p) => `${fixed(xOf(panelLeft, p.concurrency as number))},${fixed(yOf(p[field] as number))}`,
      );
      body.push(
        `<polyline points="${coords.join(" ")}" fill="none" stroke="${colour}" stroke-width="2" stroke-dasharray="${DASHES[i % DASHES.length]}"/>`,
        ...coords.map((xy) => {
          const [x, y] = xy.split(",");
          return `<circle cx="${x}" cy="${y}" r="3" fill="${colour}"/>`;
        }),
      );
    });
  });
  return svg("L2 hit latency against concurrency", width, height, body);
}

/** Per half, one bar per (trace, size): ours minus the best reference, in points, with the −1 target. */
function hitRatioGapChart(lines: Line[]): string {
  const references = ["lru", "adaptive", "s3fifo", "sieve"];
  const rows = new Map<string, { half: string; label: string; ours?: number; best: number }>();
  for (const line of lines) {
    if (typeof line.policy !== "string" || typeof line.hitRatio !== "number") continue;
    const id = `${line.half}|${line.trace}|${line.size}`;
    const row = rows.get(id) ?? { half: line.half as string, label: `${line.trace} @ ${line.size}`, best: -1 };
    if (line.policy === "mlcache") row.ours = 100 * line.hitRatio;
    else if (references.includes(line.policy)) row.best = Math.max(row.best, 100 * line.hitRatio);
    rows.set(id, row);
  }
  const halves = ["tuning", "checking"].map((half) => ({
    half,
    bars: [...rows.values()]
      .filter((row) => row.half === half && row.ours !== undefined && row.best >= 0)
      .map((row) => ({ label: row.label, gap: (row.ours as number) - row.best })),
  }));
  const gaps = halves.flatMap((h) => h.bars.map((b) => b.gap));
  const low = Math.floor(Math.min(-2, ...gaps));
  const high = Math.ceil(Math.max(2, ...gaps));
  const barHeight = 13;
  const left = 150;
  const plotWidth = 520;
  const panelGap = 60;
  const top = 85;
  const panelHeights = halves.map((h) => h.bars.length * barHeight);
  const height = top + panelHeights.reduce((a, b) => a + b, 0) + panelGap * halves.length + 20;
  const width = left + plotWidth + 60;
  const xOf = (gap: number) => left + ((gap - low) / (high - low)) * plotWidth;
  const body: string[] = [
    text(
      10,
      22,
      "L1 hit ratio: ours minus the best reference, points (npm run bench:hit-ratio)",
      'font-size="15" font-weight="600"',
    ),
    text(
      10,
      40,
      "Best of LRU, adaptive W-TinyLFU, S3-FIFO, SIEVE per row; rows left of the dashed −1 line (red) miss the target.",
      'fill="#444"',
    ),
  ];
  let y = top;
  for (const { half, bars } of halves) {
    const bottom = y + bars.length * barHeight;
    const within = bars.filter((b) => b.gap >= -1).length;
    body.push(text(10, y - 12, `${half} half: ${within} of ${bars.length} rows within 1 point`, 'font-weight="600"'));
    for (let v = low; v <= high; v++) {
      body.push(
        `<line x1="${fixed(xOf(v))}" y1="${y}" x2="${fixed(xOf(v))}" y2="${bottom}" stroke="${v === 0 ? "#000" : "#e5e5e5"}"/>`,
        text(xOf(v), bottom + 14, String(v), 'text-anchor="middle" fill="#444" font-size="10"'),
      );
    }
    body.push(
      `<line x1="${fixed(xOf(-1))}" y1="${y}" x2="${fixed(xOf(-1))}" y2="${bottom}" stroke="#D55E00" stroke-dasharray="4 3"/>`,
    );
    bars.forEach(({ label, gap }, i) => {
      const barY = y + i * barHeight;
      const [x1, x2] = [xOf(0), xOf(gap)].sort((a, b) => a - b) as [number, number];
      body.push(
        text(left - 6, barY + barHeight - 3, label, 'text-anchor="end" font-size="10"'),
        `<rect x="${fixed(x1)}" y="${barY + 1}" width="${fixed(Math.max(x2 - x1, 1))}" height="${barHeight - 3}" fill="${gap < -1 ? "#D55E00" : COLOURS[0]}"/>`,
      );
    });
    y = bottom + panelGap;
  }
  return svg("L1 hit ratio minus the best reference, per trace and size", width, height, body);
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const power = 10 ** Math.floor(Math.log10(raw));
  return ([1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw) ?? 10 * power) as number;
}

mkdirSync(args.out, { recursive: true });
const charts: [string, string, (lines: Line[]) => string][] = [
  ["peers.jsonl", "peers-ratio.svg", peersRatioChart],
  ["l2.jsonl", "l2-latency.svg", l2LatencyChart],
  ["hit-ratio.jsonl", "hit-ratio-gap.svg", hitRatioGapChart],
];
for (const [input, output, draw] of charts) {
  const source = join(args.results, input);
  if (!existsSync(source)) {
    process.stderr.write(`skipped ${output}: no ${source}\n`);
    continue;
  }
  writeFileSync(join(args.out, output), draw(readLines(source)));
  process.stderr.write(`wrote ${join(args.out, output)} from ${source}\n`);
}

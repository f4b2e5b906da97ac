/**
 * The hit-ratio corpus and its fixed split. The tuning half is what constants in
 * src/layers/memory/ may be chosen on; the checking half is only ever reported, never used
 * to pick a constant. Origins, formats and licences: bench/traces/README.md.
 */
import type { TraceFormat } from "./trace-reader.js";

/** Which half of the corpus a trace belongs to. */
export type Half = "tuning" | "checking";

/** One trace of the corpus and the cache sizes it is replayed at. */
export interface CorpusTrace {
  name: string;
  half: Half;
  /** Where the file lives: the shared traces directory or bench/traces/data. */
  dir: "shared" | "data";
  file: string;
  format: TraceFormat;
  sizes: number[];
  /** Replay only this many requests from the start (keeps the slow rows lean). */
  prefix?: number;
  /** Kind of workload, for the README. */
  kind: string;
}

/** The corpus: 12 tuning traces (the shared ones plus one) and 13 checking traces. */
export const CORPUS: readonly CorpusTrace[] = [
  // Tuning half: /work/shared/traces (sizes as in its README) and swim.
  {
    name: "gli",
    half: "tuning",
    dir: "shared",
    file: "gli.trace.gz",
    format: "lirs",
    sizes: [250, 1000, 2000],
    kind: "database index scan (LIRS)",
  },
  {
    name: "multi3",
    half: "tuning",
    dir: "shared",
    file: "multi3.trace.gz",
    format: "lirs",
    sizes: [100, 500, 2000],
    kind: "mixed programs (LIRS)",
  },
  {
    name: "loop",
    half: "tuning",
    dir: "shared",
    file: "loop.trace.gz",
    format: "lirs",
    sizes: [250, 500, 1000],
    kind: "loop (LIRS)",
  },
  {
    name: "sprite",
    half: "tuning",
    dir: "shared",
    file: "sprite.trace.gz",
    format: "lirs",
    sizes: [100, 500, 1000],
    kind: "file server, recency (LIRS)",
  },
  {
    name: "cs",
    half: "tuning",
    dir: "shared",
    file: "cs.trace.gz",
    format: "lirs",
    sizes: [250, 1000],
    kind: "program loop (LIRS)",
  },
  {
    name: "ps",
    half: "tuning",
    dir: "shared",
    file: "ps.trace.gz",
    format: "lirs",
    sizes: [250, 1000],
    kind: "database join (LIRS)",
  },
  {
    name: "scan",
    half: "tuning",
    dir: "shared",
    file: "scan.trace.gz",
    format: "lirs",
    sizes: [250, 1000],
    kind: "scan (LIRS)",
  },
  {
    name: "zigzag",
    half: "tuning",
    dir: "shared",
    file: "zigzag.trace.gz",
    format: "lirs",
    sizes: [250, 1000],
    kind: "zig-zag loop (LIRS)",
  },
  {
    name: "oltp",
    half: "tuning",
    dir: "shared",
    file: "oltp.arc.gz",
    format: "arc",
    sizes: [250, 1000, 2000],
    kind: "OLTP database (ARC)",
  },
  {
    name: "web07",
    half: "tuning",
    dir: "shared",
    file: "web07.trace.xz",
    format: "int32be",
    sizes: [500, 1000, 5000],
    kind: "web application (cache2k)",
  },
  {
    name: "orm-busy",
    half: "tuning",
    dir: "shared",
    file: "orm-busy.trace.xz",
    format: "int32be",
    sizes: [1000, 5000, 20000],
    kind: "ORM / database, busy hours (cache2k)",
  },
  {
    name: "swim",
    half: "tuning",
    dir: "data",
    file: "address-swim.trace.gz",
    format: "address",
    sizes: [500, 2000, 10000],
    kind: "CPU memory addresses (UCSD)",
  },
  // Checking half: never used to choose a constant.
  {
    name: "multi1",
    half: "checking",
    dir: "data",
    file: "lirs-multi1.trace.gz",
    format: "lirs",
    sizes: [100, 500, 1000],
    kind: "mixed programs (LIRS)",
  },
  {
    name: "multi2",
    half: "checking",
    dir: "data",
    file: "lirs-multi2.trace.gz",
    format: "lirs",
    sizes: [250, 1000, 2000],
    kind: "mixed programs (LIRS)",
  },
  {
    name: "2_pools",
    half: "checking",
    dir: "data",
    file: "lirs-2_pools.trace.gz",
    format: "lirs",
    sizes: [100, 500, 2000],
    kind: "two pools of different popularity (LIRS)",
  },
  {
    name: "cpp",
    half: "checking",
    dir: "data",
    file: "lirs-cpp.trace.gz",
    format: "lirs",
    sizes: [100, 250, 500],
    kind: "C preprocessor (LIRS)",
  },
  {
    name: "orm-night",
    half: "checking",
    dir: "data",
    file: "cache2k-orm-night.trace.xz",
    format: "int32be",
    sizes: [1000, 5000, 20000],
    prefix: 2_000_000,
    kind: "ORM / database, night batch (cache2k)",
  },
  {
    name: "web12",
    half: "checking",
    dir: "data",
    file: "cache2k-web12.trace.xz",
    format: "int32be",
    sizes: [500, 2000, 5000],
    kind: "web application (cache2k)",
  },
  {
    name: "w106",
    half: "checking",
    dir: "data",
    file: "cloud_physics-w106.trace.xz",
    format: "uint32be",
    sizes: [1000, 10000, 50000],
    prefix: 2_000_000,
    kind: "VM block storage (CloudPhysics)",
  },
  {
    name: "cloudphysics",
    half: "checking",
    dir: "data",
    file: "libcachesim-cloudPhysicsIO.txt.gz",
    format: "lirs",
    sizes: [500, 2000, 10000],
    kind: "VM block storage (CloudPhysics, libCacheSim sample)",
  },
  {
    name: "scarab",
    half: "checking",
    dir: "data",
    file: "scarab-scarab-recs.trace.xz",
    format: "int64be",
    sizes: [1000, 10000, 50000],
    kind: "recommendation / search (Scarab Research)",
  },
  {
    name: "gcc",
    half: "checking",
    dir: "data",
    file: "address-gcc.trace.gz",
    format: "address",
    sizes: [500, 2000, 10000],
    kind: "CPU memory addresses (UCSD)",
  },
  {
    name: "twolf",
    half: "checking",
    dir: "data",
    file: "address-twolf.trace.gz",
    format: "address",
    sizes: [250, 1000, 4000],
    kind: "CPU memory addresses (UCSD)",
  },
  {
    name: "corda",
    half: "checking",
    dir: "data",
    file: "corda-trace_vaultservice.gz",
    format: "int64be",
    sizes: [1000, 5000, 20000],
    kind: "blockchain vault DB (R3 Corda)",
  },
  {
    name: "cdn",
    half: "checking",
    dir: "data",
    file: "adapt_size-request.trace.xz",
    format: "webcachesim",
    sizes: [500, 2000, 10000],
    kind: "CDN objects (AdaptSize)",
  },
];

/**
 * Streams cache traces (gzip, xz or plain) into a compact array of dense key ids.
 * Formats as described in /work/shared/traces/README.md.
 */
import { spawn } from "node:child_process";
import { createReadStream } from "node:fs";
import type { Readable } from "node:stream";
import { createGunzip } from "node:zlib";

/** Supported trace formats. */
export type TraceFormat = "lirs" | "arc" | "int32be" | "int64be" | "uint32be" | "lines" | "address" | "webcachesim";

/** A trace as dense ids (0..keys.length-1) plus the original key of each id, as a string. */
export interface Trace {
  ids: Int32Array;
  keys: string[];
}

/** Guesses the format from a file name (`.arc` → arc, `.trace.xz` → int32be, else lirs). */
export function guessFormat(file: string): TraceFormat {
  if (/\.arc(\.|$)/.test(file)) return "arc";
  if (/\.xz$/.test(file)) return "int32be";
  return "lirs";
}

function open(file: string): Readable {
  if (file.endsWith(".gz")) return createReadStream(file).pipe(createGunzip());
  if (file.endsWith(".xz")) {
    const child = spawn("xz", ["-dc", file], { stdio: ["ignore", "pipe", "inherit"] });
    return child.stdout;
  }
  return createReadStream(file);
}

/** Interns keys into dense ids, growing the id array as needed. */
class Interner {
  ids = new Int32Array(1 << 16);
  length = 0;
  readonly keys: string[] = [];
  private readonly index = new Map<string | number, number>();

  constructor(private readonly limit: number) {}

  /** True once `limit` requests are in: the rest of the file is not read. */
  get full(): boolean {
    return this.length >= this.limit;
  }

  add(key: string | number): void {
    if (this.full) return;
    let id = this.index.get(key);
    if (id === undefined) {
      id = this.keys.length;
      this.index.set(key, id);
      this.keys.push(String(key));
    }
    if (this.length === this.ids.length) {
      const grown = new Int32Array(this.ids.length * 2);
      grown.set(this.ids);
      this.ids = grown;
    }
    this.ids[this.length++] = id;
  }

  trace(): Trace {
    return { ids: this.ids.slice(0, this.length), keys: this.keys };
  }
}

/** Reads a trace file (or its first `maxRequests` requests) into dense ids, streaming the decompressed bytes. */
export async function readTrace(
  file: string,
  format: TraceFormat,
  maxRequests = Number.POSITIVE_INFINITY,
): Promise<Trace> {
  const interner = new Interner(maxRequests);
  const stream = open(file);
  if (format === "int32be" || format === "uint32be" || format === "int64be") {
    const width = format === "int64be" ? 8 : 4;
    let rest = Buffer.alloc(0);
    for await (const chunk of stream as AsyncIterable<Buffer>) {
      const buffer = rest.length > 0 ? Buffer.concat([rest, chunk]) : chunk;
      const usable = buffer.length - (buffer.length % width);
      for (let offset = 0; offset < usable; offset += width) {
        if (format === "int32be") interner.add(buffer.readInt32BE(offset));
        else if (format === "uint32be") interner.add(buffer.readUInt32BE(offset));
        else {
          const big = buffer.readBigInt64BE(offset);
          const small = Number(big);
          interner.add(Number.isSafeInteger(small) ? small : big.toString());
        }
      }
      rest = Buffer.from(buffer.subarray(usable));
      if (interner.full) break;
    }
    return interner.trace();
  }
  let pending = "";
  const onLine = (line: string): void => {
    if (format === "lines") {
      if (line.length > 0) interner.add(line);
      return;
    }
    const text = line.trim();
    if (text.length === 0 || text === "*") return;
    if (format === "lirs") {
      interner.add(Number(text));
      return;
    }
    if (format === "address") {
      // `l 0x1fffff58 1`: the accessed address, as its hex text
      interner.add(text.split(" ", 3)[1]!);
      return;
    }
    if (format === "webcachesim") {
      // `time id size`: as in the AdaptSize simulator, the same id at another size is another object
      const fields = text.split(" ", 3);
      interner.add(`${fields[1]}:${fields[2]}`);
      return;
    }
    // arc: start count ignored requestId
    const fields = text.split(/\s+/);
    const start = Number(fields[0]);
    const count = Number(fields[1]);
    for (let i = 0; i < count; i++) interner.add(start + i);
  };
  stream.setEncoding("utf8");
  for await (const chunk of stream as AsyncIterable<string>) {
    const text = pending + chunk;
    let from = 0;
    for (let newline = text.indexOf("\n"); newline !== -1; newline = text.indexOf("\n", from)) {
      onLine(text.charCodeAt(newline - 1) === 13 ? text.slice(from, newline - 1) : text.slice(from, newline));
      from = newline + 1;
    }
    pending = text.slice(from);
    if (interner.full) break;
  }
  if (pending.length > 0) onLine(pending);
  return interner.trace();
}

import { appendFile, rename, stat, writeFile } from "node:fs/promises";

/** Periodic raw-counter snapshots on disk. */
export interface SnapshotFileConfig {
  /** The NDJSON file; when it would pass `maxBytes` it is moved to `<path>.1` and begun anew. */
  path: string;
  /** Time between snapshots (ms). */
  intervalMs: number;
  /** Size bound of the file; disk use is at most twice this (the file and one rotated copy). */
  maxBytes: number;
  /** Per-key records per namespace in each snapshot (default 1000). */
  maxKeys?: number | undefined;
}

/**
 * Appends NDJSON snapshots to a file, bounded: a snapshot that would make the file pass
 * `maxBytes` rotates it to `<path>.1` first (replacing the older copy), and a snapshot larger
 * than `maxBytes` on its own is cut at a line boundary. Writes never overlap.
 */
export class SnapshotFile {
  readonly maxKeys: number;
  private size: number | undefined;
  private writing: Promise<void> = Promise.resolve();

  constructor(private readonly config: SnapshotFileConfig) {
    if (config.maxBytes < 1024) throw new RangeError("snapshotFile.maxBytes must be at least 1 KiB");
    this.maxKeys = config.maxKeys ?? 1000;
  }

  /** Appends one snapshot (lines without newlines). */
  write(lines: readonly string[]): Promise<void> {
    const next = this.writing.then(() => this.append(lines));
    this.writing = next.catch(() => {});
    return next;
  }

  /** Resolves when no write is running. */
  idle(): Promise<void> {
    return this.writing;
  }

  private async append(lines: readonly string[]): Promise<void> {
    const { path, maxBytes } = this.config;
    let body = "";
    let bytes = 0;
    for (const line of lines) {
      const length = Buffer.byteLength(line) + 1;
      if (bytes + length > maxBytes) break;
      body += `${line}\n`;
      bytes += length;
    }
    if (this.size === undefined)
      this.size = await stat(path).then(
        (s) => s.size,
        () => 0,
      );
    if (this.size + bytes > maxBytes && this.size > 0) {
      await rename(path, `${path}.1`);
      await writeFile(path, body);
      this.size = bytes;
      return;
    }
    await appendFile(path, body);
    this.size += bytes;
  }
}

/** Parses a duration: a number of milliseconds, or a string like "250ms", "30s", "5m", "1h", "2d". */
export function parseDuration(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isFinite(input) || input < 0) throw new Error(`duration ${input} must be a non-negative number of ms`);
    return input;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(input);
  if (!match) throw new Error(`"${input}" is not a duration; use e.g. 250ms, 30s, 5m, 1h, 2d`);
  const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };
  return Number(match[1]) * (units[match[2] as string] as number);
}

/** Parses a size in bytes: a number, or a string like "512", "64KiB", "256MiB", "1GiB", "10MB". */
export function parseBytes(input: string | number): number {
  if (typeof input === "number") {
    if (!Number.isInteger(input) || input < 0) throw new Error(`size ${input} must be a non-negative integer`);
    return input;
  }
  const match = /^\s*(\d+(?:\.\d+)?)\s*(B|KB|KiB|MB|MiB|GB|GiB)?\s*$/i.exec(input);
  if (!match) throw new Error(`"${input}" is not a size; use e.g. 65536, 64KiB, 256MiB, 1GiB`);
  const units: Record<string, number> = {
    b: 1,
    kb: 1e3,
    kib: 1024,
    mb: 1e6,
    mib: 1024 ** 2,
    gb: 1e9,
    gib: 1024 ** 3,
  };
  return Math.floor(Number(match[1]) * (units[(match[2] ?? "b").toLowerCase()] as number));
}

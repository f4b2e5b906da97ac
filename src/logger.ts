import { type Logger, pino } from "pino";

export type { Logger };

/** The process logger: JSON lines on stderr (stdout stays free for command output). */
export function createLogger(level: string, name = "mlcache"): Logger {
  return pino({ name, level }, pino.destination(2));
}

// kafkajs's admin passes no isolation level to ListOffsets, whose default was READ_COMMITTED (the
// last stable offset, stopping at a transaction still open); with the module it asks for the
// high-water mark, as Kafka's Java Admin does. A consumer's own isolation level is kept.
import { createRequire } from "node:module";
import { describe, expect, it } from "vitest";
import "../../../src/events/kafkajs-high-watermark.js";

const require = createRequire(import.meta.url);
const listOffsets = require("kafkajs/src/protocol/requests/listOffsets/index.js") as {
  versions: string[];
  protocol: (options: { version: number }) => (args: Record<string, unknown>) => {
    request: { encode: () => Promise<{ buffer: Buffer }> };
  };
};

/** The isolation level a ListOffsets request of `version` carries (after the INT32 replica id). */
async function isolationOf(version: number, args: Record<string, unknown>): Promise<number | undefined> {
  const { request } = listOffsets.protocol({ version })({ topics: [], ...args });
  return (await request.encode()).buffer.readInt8(4);
}

describe("ListOffsets from kafkajs's admin", () => {
  it("asks for the high-water mark when no isolation level is given, and keeps one that is", async () => {
    for (const version of listOffsets.versions.map(Number).filter((v) => v >= 2)) {
      expect(await isolationOf(version, {})).toBe(0); // READ_UNCOMMITTED: the high-water mark
      expect(await isolationOf(version, { isolationLevel: 1 })).toBe(1); // a read-committed consumer's
    }
  });
});

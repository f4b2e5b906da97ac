// The filter that replaces kafkajs 2.2.4's: records of aborted transactions never pass, also
// when the broker lists the aborted transactions out of offset order and several producers'
// transactions interleave in one partition (kafkajs's own filter lets record 10 below through).

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { describe, expect, it } from "vitest";
import { type FetchedRecord, filterAbortedRecords } from "../../../src/events/kafkajs-aborted-filter.js";

const ABORT = Buffer.from([0, 0, 0, 0]);
const record = (offset: number, producerId: number, marker = false): FetchedRecord => ({
  offset: String(offset),
  key: marker ? ABORT : Buffer.from("k"),
  isControlRecord: marker,
  batchContext: { producerId: String(producerId), inTransaction: true },
});

// Producer 1's transaction at 10 is aborted (marker at 12); producer 2's at 11 too (marker at
// 14); producer 1 commits a new transaction at 13. The broker lists producer 2's first.
const records = [record(10, 1), record(11, 2), record(12, 1, true), record(13, 1), record(14, 2, true)];
const aborted = [
  { producerId: "2", firstOffset: "11" },
  { producerId: "1", firstOffset: "10" },
];

describe("filtering aborted transactions", () => {
  it("drops every record of an aborted transaction, whatever the order of the list", () => {
    const kept = filterAbortedRecords(records, aborted).filter((r) => !r.isControlRecord);
    expect(kept.map((r) => r.offset)).toEqual(["13"]);
  });

  it("kafkajs 2.2.4's own filter lets an aborted record through here (why it is replaced)", () => {
    const require = createRequire(import.meta.url);
    const file = require.resolve("kafkajs/src/consumer/filterAbortedMessages.js");
    // Its source, evaluated apart: the module cache holds the replacement by now.
    const module = { exports: undefined as unknown };
    const dir = dirname(file);
    new Function("module", "require", readFileSync(file, "utf8"))(module, (id: string) =>
      require(id.startsWith(".") ? join(dir, id) : id),
    );
    const original = module.exports as (input: {
      messages: FetchedRecord[];
      abortedTransactions: unknown;
    }) => FetchedRecord[];
    const kept = original({ messages: records, abortedTransactions: aborted }).filter((r) => !r.isControlRecord);
    expect(kept.map((r) => r.offset)).toContain("10");
  });
});

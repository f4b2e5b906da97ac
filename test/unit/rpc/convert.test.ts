import { create, toBinary } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import type { Lookup } from "../../../src/engine/cache-manager.js";
import { ItemSchema, Source } from "../../../src/gen/mlcache/v1/common_pb.js";
import { dependencyStatus, itemFrom } from "../../../src/rpc/convert.js";

describe("itemFrom", () => {
  it.each([0, 1, 999, 1000, 1500, 86_400_123, -1, -1000, -1500])(
    "is the message create() would build from the lookup (%d ms)",
    (ms) => {
      const lookup: Lookup = {
        key: "k",
        found: true,
        value: new Uint8Array([1, 2]),
        source: "l1",
        stale: ms < 0,
        ageMs: Math.abs(ms),
        ttlRemainingMs: ms,
        version: 7n,
        tags: ms % 2 === 0 ? [] : ["a", "b"],
      };
      const item = itemFrom(lookup);
      const expected = create(ItemSchema, {
        key: "k",
        found: true,
        value: new Uint8Array([1, 2]),
        source: Source.L1,
        stale: ms < 0,
        age: durationFromMs(Math.abs(ms)),
        ttlRemaining: durationFromMs(ms),
        version: 7n,
        tags: [...lookup.tags],
      });
      expect(item).toEqual(expected);
      expect(toBinary(ItemSchema, item)).toEqual(toBinary(ItemSchema, expected));
    },
  );
});

describe("dependencyStatus", () => {
  it("carries the consumer lag, and 0 for dependencies without a followed log", () => {
    const kafka = { name: "kafka", up: true, detail: "connected", queued: 2, breakerState: "closed" as const };
    expect(dependencyStatus({ ...kafka, consumerLag: 42 })).toMatchObject({ queued: 2n, consumerLag: 42n });
    expect(dependencyStatus(kafka).consumerLag).toBe(0n);
  });
});

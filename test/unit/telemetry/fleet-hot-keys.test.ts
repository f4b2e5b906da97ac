import { describe, expect, it } from "vitest";
import {
  type HotKeyBoardFactory,
  MemoryHotKeyBoard,
  mergeHotKeys,
  type PublishedHotKey,
} from "../../../src/telemetry/fleet-hot-keys.js";

describe("fleet hot keys", () => {
  it("sums a key's frequencies over the instances that published it, hottest first", async () => {
    const shared = new Map<string, PublishedHotKey[]>();
    const board: HotKeyBoardFactory = (settings) => new MemoryHotKeyBoard(shared, settings);
    const a = board({ instanceId: "a", ttlMs: 30_000, maxPublished: 10 });
    const b = board({ instanceId: "b", ttlMs: 30_000, maxPublished: 10 });
    await a.publish([
      { namespace: "p", key: "x", frequency: 5 },
      { namespace: "u", key: "y", frequency: 4 },
    ]);
    await b.publish([
      { namespace: "p", key: "x", frequency: 3 },
      { namespace: "p", key: "z", frequency: 6 },
    ]);
    expect(mergeHotKeys(await a.sets(), 2)).toEqual([
      { namespace: "p", key: "x", frequency: 8, instances: 2 },
      { namespace: "p", key: "z", frequency: 6, instances: 1 },
    ]);
    expect(mergeHotKeys(await a.sets(), 10, "u")).toEqual([{ namespace: "u", key: "y", frequency: 4, instances: 1 }]);
    await b.close();
    expect(mergeHotKeys(await a.sets(), 10, "p")).toEqual([{ namespace: "p", key: "x", frequency: 5, instances: 1 }]);
  });
});

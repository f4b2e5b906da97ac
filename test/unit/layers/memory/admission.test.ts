import { describe, expect, it } from "vitest";
import { hashKey, TinyLfuAdmittor } from "../../../../src/layers/memory/index.js";

/** Records each key once: enough of them make the sketch halve and the doorkeeper clear. */
function recordFiller(admittor: TinyLfuAdmittor, count: number): void {
  for (let i = 0; i < count; i++) admittor.record(hashKey(`filler:${i}`));
}

describe("TinyLfuAdmittor", () => {
  it("leaves the doorkeeper's bit out of the duel: seen since the reset is no extra point", () => {
    const admittor = new TinyLfuAdmittor({ maximumSize: 1000 });
    const old = hashKey("old");
    for (let i = 0; i < 3; i++) admittor.record(old); // doorkeeper, then a count of 2
    recordFiller(admittor, admittor.sketch.sampleSize); // halves: count 1, doorkeeper cleared
    const recent = hashKey("recent");
    admittor.record(recent);
    admittor.record(recent); // doorkeeper bit, count 1
    expect(admittor.frequency(recent)).toBeGreaterThan(admittor.frequency(old));
    expect(admittor.duelFrequency(recent)).toBe(admittor.duelFrequency(old));
    expect(admittor.admit(recent, old)).toBe(false);
    admittor.record(recent); // count 2: now more popular
    expect(admittor.admit(recent, old)).toBe(true);
  });
});

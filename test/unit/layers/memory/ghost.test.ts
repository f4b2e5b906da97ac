import { describe, expect, it } from "vitest";
import { Ghost } from "../../../../src/layers/memory/ghost.js";
import { hashKey } from "../../../../src/layers/memory/hash.js";

describe("Ghost", () => {
  it("remembers the latest half of its capacity at least, and forgets what is older than its capacity", () => {
    const ghost = new Ghost(1000);
    for (let i = 0; i < 5000; i++) ghost.add(hashKey(`k${i}`));
    // The latest 500 are always remembered.
    for (let i = 4500; i < 5000; i++) expect(ghost.contains(hashKey(`k${i}`))).toBe(true);
    // Keys added more than 1000 adds ago are forgotten (a Bloom filter may err on a few).
    let remembered = 0;
    for (let i = 0; i < 3900; i++) if (ghost.contains(hashKey(`k${i}`))) remembered++;
    expect(remembered).toBeLessThan(80); // about 1% false positives
  });

  it("does not claim keys it never saw", () => {
    const ghost = new Ghost(1000);
    for (let i = 0; i < 800; i++) ghost.add(hashKey(`k${i}`));
    let falsePositives = 0;
    for (let i = 0; i < 10_000; i++) if (ghost.contains(hashKey(`other${i}`))) falsePositives++;
    expect(falsePositives).toBeLessThan(150); // about 1% at 16 bits per key, two filters
  });
});

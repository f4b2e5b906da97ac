import { describe, expect, it } from "vitest";
import { BreakerOpenError, FastBreaker } from "../../../src/layers/redis/breaker.js";

function breaker() {
  let now = 0;
  const b = new FastBreaker({
    errorThresholdPercent: 50,
    volumeThreshold: 4,
    windowMs: 10_000,
    resetTimeoutMs: 1_000,
    now: () => now,
  });
  return { b, advance: (ms: number) => (now += ms) };
}

const ok = () => Promise.resolve("ok");
const fail = () => Promise.reject(new Error("down"));

describe("FastBreaker", () => {
  it("stays closed below the volume threshold and opens past the error share", async () => {
    const { b } = breaker();
    await expect(b.run(fail)).rejects.toThrow("down");
    await expect(b.run(fail)).rejects.toThrow("down");
    await b.run(ok);
    expect(b.currentState()).toBe("closed"); // 3 calls < volume 4
    await expect(b.run(fail)).rejects.toThrow("down"); // 3 of 4 failed
    expect(b.currentState()).toBe("open");
    await expect(b.run(ok)).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it("lets one trial through after the reset timeout and closes on its success", async () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 4; i++) await b.run(fail).catch(() => {});
    expect(b.opened).toBe(true);
    advance(1_000);
    expect(b.halfOpen).toBe(true);
    let release: (v: string) => void = () => {};
    const trial = b.run(() => new Promise<string>((resolve) => (release = resolve)));
    await expect(b.run(ok)).rejects.toBeInstanceOf(BreakerOpenError); // only one trial at a time
    release("done");
    await expect(trial).resolves.toBe("done");
    expect(b.currentState()).toBe("closed");
    await expect(b.run(ok)).resolves.toBe("ok");
  });

  it("opens again when the trial fails", async () => {
    const { b, advance } = breaker();
    for (let i = 0; i < 4; i++) await b.run(fail).catch(() => {});
    advance(1_000);
    await expect(b.run(fail)).rejects.toThrow("down");
    expect(b.currentState()).toBe("open");
  });

  it("forgets failures once the window has passed", async () => {
    const { b, advance } = breaker();
    await b.run(fail).catch(() => {});
    await b.run(fail).catch(() => {});
    advance(10_001);
    for (let i = 0; i < 4; i++) await b.run(ok);
    await b.run(fail).catch(() => {});
    expect(b.currentState()).toBe("closed"); // 1 of 5 in the new window
  });
});

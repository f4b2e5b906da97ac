import { describe, expect, it } from "vitest";
import { BreakerOpenError, FastBreaker } from "../../../../src/layers/redis/breaker.js";

/** Makes a call the way the Redis layer does: admit, run, settle with the outcome. */
function through<T>(b: FastBreaker, action: () => Promise<T>): Promise<T> {
  const admission = b.admit();
  if (admission === undefined) return Promise.reject(new BreakerOpenError("open"));
  return action().then(
    (value) => {
      b.settle(admission, true);
      return value;
    },
    (error: unknown) => {
      b.settle(admission, false);
      throw error;
    },
  );
}

function breaker() {
  let now = 0;
  const b = new FastBreaker({
    errorThresholdPercent: 50,
    volumeThreshold: 4,
    windowMs: 10_000,
    resetTimeoutMs: 1_000,
    now: () => now,
  });
  return { b, run: <T>(action: () => Promise<T>) => through(b, action), advance: (ms: number) => (now += ms) };
}

const ok = () => Promise.resolve("ok");
const fail = () => Promise.reject(new Error("down"));

describe("FastBreaker", () => {
  it("stays closed below the volume threshold and opens past the error share", async () => {
    const { b, run } = breaker();
    await expect(run(fail)).rejects.toThrow("down");
    await expect(run(fail)).rejects.toThrow("down");
    await run(ok);
    expect(b.state()).toBe("closed"); // 3 calls < volume 4
    await expect(run(fail)).rejects.toThrow("down"); // 3 of 4 failed
    expect(b.state()).toBe("open");
    await expect(run(ok)).rejects.toBeInstanceOf(BreakerOpenError);
  });

  it("lets one trial through after the reset timeout and closes on its success", async () => {
    const { b, run, advance } = breaker();
    for (let i = 0; i < 4; i++) await run(fail).catch(() => {});
    expect(b.opened).toBe(true);
    advance(1_000);
    expect(b.state()).toBe("half-open");
    let release: (v: string) => void = () => {};
    const trial = run(() => new Promise<string>((resolve) => (release = resolve)));
    await expect(run(ok)).rejects.toBeInstanceOf(BreakerOpenError); // only one trial at a time
    release("done");
    await expect(trial).resolves.toBe("done");
    expect(b.state()).toBe("closed");
    await expect(run(ok)).resolves.toBe("ok");
  });

  it("opens again when the trial fails", async () => {
    const { b, run, advance } = breaker();
    for (let i = 0; i < 4; i++) await run(fail).catch(() => {});
    advance(1_000);
    await expect(run(fail)).rejects.toThrow("down");
    expect(b.state()).toBe("open");
  });

  it("forgets failures once the window has passed", async () => {
    const { b, run, advance } = breaker();
    await run(fail).catch(() => {});
    await run(fail).catch(() => {});
    advance(10_001);
    for (let i = 0; i < 4; i++) await run(ok);
    await run(fail).catch(() => {});
    expect(b.state()).toBe("closed"); // 1 of 5 in the new window
  });

  it("tells its listeners each state change once", async () => {
    const { b, run, advance } = breaker();
    const changes: string[] = [];
    b.onStateChange((state) => changes.push(state));
    for (let i = 0; i < 6; i++) await run(fail).catch(() => {});
    advance(1_000);
    await run(ok);
    expect(changes).toEqual(["open", "half-open", "closed"]);
  });
});

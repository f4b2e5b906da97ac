// Each invariant of the history checker against hand-made histories: one that breaks it is
// reported (with the operations involved), and the legitimate look-alikes are not.

import { describe, expect, it } from "vitest";
import { checkHistory, type InvariantName } from "../../history/invariants/index.js";
import { HistoryBuilder } from "./histories.js";

const KEY = "c:1:p:7";

function violations(builder: HistoryBuilder, invariant: InvariantName) {
  return checkHistory(builder.history, [invariant]);
}

describe("invalidation", () => {
  it("reports a Set's value read after an acknowledged Invalidate + B, on any instance", () => {
    const h = new HistoryBuilder();
    const set = h.set("i0", KEY, [0, 10], { version: 5000n });
    const inv = h.invalidate("i1", [20, 30], { keys: [KEY] });
    const read = h.get("i2", KEY, [2100, 2110], set.valueId, 5000n);
    const found = violations(h, "invalidation");
    expect(found).toHaveLength(1);
    expect(found[0]?.ops).toEqual([read.id, inv.id, set.id]);
    expect(found[0]?.summary).toContain("2070 ms after");
  });

  it("allows the value within B, a Set overlapping the Invalidate, and failed Invalidates", () => {
    const h = new HistoryBuilder();
    const early = h.set("i0", KEY, [0, 10], { version: 5000n });
    const overlapping = h.set("i0", "c:1:p:8", [15, 25], { version: 5001n });
    h.invalidate("i1", [20, 30], { keys: [KEY, "c:1:p:8"] });
    h.get("i2", KEY, [1500, 1510], early.valueId, 5000n);
    h.get("i2", "c:1:p:8", [5000, 5010], overlapping.valueId, 5001n);
    const other = h.set("i0", "c:2:p:1", [0, 10], { version: 5002n });
    h.invalidate("i1", [20, 30], { keys: ["c:2:p:1"] }, "UNAVAILABLE");
    h.get("i2", "c:2:p:1", [5000, 5010], other.valueId, 5002n);
    expect(violations(h, "invalidation")).toEqual([]);
  });

  it("reports a superseded origin version, and allows the current one to be reloaded", () => {
    const h = new HistoryBuilder();
    const first = h.originVersion(KEY, 1, 0);
    const second = h.originVersion(KEY, 2, 15);
    h.invalidate("i1", [20, 30], { keys: [KEY] });
    h.get("i0", KEY, [3000, 3010], first.valueId, first.version);
    h.get("i0", KEY, [3000, 3010], second.valueId, second.version);
    const found = violations(h, "invalidation");
    expect(found).toHaveLength(1);
    expect(found[0]?.evidence.join("\n")).toContain("generation 1");
  });

  it("follows tags and prefixes to every key they cover, BulkGet answers included", () => {
    const h = new HistoryBuilder();
    const tagged = h.set("i0", KEY, [0, 10], { version: 5000n }, { tags: ["t:1"] });
    const untagged = h.set("i0", "c:1:p:8", [0, 10], { version: 5001n }, { tags: ["t:2"] });
    const prefixed = h.set("i0", "c:2:p:3", [0, 10], { version: 5002n });
    h.invalidate("i1", [20, 30], { tags: ["t:1"] });
    h.invalidate("i1", [20, 30], { prefix: "c:2:" });
    h.bulkGet(
      "i2",
      [4000, 4010],
      [
        { key: KEY, valueId: tagged.valueId, version: 5000n },
        { key: "c:1:p:8", valueId: untagged.valueId, version: 5001n },
        { key: "c:2:p:3", valueId: prefixed.valueId, version: 5002n },
      ],
    );
    const found = violations(h, "invalidation");
    expect(found.map((v) => v.summary)).toEqual([
      expect.stringContaining(`returned ${tagged.valueId}`),
      expect.stringContaining(`returned ${prefixed.valueId}`),
    ]);
  });

  it("follows the origin's category tag to origin values", () => {
    const h = new HistoryBuilder();
    const first = h.originVersion(KEY, 1, 0);
    h.originVersion(KEY, 2, 15);
    h.invalidate("i1", [20, 30], { tags: ["cat:1"] });
    h.get("i0", KEY, [3000, 3010], first.valueId, first.version);
    expect(violations(h, "invalidation")).toHaveLength(1);
  });
});

describe("monotonic reads per instance", () => {
  it("reports a lower version after a higher one on the same instance", () => {
    const h = new HistoryBuilder();
    const newer = h.set("i0", KEY, [0, 10], { version: 9_000_000n });
    const older = h.originVersion(KEY, 1, 0);
    const first = h.get("i1", KEY, [20, 30], newer.valueId, 9_000_000n);
    const then = h.get("i1", KEY, [40, 50], older.valueId, older.version);
    const found = violations(h, "monotonic-reads");
    expect(found).toHaveLength(1);
    expect(found[0]?.ops).toEqual([first.id, then.id]);
  });

  it("allows other instances, overlapping reads, and reloads after an invalidation, an expiry or a Redis outage", () => {
    const h = new HistoryBuilder();
    const older = h.originVersion(KEY, 1, 0);
    const newer = h.set("i0", KEY, [0, 10], { version: 9_000_000n });
    h.get("i1", KEY, [20, 30], newer.valueId, 9_000_000n);
    h.get("i2", KEY, [40, 50], older.valueId, older.version); // another instance
    h.get("i1", KEY, [25, 60], older.valueId, older.version); // overlaps the first read
    h.invalidate("i2", [100, 110], { keys: [KEY] });
    h.get("i1", KEY, [120, 130], older.valueId, older.version); // removed in between

    const expiring = h.set("i0", "c:0:p:0", [0, 10], { version: 9_000_001n }, { ttlMs: 1000 });
    h.originVersion("c:0:p:0", 1, 0);
    h.get("i1", "c:0:p:0", [20, 30], expiring.valueId, 9_000_001n);
    h.get("i1", "c:0:p:0", [1500, 1510], "origin:main/c:0:p:0@1", 1000n);

    const outage = h.set("i0", "c:0:p:1", [0, 10], { version: 9_000_002n });
    h.get("i1", "c:0:p:1", [20, 30], outage.valueId, 9_000_002n);
    h.redisPaused(500, 900);
    h.get("i1", "c:0:p:1", [1000, 1010], "origin:main/c:0:p:1@1", 1000n);
    expect(violations(h, "monotonic-reads")).toEqual([]);
  });

  it("is not excused by an Invalidate that was over long before the first read", () => {
    const h = new HistoryBuilder();
    h.invalidate("i2", [0, 10], { keys: [KEY] });
    const newer = h.set("i0", KEY, [5000, 5010], { version: 9_000_000n });
    h.get("i1", KEY, [5020, 5030], newer.valueId, 9_000_000n);
    h.get("i1", KEY, [5040, 5050], "origin:main/c:1:p:7@1", 1000n);
    expect(violations(h, "monotonic-reads")).toHaveLength(1);
  });
});

describe("set versions", () => {
  it("reports an explicit-version Set applied below an acknowledged Set's version", () => {
    const h = new HistoryBuilder();
    const first = h.set("i0", KEY, [0, 10], { version: 5000n }, { requestedVersion: 5000n });
    const second = h.set("i1", KEY, [20, 30], { version: 3000n }, { requestedVersion: 3000n });
    const found = violations(h, "set-versions");
    expect(found).toHaveLength(1);
    expect(found[0]?.ops).toEqual([first.id, second.id]);
    expect(found[0]?.summary).toContain("explicit version");
  });

  it("reports a Set applied below a version a read acknowledged", () => {
    const h = new HistoryBuilder();
    const origin = h.originVersion(KEY, 4, 0);
    h.get("i2", KEY, [0, 10], origin.valueId, origin.version);
    h.set("i1", KEY, [20, 30], { version: 3000n }, { requestedVersion: 3000n });
    expect(violations(h, "set-versions")).toHaveLength(1);
  });

  it("allows refusals, concurrent Sets, and a lower version after an invalidation or a TTL", () => {
    const h = new HistoryBuilder();
    h.set("i0", KEY, [0, 10], { version: 5000n }, { requestedVersion: 5000n });
    h.set("i1", KEY, [20, 30], { version: 5000n, applied: false }, { requestedVersion: 3000n });
    h.set("i1", KEY, [5, 30], { version: 3000n }, { requestedVersion: 3000n }); // overlaps the first
    h.invalidate("i2", [40, 50], { keys: [KEY] });
    h.set("i1", KEY, [60, 70], { version: 2000n }, { requestedVersion: 2000n });
    h.set("i0", "c:0:p:0", [0, 10], { version: 5000n }, { requestedVersion: 5000n, ttlMs: 500 });
    h.set("i1", "c:0:p:0", [600, 610], { version: 3000n }, { requestedVersion: 3000n });
    expect(violations(h, "set-versions")).toEqual([]);
  });

  it("reports a served value of a Set answered applied: false or refused by the service", () => {
    const h = new HistoryBuilder();
    const refused = h.set("i0", KEY, [0, 10], { version: 9000n, applied: false }, { requestedVersion: 10n });
    const failed = h.set("i0", "c:0:p:0", [0, 10], { version: 0n, status: "UNAVAILABLE" });
    failed.message = "redis cannot tell the key's current version (Connection is closed.); nothing was changed";
    const limited = h.set("i0", "c:0:p:1", [0, 10], { version: 0n, status: "RESOURCE_EXHAUSTED" });
    h.get("i1", KEY, [20, 30], refused.valueId, 10n);
    h.get("i1", "c:0:p:0", [20, 30], failed.valueId, 77n);
    h.get("i1", "c:0:p:1", [20, 30], limited.valueId, 78n);
    const found = violations(h, "set-versions");
    expect(found.map((v) => v.summary)).toEqual([
      expect.stringContaining("answered applied: false"),
      expect.stringContaining("answered UNAVAILABLE (redis cannot tell"),
      expect.stringContaining("answered RESOURCE_EXHAUSTED"),
    ]);
  });

  it("allows a served value of a Set whose instance was killed under it (its outcome is open)", () => {
    const h = new HistoryBuilder();
    // The write reached L2, then the instance died before answering (history seed 155152223).
    const dropped = h.set("i0", KEY, [0, 10], { version: 0n, status: "UNAVAILABLE" });
    dropped.message = "Connection dropped";
    h.get("i1", KEY, [5, 8], dropped.valueId, 77n);
    expect(violations(h, "set-versions")).toEqual([]);
    dropped.message = "read ECONNRESET"; // the socket's own error (seed 636024315)
    expect(violations(h, "set-versions")).toEqual([]);
    // An answer that says nothing about the outcome leaves it open: an instance shutting down
    // mid-call, an error worded in a way the checker does not know.
    dropped.message = "the instance is shutting down; retry on another instance";
    expect(violations(h, "set-versions")).toEqual([]);
    dropped.status = "DEADLINE_EXCEEDED";
    dropped.message = "Deadline exceeded after 5.002s";
    expect(violations(h, "set-versions")).toEqual([]);
    dropped.status = "UNAVAILABLE";
    for (const refusal of [
      "write-behind of n/k was not accepted by Kafka, nothing was changed",
      "this instance is starting: redis not connected; retry shortly",
      "kafka did not acknowledge within 5000 ms; the transaction is aborted, nothing will be applied",
      "kafka is not reachable (nothing was sent): Connection timeout",
      "kafka was too slow; the transaction is aborted",
      "No connection established. Last error: connect ECONNREFUSED 127.0.0.1:50051",
    ]) {
      dropped.message = refusal;
      expect(violations(h, "set-versions"), refusal).toHaveLength(1);
    }
  });
});

describe("one origin load per key per fleet", () => {
  it("reports two overlapping loads of one key", () => {
    const h = new HistoryBuilder();
    h.load("i0", KEY, [0, 50]);
    h.load("i1", KEY, [20, 70]);
    h.load("i2", KEY, [80, 120]); // after: fine
    h.load("i2", "c:0:p:0", [0, 50]); // another key: fine
    const found = violations(h, "single-load");
    expect(found).toHaveLength(1);
    expect(found[0]?.summary).toContain("by i0 and i1");
  });

  it("allows a second load after an Invalidate detached the first, and per-instance loads while Redis is out", () => {
    const h = new HistoryBuilder();
    h.load("i0", KEY, [0, 50]);
    h.invalidate("i2", [5, 10], { keys: [KEY] });
    h.load("i1", KEY, [20, 70]);
    h.redisPaused(100, 500);
    h.load("i0", "c:0:p:0", [200, 250]);
    h.load("i1", "c:0:p:0", [210, 260]);
    expect(violations(h, "single-load")).toEqual([]);
  });

  it("still reports one instance loading a key twice at once while Redis is out", () => {
    const h = new HistoryBuilder();
    h.redisPaused(100, 500);
    h.load("i0", KEY, [200, 250]);
    h.load("i0", KEY, [210, 260]);
    expect(violations(h, "single-load")).toHaveLength(1);
  });
});

describe("policies", () => {
  it("reports an instance still showing the old policy after the update + B", () => {
    const h = new HistoryBuilder();
    const update = h.updatePolicy("i0", [0, 10], 400);
    const read = h.getPolicy("i2", [2100, 2110], 300);
    const found = violations(h, "policy");
    expect(found).toHaveLength(1);
    expect(found[0]?.ops).toEqual([update.id, read.id]);
  });

  it("allows reads within B, the update's marker, and later or concurrent changes; reports an older one", () => {
    const h = new HistoryBuilder();
    h.updatePolicy("i0", [0, 10], 401);
    h.updatePolicy("i1", [50, 60], 402);
    h.updatePolicy("i2", [55, 80], 403); // concurrent with 402
    h.getPolicy("i2", [1000, 1010], 300); // within B
    h.getPolicy("i1", [3000, 3010], 402);
    h.getPolicy("i0", [3000, 3010], 403);
    expect(violations(h, "policy")).toEqual([]);
    h.getPolicy("i0", [3000, 3010], 401); // older than 402 and 403
    expect(violations(h, "policy")).toHaveLength(1);
  });

  it("counts an update that failed with its outcome open as possibly in force; a refused one not", () => {
    const h = new HistoryBuilder();
    h.updatePolicy("i0", [0, 10], 401);
    // Its instance was killed after the policy log took it: the client saw the connection drop.
    h.updatePolicy("i2", [50, 60], 402, "UNAVAILABLE").message = "Connection dropped";
    h.getPolicy("i1", [3000, 3010], 402);
    expect(violations(h, "policy")).toEqual([]);
    h.updatePolicy("i1", [70, 80], 403, "INVALID_ARGUMENT").message = "policy is not valid";
    h.updatePolicy("i1", [90, 95], 404, "UNAVAILABLE").message = "No connection established";
    h.getPolicy("i1", [3000, 3010], 403);
    h.getPolicy("i1", [3000, 3010], 404);
    expect(violations(h, "policy")).toHaveLength(2);
  });
});

describe("write-behind", () => {
  it("reports an acknowledged Set that never reached the writer, and an UNAVAILABLE one that did", () => {
    const h = new HistoryBuilder();
    const lost = h.set("i0", KEY, [0, 10], { version: 1n }, { writeMode: "write-behind" });
    const phantom = h.set(
      "i0",
      "c:0:p:0",
      [0, 10],
      { version: 0n, status: "UNAVAILABLE" },
      { writeMode: "write-behind" },
    );
    phantom.message = "kafka did not acknowledge within 5000 ms; the transaction is aborted, nothing will be applied";
    h.writerReceived(phantom, 100);
    const found = violations(h, "write-behind");
    expect(found.map((v) => v.ops)).toEqual([[lost.id], [phantom.id]]);
    // Committed, then its instance was killed before it answered: the client saw the socket reset.
    phantom.message = "read ECONNRESET";
    expect(violations(h, "write-behind").map((v) => v.ops)).toEqual([[lost.id]]);
  });

  it("allows a write covered by a later one of the key, and makes no claim on unknown outcomes", () => {
    const h = new HistoryBuilder();
    const reached = h.set("i0", KEY, [0, 10], { version: 1n }, { writeMode: "write-behind" });
    h.writerReceived(reached, 50);
    const coalesced = h.set("i0", "c:0:p:0", [0, 10], { version: 1n }, { writeMode: "write-behind" });
    const last = h.set("i1", "c:0:p:0", [5, 20], { version: 2n }, { writeMode: "write-behind" });
    h.writerReceived(last, 60);
    h.set("i0", "c:0:p:1", [0, 10], { version: 0n, status: "DEADLINE_EXCEEDED" }, { writeMode: "write-behind" });
    h.set("i0", "c:0:p:2", [0, 10], { version: 0n, status: "UNAVAILABLE" }, { writeMode: "write-behind" });
    expect(coalesced.key).toBe(last.key);
    expect(violations(h, "write-behind")).toEqual([]);
  });
});

describe("write-behind convergence", () => {
  it("reports a writer left at an older version than the newest acknowledged Set of the key", () => {
    const h = new HistoryBuilder();
    const older = h.set("i0", KEY, [0, 30], { version: 100n }, { writeMode: "write-behind" });
    const newer = h.set("i1", KEY, [5, 20], { version: 200n }, { writeMode: "write-behind" });
    // Kafka logged the newer first; a sink writing the log's last ends at the older one.
    h.writerReceived(newer, 50);
    h.writerReceived(older, 51);
    expect(violations(h, "write-behind").map((v) => v.ops)).toEqual([[newer.id]]);
    // The sink keeps the highest version: the older one is skipped, or followed by the newer.
    h.writerReceived(newer, 52);
    expect(violations(h, "write-behind")).toEqual([]);
  });
});

describe("removal through a newer value", () => {
  it("excuses a lower version when a newer Set replaced the value read and an invalidation of its tag removed it", () => {
    const h = new HistoryBuilder();
    const older = h.originVersion(KEY, 2, 0);
    const first = h.set("i0", KEY, [0, 10], { version: 9_000_000n }, { tags: ["t:1"] });
    h.get("i2", KEY, [20, 30], first.valueId, 9_000_000n);
    h.set("i1", KEY, [40, 50], { version: 9_000_001n }, { tags: ["t:3"] });
    h.invalidate("i1", [2500, 2510], { tags: ["t:3"] });
    h.get("i2", KEY, [2600, 2610], older.valueId, older.version);
    h.set("i2", KEY, [2700, 2710], { version: 2500n }, { requestedVersion: 2500n });
    expect(violations(h, "monotonic-reads")).toEqual([]);
    expect(violations(h, "set-versions")).toEqual([]);
  });

  it("is not excused by an invalidation of a tag no value of the key carried", () => {
    const h = new HistoryBuilder();
    const older = h.originVersion(KEY, 2, 0);
    const first = h.set("i0", KEY, [0, 10], { version: 9_000_000n }, { tags: ["t:1"] });
    h.get("i2", KEY, [20, 30], first.valueId, 9_000_000n);
    h.invalidate("i1", [2500, 2510], { tags: ["cat:1"] });
    h.get("i2", KEY, [2600, 2610], older.valueId, older.version);
    expect(violations(h, "monotonic-reads")).toHaveLength(1);
  });
});

describe("Redis outages", () => {
  it("count until the Redis command bound after Redis is back: loads decided during one may start just after", () => {
    const h = new HistoryBuilder();
    h.redisPaused(100, 500);
    h.load("i0", KEY, [520, 570]);
    h.load("i1", KEY, [530, 580]);
    h.load("i0", "c:0:p:0", [2000, 2050]);
    h.load("i1", "c:0:p:0", [2010, 2060]);
    expect(violations(h, "single-load").map((v) => v.summary)).toEqual([expect.stringContaining("c:0:p:0")]);
  });
});

describe("invalidation durability", () => {
  it("reports an OK Invalidate whose event was only queued (published: false)", () => {
    const h = new HistoryBuilder();
    const queued = h.invalidate("i0", [0, 2010], { keys: [KEY] });
    queued.published = false;
    h.invalidate("i1", [0, 10], { keys: [KEY] }).published = true;
    h.invalidate("i2", [0, 10], { keys: [KEY] }); // not known: no claim
    const found = violations(h, "invalidation");
    expect(found.map((v) => v.ops)).toEqual([[queued.id]]);
    expect(found[0]?.summary).toContain("published: false");
  });
});

describe("removal through a newer value's TTL", () => {
  it("excuses a lower version when a newer Set with a TTL replaced the value read and expired", () => {
    const h = new HistoryBuilder();
    const older = h.originVersion(KEY, 5, 0);
    const first = h.set("i0", KEY, [0, 10], { version: 9_000_000n });
    h.get("i2", KEY, [20, 30], first.valueId, 9_000_000n);
    h.set("i1", KEY, [40, 50], { version: 9_000_001n }, { ttlMs: 1000 });
    h.get("i2", KEY, [1500, 1510], older.valueId, older.version);
    expect(violations(h, "monotonic-reads")).toEqual([]);
  });
});

import { create } from "@bufbuild/protobuf";
import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import { Status } from "../../../src/errors.js";
import { OriginPolicySchema } from "../../../src/gen/mlcache/v1/policy_pb.js";
import { codeForHttpStatus, fill } from "../../../src/loaders/http-origin.js";
import { createOrigin, ORIGIN_DEFAULTS, resilienceOptions } from "../../../src/loaders/origin.js";

describe("resilienceOptions", () => {
  it("fills unset fields with the documented defaults", () => {
    const options = resilienceOptions("o", create(OriginPolicySchema, {}));
    expect(options).toMatchObject({
      maxConcurrency: 64,
      retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 1000 },
      breaker: ORIGIN_DEFAULTS.breaker,
      attemptTimeoutMs: 10_000,
    });
    expect(options.rateLimit).toBeUndefined();
  });

  it("takes what the policy sets", () => {
    const policy = create(OriginPolicySchema, {
      breaker: { enabled: true, errorThresholdPercent: 20, volumeThreshold: 3, resetTimeout: durationFromMs(1000) },
      retry: { maxAttempts: 1 },
      hardTimeout: durationFromMs(900),
      maxConcurrency: 8,
      rateLimit: { perSecond: 5, burst: 2 },
    });
    expect(resilienceOptions("o", policy)).toMatchObject({
      maxConcurrency: 8,
      retry: { maxAttempts: 1 },
      breaker: { errorThresholdPercent: 20, volumeThreshold: 3, resetTimeoutMs: 1000, rollingWindowMs: 10_000 },
      rateLimit: { perSecond: 5, burst: 2 },
      attemptTimeoutMs: 900,
    });
    expect(resilienceOptions("o", create(OriginPolicySchema, { breaker: { enabled: false } })).breaker).toBeUndefined();
  });
});

describe("createOrigin", () => {
  it("builds an in-process origin behind the guards", async () => {
    const origin = createOrigin("ns", create(OriginPolicySchema, {}), {
      functions: { load: async (_ns, key) => ({ found: true, value: new TextEncoder().encode(key) }) },
    });
    try {
      const result = await origin.loader.load("ns", "k", { signal: new AbortController().signal });
      expect(result).toMatchObject({ found: true });
      expect(origin.breakerState()).toBe("closed");
      expect(origin.counters()).toMatchObject({ calls: 1, attempts: 1, failures: 0 });
      expect(origin.writer).toBeUndefined();
    } finally {
      origin.close();
    }
  });

  it("refuses a policy without a usable origin, naming the field", () => {
    expect(() => createOrigin("ns", create(OriginPolicySchema, {}))).toThrow(/names neither grpc nor http/);
    expect(() =>
      createOrigin("ns", create(OriginPolicySchema, { kind: { case: "grpc", value: { target: "" } } })),
    ).toThrow(/grpc.target/);
    expect(() =>
      createOrigin(
        "ns",
        create(OriginPolicySchema, {
          kind: { case: "http", value: { urlTemplate: "http://x/{key}", writeMethod: "PATCH" } },
        }),
      ),
    ).toThrow(/writeMethod/);
  });
});

describe("HTTP mapping", () => {
  it("maps statuses to codes: 429/5xx retryable, other 4xx not", () => {
    expect(codeForHttpStatus(503)).toBe(Status.UNAVAILABLE);
    expect(codeForHttpStatus(500)).toBe(Status.UNAVAILABLE);
    expect(codeForHttpStatus(429)).toBe(Status.RESOURCE_EXHAUSTED);
    expect(codeForHttpStatus(400)).toBe(Status.INVALID_ARGUMENT);
    expect(codeForHttpStatus(403)).toBe(Status.PERMISSION_DENIED);
    expect(codeForHttpStatus(409)).toBe(Status.FAILED_PRECONDITION);
  });

  it("URL-encodes placeholders", () => {
    expect(fill("http://o/{namespace}/items/{key}", "ns", "a b/c?d")).toBe("http://o/ns/items/a%20b%2Fc%3Fd");
  });
});

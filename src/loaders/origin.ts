import { type Duration, durationMs } from "@bufbuild/protobuf/wkt";
import type { Clock } from "../engine/clock.js";
import type { Loader } from "../engine/loader.js";
import { CacheError, Status } from "../errors.js";
import type { OriginPolicy } from "../gen/mlcache/v1/policy_pb.js";
import { BatchingLoader } from "./batching.js";
import type { BreakerListener, BreakerState } from "./breaker.js";
import { DeadLetterLoader, DeadLetterLog, type DeadLetterRecord } from "./dead-letters.js";
import { type FunctionOriginFunctions, functionOrigin } from "./function-origin.js";
import { GrpcOrigin } from "./grpc-origin.js";
import { HttpOrigin } from "./http-origin.js";
import { RefreshThrottlingLoader } from "./refresh-throttle.js";
import { type OriginCounters, Resilience, type ResilienceOptions } from "./resilience.js";
import { ResilientLoader, ResilientWriter } from "./resilient-loader.js";
import type { Writer } from "./writer.js";

/**
 * Defaults for the fields of an `OriginPolicy` left unset:
 * - breaker: on; opens when more than 50% of the calls in a 10 s rolling window fail, once
 *   the window holds at least 10 calls; one trial call after 5 s open;
 * - retry: 3 attempts in total, full-jitter backoff from 50 ms up to 1 s;
 * - per-attempt timeout: `hard_timeout / attempts` when hard_timeout is set, else 10 s (the
 *   engine's hard timeout still bounds the whole load; the soft timeout is the engine's too);
 * - max concurrency 64 calls, with up to 4 × that waiting;
 * - no rate limit unless `rate_limit.per_second` > 0 (burst defaults to ⌈per_second⌉);
 * - no refresh throttle unless `refresh_throttle` is set;
 * - batching on when the origin has a bulk call (gRPC always, HTTP with `bulk_url`): a 2 ms
 *   window, at most 100 keys per call; `batch.enabled = false` turns it off;
 * - dead letters after 5 failures of one key within 60 s.
 */
export const ORIGIN_DEFAULTS = {
  breaker: { errorThresholdPercent: 50, volumeThreshold: 10, resetTimeoutMs: 5_000, rollingWindowMs: 10_000 },
  retry: { maxAttempts: 3, initialBackoffMs: 50, maxBackoffMs: 1_000 },
  attemptTimeoutMs: 10_000,
  maxConcurrency: 64,
  batch: { windowMs: 2, maxBatchSize: 100 },
  deadLetter: { maxFailures: 5, windowMs: 60_000 },
} as const;

/** What `createOrigin` needs besides the policy. */
export interface CreateOriginOptions {
  /** A shared dead-letter log (then the policy's dead_letter thresholds are the log's own). */
  deadLetters?: DeadLetterLog;
  /** Publishes a dead-lettered key (e.g. to Kafka); used when `deadLetters` is not given. */
  publishDeadLetter?: (record: DeadLetterRecord) => void | Promise<void>;
  clock?: Clock;
  /** The in-process origin for a policy with neither `grpc` nor `http` (library use). */
  functions?: FunctionOriginFunctions;
  /** Uniform random numbers in [0, 1) for retry jitter, injectable for tests. */
  random?: () => number;
  /** The `user-agent` HTTP origins send (see {@link HttpOriginOptions.userAgent}). */
  userAgent?: string;
  /** The key rule the origin is for, named in its errors and breaker ("… namespace n, rule r"). */
  rule?: string;
}

/** The `user-agent` an instance's HTTP origin calls carry: `mlcache (instance <id>)`. */
export function originUserAgent(instanceId: string): string {
  // Printable ASCII only: a header cannot carry anything else.
  return `mlcache (instance ${instanceId.replace(/[^\x20-\x7e]/g, "?")})`;
}

/** Counters of an origin: the loader's guards, batching, throttling, and the writer's guards. */
export interface OriginStats extends OriginCounters {
  /** Loads refused by the refresh throttle. */
  throttled: number;
  /** Bulk calls made from gathered loads, and the keys they carried. */
  batches: number;
  keysBatched: number;
  writer: OriginCounters | undefined;
}

/** A namespace's origin, ready for the engine: the loader, the writer, and their state. */
export interface Origin {
  readonly namespace: string;
  readonly loader: Loader;
  readonly writer: Writer | undefined;
  readonly deadLetters: DeadLetterLog;
  /** The loader's breaker state. */
  breakerState(): BreakerState;
  /** Calls `listener` on every change of the loader's breaker. Returns an unsubscribe. */
  onBreakerStateChange(listener: BreakerListener): () => void;
  counters(): OriginStats;
  /** Stops timers and closes connections. */
  close(): void;
}

const ms = (duration: Duration | undefined): number | undefined => (duration ? durationMs(duration) : undefined);

/**
 * Builds a namespace's origin from its policy: the kind (gRPC LoaderService, HTTP, or
 * in-process functions), then, from the inside out, the resilience guards (per-attempt timeout,
 * retry, breaker, concurrency cap, rate limit), bulk batching, dead-letter tracking and the
 * refresh throttle. The writer (gRPC Store, HTTP PUT/POST) gets guards of its own with the same
 * settings, so failing writes never open the loader's breaker or spend its tokens. Unset
 * fields take {@link ORIGIN_DEFAULTS}. Throws INVALID_ARGUMENT for a
 * policy that names no usable origin.
 *
 *   const origin = createOrigin("products", policy.loader, { publishDeadLetter: toKafka });
 *   new CacheManager({ l1, loaderFor: (ns) => origins.get(ns)?.loader });
 */
export function createOrigin(namespace: string, policy: OriginPolicy, options: CreateOriginOptions = {}): Origin {
  const { loader: raw, writer: rawWriter, close: closeKind } = originKind(namespace, policy, options);
  const of = ownerOf(namespace, options);
  const guardOptions = resilienceOptions(`origin for ${of}`, policy, options);
  const guard = new Resilience(guardOptions);
  const writerGuard = rawWriter
    ? new ResilientWriter(rawWriter, { ...guardOptions, name: `writer for ${of}` })
    : undefined;

  let loader: Loader = new ResilientLoader(raw, guard);
  let batching: BatchingLoader | undefined;
  if (loader.loadMany && policy.batch?.enabled !== false) {
    batching = new BatchingLoader(loader, {
      windowMs: ms(policy.batch?.window) ?? ORIGIN_DEFAULTS.batch.windowMs,
      maxBatchSize: policy.batch?.maxBatchSize || ORIGIN_DEFAULTS.batch.maxBatchSize,
    });
    loader = batching;
  }
  const deadLetters =
    options.deadLetters ??
    new DeadLetterLog({
      maxFailures: policy.deadLetter?.maxFailures || ORIGIN_DEFAULTS.deadLetter.maxFailures,
      windowMs: ms(policy.deadLetter?.window) || ORIGIN_DEFAULTS.deadLetter.windowMs,
      ...(options.clock ? { clock: options.clock } : {}),
      ...(options.publishDeadLetter ? { publish: options.publishDeadLetter } : {}),
    });
  loader = new DeadLetterLoader(loader, deadLetters);
  let throttle: RefreshThrottlingLoader | undefined;
  const throttleMs = ms(policy.refreshThrottle) ?? 0;
  if (throttleMs > 0) {
    throttle = new RefreshThrottlingLoader(loader, {
      intervalMs: throttleMs,
      ...(options.clock ? { clock: options.clock } : {}),
    });
    loader = throttle;
  }

  return {
    namespace,
    loader,
    writer: writerGuard,
    deadLetters,
    breakerState: () => guard.breakerState(),
    onBreakerStateChange: (listener) => guard.onBreakerStateChange(listener),
    counters: () => {
      const batched = batching?.counters();
      return {
        ...guard.counters(),
        throttled: throttle?.throttled ?? 0,
        batches: batched?.batches ?? 0,
        keysBatched: batched?.keysBatched ?? 0,
        writer: writerGuard?.counters(),
      };
    },
    close: () => {
      guard.close();
      writerGuard?.close();
      closeKind();
    },
  };
}

/** The guards' settings from a policy, defaults filled in. */
export function resilienceOptions(
  name: string,
  policy: OriginPolicy,
  options: Pick<CreateOriginOptions, "clock" | "random"> = {},
): ResilienceOptions {
  const retryPolicy = policy.retry;
  const maxAttempts = retryPolicy?.maxAttempts || ORIGIN_DEFAULTS.retry.maxAttempts;
  const initialBackoffMs = ms(retryPolicy?.initialBackoff) ?? ORIGIN_DEFAULTS.retry.initialBackoffMs;
  const maxBackoffMs = Math.max(initialBackoffMs, ms(retryPolicy?.maxBackoff) ?? ORIGIN_DEFAULTS.retry.maxBackoffMs);
  const hardMs = ms(policy.hardTimeout) ?? 0;
  const b = policy.breaker;
  const result: ResilienceOptions = {
    name,
    maxConcurrency: policy.maxConcurrency || ORIGIN_DEFAULTS.maxConcurrency,
    retry: {
      maxAttempts,
      initialBackoffMs,
      maxBackoffMs,
      ...(options.random ? { random: options.random } : {}),
    },
    attemptTimeoutMs: hardMs > 0 ? Math.max(1, Math.floor(hardMs / maxAttempts)) : ORIGIN_DEFAULTS.attemptTimeoutMs,
    ...(options.clock ? { clock: options.clock } : {}),
  };
  if (b?.enabled !== false) {
    result.breaker = {
      errorThresholdPercent: b?.errorThresholdPercent || ORIGIN_DEFAULTS.breaker.errorThresholdPercent,
      volumeThreshold: b?.volumeThreshold || ORIGIN_DEFAULTS.breaker.volumeThreshold,
      resetTimeoutMs: ms(b?.resetTimeout) || ORIGIN_DEFAULTS.breaker.resetTimeoutMs,
      rollingWindowMs: ms(b?.rollingWindow) || ORIGIN_DEFAULTS.breaker.rollingWindowMs,
    };
  }
  const perSecond = policy.rateLimit?.perSecond ?? 0;
  if (perSecond > 0) {
    result.rateLimit = { perSecond, ...(policy.rateLimit?.burst ? { burst: policy.rateLimit.burst } : {}) };
  }
  return result;
}

/** Whose origin it is, for messages: "namespace n" or "namespace n, rule r". */
function ownerOf(namespace: string, options: CreateOriginOptions): string {
  return options.rule === undefined ? `namespace ${namespace}` : `namespace ${namespace}, rule ${options.rule}`;
}

/** The raw origin a policy names, before any guard. */
function originKind(
  namespace: string,
  policy: OriginPolicy,
  options: CreateOriginOptions,
): { loader: Loader; writer: Writer | undefined; close: () => void } {
  const of = ownerOf(namespace, options);
  const kind = policy.kind;
  if (kind.case === "grpc") {
    if (!kind.value.target) {
      throw new CacheError(Status.INVALID_ARGUMENT, `origin for ${of}: grpc.target must be host:port`);
    }
    const origin = new GrpcOrigin({ target: kind.value.target, tls: kind.value.tls, metadata: kind.value.metadata });
    return { loader: origin, writer: origin, close: () => origin.close() };
  }
  if (kind.case === "http") {
    const http = kind.value;
    if (!/^https?:\/\//.test(http.urlTemplate)) {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `origin for ${of}: http.urlTemplate must be an http(s) URL with {key}, e.g. https://api/products/{key}`,
      );
    }
    const method = http.writeMethod.toUpperCase() || "PUT";
    if (method !== "PUT" && method !== "POST") {
      throw new CacheError(
        Status.INVALID_ARGUMENT,
        `origin for ${of}: http.writeMethod must be PUT or POST, not ${http.writeMethod}`,
      );
    }
    const origin = new HttpOrigin({
      urlTemplate: http.urlTemplate,
      headers: http.headers,
      writeMethod: method,
      notFoundStatuses: http.notFoundStatuses,
      ...(http.bulkUrl ? { bulkUrl: http.bulkUrl } : {}),
      ...(options.userAgent ? { userAgent: options.userAgent } : {}),
    });
    return { loader: origin, writer: origin, close: () => {} };
  }
  if (options.functions) return { ...functionOrigin(options.functions), close: () => {} };
  throw new CacheError(
    Status.INVALID_ARGUMENT,
    `origin for ${of} names neither grpc nor http (and no in-process functions were given)`,
  );
}

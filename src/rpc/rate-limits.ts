import { TokenBucket } from "../engine/token-bucket.js";
import { CacheError, Status } from "../errors.js";
import { principalKey } from "./auth.js";
import type { Interceptor } from "./interceptors.js";

/** A rate: `perSecond` on average, `burst` at once (default: one second's worth). */
export interface Rate {
  perSecond: number;
  burst?: number | undefined;
}

/** Request rate limits of one instance; each unset scope is unlimited. */
export interface RateLimits {
  /** Every credential (token or identity), unless it has a rate of its own. */
  perCredential?: Rate | undefined;
  /** Rates of particular credentials, by name. */
  credentials?: ReadonlyMap<string, Rate>;
  /** Every namespace a request names. */
  perNamespace?: Rate | undefined;
  /** Called with the scope of each refused request (for metrics). */
  onLimited?: (scope: "credential" | "namespace") => void;
}

/** Buckets kept at most per scope: past it the oldest is forgotten (it starts full again). */
const MAX_BUCKETS = 10_000;

/** Token buckets by name, created on first use, bounded. */
class Buckets {
  private readonly buckets = new Map<string, TokenBucket>();
  constructor(private readonly rateOf: (name: string) => Rate | undefined) {}

  /** Takes a token of `name`'s bucket; false when it is empty. Names without a rate pass. */
  take(name: string): { ok: true } | { ok: false; rate: Rate; retryMs: number } {
    let bucket = this.buckets.get(name);
    if (!bucket) {
      const rate = this.rateOf(name);
      if (!rate) return { ok: true };
      if (this.buckets.size >= MAX_BUCKETS) this.buckets.delete(this.buckets.keys().next().value as string);
      bucket = new TokenBucket({ perSecond: rate.perSecond, ...(rate.burst ? { burst: rate.burst } : {}) });
      this.buckets.set(name, bucket);
    }
    if (bucket.tryTake()) return { ok: true };
    return { ok: false, rate: { perSecond: bucket.perSecond, burst: bucket.burst }, retryMs: bucket.msUntilNext() };
  }
}

/** The namespace a request names, if it names one. */
function namespaceOf(request: unknown): string | undefined {
  const r = request as { namespace?: unknown; policy?: { namespace?: unknown } };
  const name = typeof r.namespace === "string" ? r.namespace : r.policy?.namespace;
  return typeof name === "string" ? name || "default" : undefined;
}

/**
 * Refuses requests past a credential's or a namespace's rate with RESOURCE_EXHAUSTED, saying
 * which limit and when to retry. Runs after authentication (it reads the caller from the
 * context); without authentication only namespace limits apply.
 */
export function rateLimitInterceptor(limits: RateLimits): Interceptor {
  const byCredential = new Buckets((name) => limits.credentials?.get(name) ?? limits.perCredential);
  const byNamespace = new Buckets(() => limits.perNamespace);
  const check = (request: unknown, caller: string | undefined) => {
    if (caller !== undefined) {
      const taken = byCredential.take(caller);
      if (!taken.ok) {
        limits.onLimited?.("credential");
        throw new CacheError(
          Status.RESOURCE_EXHAUSTED,
          `${caller} is past its rate limit (${taken.rate.perSecond}/s, bursts of ${taken.rate.burst}); retry in ${taken.retryMs} ms`,
          { retryAfterMs: String(taken.retryMs) },
        );
      }
    }
    const namespace = namespaceOf(request);
    if (namespace === undefined) return;
    const taken = byNamespace.take(namespace);
    if (!taken.ok) {
      limits.onLimited?.("namespace");
      throw new CacheError(
        Status.RESOURCE_EXHAUSTED,
        `namespace ${namespace} is past its rate limit (${taken.rate.perSecond}/s, bursts of ${taken.rate.burst}); retry in ${taken.retryMs} ms`,
        { retryAfterMs: String(taken.retryMs) },
      );
    }
  };
  return {
    unary: (_method, next) => (request, context) => {
      try {
        check(request, context.values.get(principalKey)?.name);
      } catch (error) {
        return Promise.reject(error);
      }
      return next(request, context);
    },
    stream: (_method, next) =>
      async function* (request, context) {
        check(request, context.values.get(principalKey)?.name);
        yield* next(request, context);
      },
  };
}

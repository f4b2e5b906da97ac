import { createHash } from "node:crypto";
import {
  type Attributes,
  type Context,
  context,
  type Link,
  propagation,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type TextMapGetter,
  type Tracer,
  trace,
} from "@opentelemetry/api";
import type { StatsSink } from "../engine/core.js";
import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import type { Writer } from "../engine/writer.js";

/** Whether spans carry the cache key: never (default), its SHA-256 (16 hex digits), or in clear. */
export type KeyAttribute = false | true | "hash";

/** What the instrumentation needs from a running SDK (see `startOtel`). */
export interface TracingOptions {
  readonly tracer: Tracer;
  readonly includeKeys: KeyAttribute;
}

/** Span attribute names (the `mlcache.` prefix keeps them apart from the semantic conventions). */
export const ATTR = {
  namespace: "mlcache.namespace",
  key: "mlcache.key",
  keys: "mlcache.keys",
  source: "mlcache.source",
  stale: "mlcache.stale",
  collapsed: "mlcache.collapsed",
  breaker: "mlcache.breaker.state",
  result: "mlcache.result",
  hit: "mlcache.hit",
} as const;

/** The one boolean the paths outside a span check: false while no SDK runs (see `startOtel`). */
let active = false;

/** Set by `startOtel` and its close. */
export function setTracingActive(on: boolean): void {
  active = on;
}

/**
 * Adds the current trace context (`traceparent`, `tracestate`) to an outgoing carrier: origin
 * HTTP headers, gRPC metadata, Kafka record headers. Nothing at all while tracing is off.
 */
export function injectTraceContext(carrier: Record<string, string>): void {
  if (active) propagation.inject(context.active(), carrier);
}

/**
 * `headers` with the current trace context added (a copy), or `headers` itself while tracing is
 * off: outgoing calls pay nothing for tracing unless it runs.
 */
export function withTraceContext<H extends Record<string, string>>(headers: H): H {
  if (!active) return headers;
  const copy = { ...headers };
  propagation.inject(context.active(), copy);
  return copy;
}

/** Reads one header of a request; null or undefined when absent. */
export type HeaderLookup = (name: string) => string | null | undefined;

const lookupGetter: TextMapGetter<HeaderLookup> = {
  keys: () => ["traceparent", "tracestate"],
  get: (lookup, key) => lookup(key) ?? undefined,
};

const kafkaHeadersGetter: TextMapGetter<KafkaHeaders> = {
  keys: (carrier) => Object.keys(carrier),
  get: (carrier, key) => {
    const value = carrier[key];
    const one = Array.isArray(value) ? value[0] : value;
    return one === undefined ? undefined : one.toString();
  },
};

/** Kafka record headers as kafkajs hands them over. */
export type KafkaHeaders = Record<string, Buffer | string | (Buffer | string)[] | undefined>;

/**
 * The trace context an incoming request carries (HTTP header or gRPC metadata, read one by one
 * so the gRPC port builds no Headers object); the root context when it has no `traceparent`.
 */
export function contextFromRequest(header: HeaderLookup): Context {
  return header("traceparent") ? propagation.extract(ROOT_CONTEXT, header, lookupGetter) : ROOT_CONTEXT;
}

/** The trace context a Kafka record carries, or undefined when it carries none. */
export function contextFromKafkaHeaders(headers: KafkaHeaders | undefined): Context | undefined {
  if (!active || !headers?.traceparent) return undefined;
  const extracted = propagation.extract(ROOT_CONTEXT, headers, kafkaHeadersGetter);
  return trace.getSpanContext(extracted) ? extracted : undefined;
}

/** The key as a span attribute, per `includeKeys`; none by default. */
export function keyAttributes(includeKeys: KeyAttribute, key: string): Attributes {
  if (includeKeys === false) return {};
  return { [ATTR.key]: includeKeys === true ? key : hashKey(key) };
}

/** SHA-256 of the key, 16 hex digits: correlates spans of one key without showing it. */
export function hashKey(key: string): string {
  return createHash("sha256").update(key).digest("hex").slice(0, 16);
}

/**
 * A stats sink that also marks the active span (the RPC's, or a loader's): one event per layer
 * lookup (`mlcache.l1` / `mlcache.l2` with `mlcache.hit`), per lease wait (`mlcache.lease_wait`),
 * per refresh started, and the `mlcache.collapsed` attribute when the read joined a running
 * load. Installed only when tracing is on; unsampled spans cost one `isRecording()` check.
 */
export function tracingSink(inner: StatsSink): StatsSink {
  const recording = () => {
    const span = trace.getActiveSpan();
    return span?.isRecording() ? span : undefined;
  };
  return {
    access(namespace, key, layer, hit) {
      inner.access(namespace, key, layer, hit);
      recording()?.addEvent(layer === "l1" ? "mlcache.l1" : "mlcache.l2", { [ATTR.hit]: hit });
    },
    load(namespace, key, ms, ok) {
      inner.load(namespace, key, ms, ok);
    },
    refresh(namespace, key, kind) {
      inner.refresh(namespace, key, kind);
      recording()?.addEvent("mlcache.refresh", { "mlcache.refresh.kind": kind });
    },
    collapsed(namespace, key) {
      inner.collapsed?.(namespace, key);
      recording()?.setAttribute(ATTR.collapsed, true);
    },
    leaseWait(namespace, keys, ms, answered) {
      inner.leaseWait?.(namespace, keys, ms, answered);
      recording()?.addEvent("mlcache.lease_wait", {
        "mlcache.lease_wait.keys": keys,
        "mlcache.lease_wait.ms": ms,
        "mlcache.lease_wait.answered_by_peers": answered,
      });
    },
  };
}

/** Ends a span with the error's message as its status. */
function failed(span: Span, error: unknown): never {
  span.recordException(error instanceof Error ? error : String(error));
  span.setStatus({ code: SpanStatusCode.ERROR, message: error instanceof Error ? error.message : String(error) });
  span.setAttribute(ATTR.result, "error");
  span.end();
  throw error;
}

/** How the loader and writer spans describe their namespace. */
export interface OriginSpanInfo {
  /** The namespace's circuit breaker state when the call starts ("closed", "open", "half-open"). */
  breakerState?: ((namespace: string) => string | undefined) | undefined;
}

/**
 * The loader with a CLIENT span per `load` (`mlcache.load`) and `loadMany` (`mlcache.load_many`),
 * a child of the span active when it is called, and active while it runs, so an origin call
 * carries it out as `traceparent`. Attributes: namespace, breaker state, result; the key only
 * as `includeKeys` says.
 */
export function tracedLoader(loader: Loader, tracing: TracingOptions, info: OriginSpanInfo = {}): Loader {
  const { tracer, includeKeys } = tracing;
  const base = (namespace: string): Attributes => {
    const state = info.breakerState?.(namespace);
    return state ? { [ATTR.namespace]: namespace, [ATTR.breaker]: state } : { [ATTR.namespace]: namespace };
  };
  const traced: Loader = {
    load(namespace: string, key: string, loadContext: LoadContext): Promise<LoadResult> {
      const attributes = { ...base(namespace), ...keyAttributes(includeKeys, key) };
      return tracer.startActiveSpan("mlcache.load", { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          const result = await loader.load(namespace, key, loadContext);
          span.setAttribute(ATTR.result, result.found ? "found" : "not_found");
          span.end();
          return result;
        } catch (error) {
          return failed(span, error);
        }
      });
    },
  };
  const loadMany = loader.loadMany?.bind(loader);
  if (loadMany) {
    traced.loadMany = (namespace, keys, loadContext) => {
      const attributes = { ...base(namespace), [ATTR.keys]: keys.length };
      return tracer.startActiveSpan("mlcache.load_many", { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          const results = await loadMany(namespace, keys, loadContext);
          let errors = 0;
          for (const outcome of results.values()) if (outcome instanceof Error) errors++;
          span.setAttribute(ATTR.result, errors === 0 ? "ok" : "partial");
          span.end();
          return results;
        } catch (error) {
          return failed(span, error);
        }
      });
    };
  }
  return traced;
}

/** The writer with a CLIENT span per `store` call (`mlcache.store`), a child of the active span. */
export function tracedWriter(writer: Writer, tracing: TracingOptions, info: OriginSpanInfo = {}): Writer {
  const { tracer, includeKeys } = tracing;
  return {
    store(namespace, items, storeContext) {
      const state = info.breakerState?.(namespace);
      const attributes: Attributes = {
        [ATTR.namespace]: namespace,
        [ATTR.keys]: items.length,
        ...(state ? { [ATTR.breaker]: state } : {}),
        ...(items.length === 1 && items[0] ? keyAttributes(includeKeys, items[0].key) : {}),
      };
      return tracer.startActiveSpan("mlcache.store", { kind: SpanKind.CLIENT, attributes }, async (span) => {
        try {
          const errors = await writer.store(namespace, items, storeContext);
          span.setAttribute(ATTR.result, errors && errors.size > 0 ? "partial" : "ok");
          span.end();
          return errors;
        } catch (error) {
          return failed(span, error);
        }
      });
    },
  };
}

/**
 * Runs `work` under a CONSUMER span (the write-behind sink applying a batch of one namespace)
 * that continues the first of `parents` (the trace of the Set whose record came first) and links
 * every other one, so each Set's trace reaches the writer call.
 */
export async function consumerSpan<T>(
  tracing: TracingOptions,
  name: string,
  parents: readonly Context[],
  attributes: Attributes,
  work: () => Promise<T>,
): Promise<T> {
  const [first, ...rest] = parents;
  const links: Link[] = [];
  for (const other of rest) {
    const linked = trace.getSpanContext(other);
    if (linked) links.push({ context: linked });
  }
  return tracing.tracer.startActiveSpan(
    name,
    { kind: SpanKind.CONSUMER, attributes, ...(links.length ? { links } : {}) },
    first ?? ROOT_CONTEXT,
    async (span) => {
      try {
        const result = await work();
        span.end();
        return result;
      } catch (error) {
        return failed(span, error);
      }
    },
  );
}

/**
 * `wrap` applied once per object (loaders and writers are asked for per call): the same
 * traced wrapper every time, forgotten with the object.
 */
export function onceEach<T extends object>(wrap: (inner: T) => T): (inner: T | undefined) => T | undefined {
  const wrapped = new WeakMap<T, T>();
  return (inner) => {
    if (!inner) return undefined;
    let outer = wrapped.get(inner);
    if (!outer) {
      outer = wrap(inner);
      wrapped.set(inner, outer);
    }
    return outer;
  };
}

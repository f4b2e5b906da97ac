import type { DescMethod } from "@bufbuild/protobuf";
import type { HandlerContext } from "@connectrpc/connect";
import { type Attributes, context, type Span, SpanKind, SpanStatusCode, trace } from "@opentelemetry/api";
import { CacheError, statusName } from "../errors.js";
import { Source } from "../gen/mlcache/v1/common_pb.js";
import { ATTR, contextFromRequest, keyAttributes, type TracingOptions } from "../telemetry/tracing.js";
import { requestHeader } from "./call-headers.js";
import { asConnectError, type Interceptor } from "./interceptors.js";

/** What the RPC spans need beyond the SDK. */
export interface RpcTracingOptions extends TracingOptions {
  /** The namespace's loader breaker state, set on the span of a call that names a namespace. */
  breakerState?: ((namespace: string) => string | undefined) | undefined;
}

/**
 * A SERVER span per call on either port (`mlcache.v1.CacheService/Get`), continuing the caller's
 * W3C `traceparent` (HTTP header or gRPC metadata) and active while the call runs, so the
 * layer events, loader spans and outgoing `traceparent` hang below it. Attributes: the rpc.*
 * names of the semantic conventions, the namespace, breaker state and, for a single-item
 * answer, its source layer, staleness and result; the key only as `includeKeys` says. Installed
 * first (outermost) and only when tracing is configured: when it is off there is no interceptor.
 */
export function tracingInterceptor(options: RpcTracingOptions): Interceptor {
  const { tracer, includeKeys } = options;
  const start = (method: DescMethod, request: unknown, callContext: HandlerContext): Span => {
    const attributes: Attributes = {
      "rpc.system": "grpc",
      "rpc.service": method.parent.typeName,
      "rpc.method": method.name,
    };
    const span = tracer.startSpan(
      `${method.parent.typeName}/${method.name}`,
      { kind: SpanKind.SERVER, attributes },
      contextFromRequest((name) => requestHeader(callContext, name)),
    );
    if (span.isRecording()) {
      const { namespace, key } = request as { namespace?: unknown; key?: unknown };
      if (typeof namespace === "string") {
        span.setAttribute(ATTR.namespace, namespace || "default");
        const state = options.breakerState?.(namespace || "default");
        if (state) span.setAttribute(ATTR.breaker, state);
      }
      if (typeof key === "string") span.setAttributes(keyAttributes(includeKeys, key));
    }
    return span;
  };
  const succeeded = (span: Span, response: unknown) => {
    if (span.isRecording()) {
      span.setAttribute("rpc.grpc.status_code", 0);
      const item = (response as { item?: { found?: boolean; source?: number; stale?: boolean } } | undefined)?.item;
      if (item && typeof item.found === "boolean") {
        span.setAttributes({
          [ATTR.result]: item.found ? "found" : "not_found",
          [ATTR.source]: (Source[item.source ?? 0] ?? "UNSPECIFIED").toLowerCase(),
          [ATTR.stale]: item.stale === true,
        });
      } else {
        span.setAttribute(ATTR.result, "ok");
      }
    }
    span.end();
  };
  const failed = (span: Span, error: unknown) => {
    if (span.isRecording()) {
      const connectError = asConnectError(error);
      span.setAttributes({ "rpc.grpc.status_code": connectError.code, [ATTR.result]: "error" });
      span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${statusName(connectError.code)}: ${error instanceof CacheError ? error.message : connectError.rawMessage}`,
      });
    }
    span.end();
  };
  return {
    unary: (method, next) => (request, callContext) => {
      const span = start(method, request, callContext);
      let pending: Promise<unknown>;
      try {
        pending = context.with(trace.setSpan(context.active(), span), () => next(request, callContext));
      } catch (error) {
        pending = Promise.reject(error);
      }
      return pending.then(
        (response) => {
          succeeded(span, response);
          return response;
        },
        (error: unknown) => {
          failed(span, error);
          throw error;
        },
      );
    },
    stream: (method, next) =>
      async function* (request, callContext) {
        const span = start(method, request, callContext);
        const active = trace.setSpan(context.active(), span);
        // Each step of the stream runs in the span's context (a generator does not carry it).
        const iterator = context.with(active, () => next(request, callContext)[Symbol.asyncIterator]());
        let ended = false;
        try {
          for (;;) {
            const step = await context.with(active, () => iterator.next());
            if (step.done) break;
            yield step.value;
          }
          ended = true;
          succeeded(span, undefined);
        } catch (error) {
          ended = true;
          failed(span, error);
          throw error;
        } finally {
          // The caller stopped reading (cancelled): the span ends with the stream.
          if (!ended) {
            span.end();
            await iterator.return?.();
          }
        }
      },
  };
}

import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { type Code, ConnectError, type HandlerContext, type ServiceImpl } from "@connectrpc/connect";
import { CacheError, Status, toCacheError } from "../errors.js";

/** The next step of a unary call. */
export type UnaryNext = (request: unknown, context: HandlerContext) => Promise<unknown>;
/** The next step of a server-streaming call. */
export type StreamNext = (request: unknown, context: HandlerContext) => AsyncIterable<unknown>;

/**
 * Middleware around service implementations, applied once so both ports (grpc-js and
 * Connect) see the same behaviour. Each hook wraps `next` and returns the wrapped step.
 */
export interface Interceptor {
  unary?(method: DescMethod, next: UnaryNext): UnaryNext;
  stream?(method: DescMethod, next: StreamNext): StreamNext;
}

/** An implementation with the interceptors applied, the first one outermost. */
export function intercept<S extends DescService>(
  service: S,
  impl: ServiceImpl<S>,
  interceptors: readonly Interceptor[],
): ServiceImpl<S> {
  const wrapped: Record<string, unknown> = {};
  for (const method of service.methods) {
    const fn = (impl as Record<string, (request: unknown, context: HandlerContext) => unknown>)[method.localName];
    if (!fn) continue;
    if (method.methodKind === "unary") {
      // A promise either way, without an async frame of its own (what it returns is one already).
      let next: UnaryNext = (request, context) => {
        try {
          return Promise.resolve(fn.call(impl, request, context));
        } catch (error) {
          return Promise.reject(error);
        }
      };
      for (const i of [...interceptors].reverse()) if (i.unary) next = i.unary(method, next);
      wrapped[method.localName] = next;
    } else {
      let next: StreamNext = (request, context) => fn.call(impl, request, context) as AsyncIterable<unknown>;
      for (const i of [...interceptors].reverse()) if (i.stream) next = i.stream(method, next);
      wrapped[method.localName] = next;
    }
  }
  return wrapped as ServiceImpl<S>;
}

/** The ConnectError for anything thrown: CacheError keeps its code, message and details. */
export function asConnectError(error: unknown): ConnectError {
  if (error instanceof ConnectError) return error;
  const cacheError = error instanceof CacheError ? error : toCacheError(error);
  const metadata = new Headers();
  for (const [name, value] of Object.entries(cacheError.details)) {
    metadata.set(`mlcache-${name.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`, value);
  }
  return new ConnectError(cacheError.message, cacheError.code as number as Code, metadata);
}

const rethrowAsConnectError = (error: unknown): never => {
  throw asConnectError(error);
};

/** Turns engine errors into status errors both transports understand. */
export const errorInterceptor: Interceptor = {
  unary: (_method, next) => (request, context) => {
    try {
      return next(request, context).catch(rethrowAsConnectError);
    } catch (error) {
      return Promise.reject(asConnectError(error));
    }
  },
  stream: (_method, next) =>
    async function* (request, context) {
      try {
        yield* next(request, context);
      } catch (error) {
        throw asConnectError(error);
      }
    },
};

/** Whether the instance may answer calls yet (see {@link startGate}). */
export interface Gate {
  readonly open: boolean;
}

/**
 * Refuses every call with UNAVAILABLE until `gate` opens: an instance that has not yet read
 * what the fleet decided (policies, invalidations it missed) must not answer as if it had.
 */
export function startGate(gate: Gate, reason: () => string): Interceptor {
  const refuse = () => new CacheError(Status.UNAVAILABLE, `this instance is starting: ${reason()}; retry shortly`);
  return {
    unary: (_method, next) => (request, context) => {
      if (!gate.open) return Promise.reject(refuse());
      return next(request, context);
    },
    stream: (_method, next) =>
      async function* (request, context) {
        if (!gate.open) throw refuse();
        yield* next(request, context);
      },
  };
}

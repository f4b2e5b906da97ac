import type { HandlerContext } from "@connectrpc/connect";

/** A handler context that can answer one request header without building all of them. */
export interface HeaderReader {
  /** The header's value (the first, for a repeated one), or null. */
  header(name: string): string | null;
}

/**
 * One request header of a call: through the context's {@link HeaderReader} where it has one
 * (the gRPC port's contexts do, so the per-call credential check builds no Headers), else
 * through `requestHeader`.
 */
export function requestHeader(context: HandlerContext, name: string): string | null {
  const reader = context as Partial<HeaderReader> & HandlerContext;
  return typeof reader.header === "function" ? reader.header(name) : context.requestHeader.get(name);
}

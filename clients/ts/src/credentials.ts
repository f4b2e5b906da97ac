import type { Interceptor } from "@connectrpc/connect";

/** PEM material for TLS, as Node's `tls` options take it (read files with `readFileSync`). */
export interface TlsOptions {
  /** CAs to trust instead of the system's roots (the CLI's `--ca`). */
  ca?: string | Uint8Array;
  /** A client certificate and its key, for mutual TLS (`--cert`, `--cert-key`). */
  cert?: string | Uint8Array;
  key?: string | Uint8Array;
}

/** The `authorization` header value of a token; refuses what the server could not read. */
export function authorizationOf(token: string): string {
  // Printable ASCII without spaces: what a header carries intact and the server reads as one
  // token. The error does not repeat the token.
  if (!/^[!-~]+$/.test(token)) {
    throw new Error("a bearer token must be printable ASCII without spaces");
  }
  return `Bearer ${token}`;
}

/**
 * A Connect interceptor sending `authorization: Bearer <token>` on every call, for the
 * connect-node and connect-web transports:
 *
 *   createGrpcTransport({ baseUrl: "https://cache.internal:50051", interceptors: [bearerToken(token)],
 *     nodeOptions: { ca: readFileSync("ca.pem") } });
 */
export function bearerToken(token: string): Interceptor {
  const authorization = authorizationOf(token);
  return (next) => (request) => {
    request.header.set("authorization", authorization);
    return next(request);
  };
}

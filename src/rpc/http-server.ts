import * as http from "node:http";
import * as http2 from "node:http2";
import type { AddressInfo } from "node:net";
import type { TLSSocket } from "node:tls";
import { type ConnectRouter, createContextValues } from "@connectrpc/connect";
import { connectNodeAdapter } from "@connectrpc/connect-node";
import type { Registry } from "prom-client";
import { CacheError, Status } from "../errors.js";
import { peerCertificateKey } from "./auth.js";
import type { ConnectionBounds, ServiceBinding } from "./grpc-server.js";
import type { TlsMaterial, TlsSource } from "./tls-reloader.js";

export interface HttpServerOptions {
  host: string;
  port: number;
  services: ServiceBinding[];
  maxMessageBytes: number;
  registry: Registry;
  /** Liveness: the process is up. Readiness: it should receive traffic. */
  ready: () => { ready: boolean; detail: string };
  /** TLS for the port; new material from the source is served to new connections. */
  tls?: TlsSource | undefined;
  /** Bounds on client connections (defaults: Node's own). */
  connections?: ConnectionBounds | undefined;
  /** Aborted to end the calls still running (with the signal's reason) at shutdown. */
  shutdownSignal?: AbortSignal | undefined;
  /** Checks the credential of a `/metrics` scrape (its authorization header); unset: open. */
  metricsGuard?: ((authorization: string | null) => void) | undefined;
  /** Answers the dashboard's paths (true when it did); unset: no dashboard (see ./dashboard.ts). */
  dashboard?: ((req: http.IncomingMessage | http2.Http2ServerRequest, res: http.ServerResponse) => boolean) | undefined;
}

/** A running HTTP server. */
export interface RunningHttpServer {
  readonly port: number;
  close(graceMs: number): Promise<void>;
}

/**
 * Starts the HTTP port: Connect, gRPC-Web and JSON for the same services (connect-node),
 * plus `/metrics`, `/healthz`, `/readyz` and the dashboard. Plaintext serves HTTP/1.1 (browsers, curl);
 * with TLS it negotiates HTTP/2 or HTTP/1.1.
 */
export async function startHttpServer(options: HttpServerOptions): Promise<RunningHttpServer> {
  const connect = connectNodeAdapter({
    routes: (router: ConnectRouter) => {
      for (const { service, impl } of options.services) router.service(service, impl);
    },
    readMaxBytes: options.maxMessageBytes,
    writeMaxBytes: options.maxMessageBytes,
    // A request cannot make the service keep bytes it does not use.
    binaryOptions: { readUnknownFields: false },
    ...(options.shutdownSignal ? { shutdownSignal: options.shutdownSignal } : {}),
    // The verified client certificate (mutual TLS) goes to the interceptors, for authentication.
    ...(options.tls?.requireClientCert
      ? {
          contextValues: (req: http.IncomingMessage | http2.Http2ServerRequest) => {
            const values = createContextValues();
            const socket = req.socket as TLSSocket;
            if (socket.authorized) values.set(peerCertificateKey, socket.getPeerCertificate());
            return values;
          },
        }
      : {}),
  });

  const handler = (req: http.IncomingMessage, res: http.ServerResponse) => {
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/metrics") {
      if (options.metricsGuard) {
        try {
          options.metricsGuard(req.headers.authorization ?? null);
        } catch (error) {
          res.writeHead(error instanceof CacheError && error.code === Status.PERMISSION_DENIED ? 403 : 401, {
            "content-type": "text/plain",
            "www-authenticate": "Bearer",
          });
          res.end(`${(error as Error).message}\n`);
          return;
        }
      }
      options.registry.metrics().then(
        (body) => {
          res.writeHead(200, { "content-type": options.registry.contentType });
          res.end(body);
        },
        (error: unknown) => {
          res.writeHead(500, { "content-type": "text/plain" });
          res.end(`metrics failed: ${String(error)}\n`);
        },
      );
      return;
    }
    if (req.method === "GET" && path === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" });
      res.end("ok\n");
      return;
    }
    if (req.method === "GET" && path === "/readyz") {
      const { ready, detail } = options.ready();
      res.writeHead(ready ? 200 : 503, { "content-type": "text/plain" });
      res.end(`${detail}\n`);
      return;
    }
    if (options.dashboard?.(req, res)) return;
    if (req.method === "POST" && /^application\/(proto|json)\b/.test(req.headers["content-type"] ?? "")) {
      answerParseErrorsAsInvalid(res);
    }
    connect(req, res);
  };

  const contextOf = (m: TlsMaterial) => ({ cert: m.cert, key: m.key, ...(m.ca ? { ca: m.ca } : {}) });
  const server = options.tls
    ? http2.createSecureServer(
        {
          allowHTTP1: true,
          ...contextOf(options.tls.current),
          requestCert: options.tls.requireClientCert ?? false,
          rejectUnauthorized: options.tls.requireClientCert ?? false,
          minVersion: "TLSv1.2",
          ...(options.connections
            ? { settings: { maxConcurrentStreams: options.connections.maxStreamsPerConnection } }
            : {}),
        },
        handler as unknown as (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void,
      )
    : http.createServer(handler);

  // A rotated certificate is served to new connections; open ones keep the one they agreed on.
  // setSecureContext keeps the options it is not given (minVersion, requestCert).
  if (options.tls && "setSecureContext" in server) {
    const unfollow = options.tls.subscribe((m) => server.setSecureContext(contextOf(m)));
    server.once("close", unfollow);
  }

  const bounds = options.connections;
  if (bounds) {
    server.maxConnections = bounds.maxConnections;
    // A silent socket (also one that never sent a request, or stopped halfway) is destroyed:
    // with no 'timeout' listener both servers destroy what timed out. Streams on this port must
    // send more often than that (WatchStats: an interval below idleTimeout).
    server.setTimeout(bounds.idleTimeout);
    if (server instanceof http.Server) {
      server.headersTimeout = Math.min(bounds.idleTimeout, 60_000);
      server.requestTimeout = Math.min(bounds.maxAge, 300_000);
      server.keepAliveTimeout = Math.min(bounds.idleTimeout, 5_000);
    }
  }
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });

  return {
    port: (server.address() as AddressInfo).port,
    async close(graceMs: number) {
      await new Promise<void>((resolve) => {
        const force = setTimeout(() => {
          if ("closeAllConnections" in server) server.closeAllConnections();
          resolve();
        }, graceMs);
        force.unref();
        // Connections become idle as their last call ends: close them as they do, instead of
        // waiting for the keep-alive timeout.
        const idle = setInterval(() => {
          if ("closeIdleConnections" in server) server.closeIdleConnections();
        }, 50);
        if ("closeIdleConnections" in server) server.closeIdleConnections();
        server.close(() => {
          clearTimeout(force);
          clearInterval(idle);
          resolve();
        });
      });
    },
  };
}

/**
 * connect-node answers a Connect unary request whose body does not parse as its message with
 * 500 `internal` ("parse binary: …"); it is the caller's input that is wrong, so the answer is
 * turned into 400 `invalid_argument` with the same message. Every other response passes as is.
 */
function answerParseErrorsAsInvalid(res: http.ServerResponse | http2.Http2ServerResponse): void {
  const target = res as http.ServerResponse;
  const writeHead = target.writeHead.bind(target);
  const write = target.write.bind(target);
  const end = target.end.bind(target);
  let held: Buffer[] | undefined;
  let heldHeaders: http.OutgoingHttpHeaders = {};
  const callbackOf = (args: unknown[]) => args.find((a): a is (error?: Error) => void => typeof a === "function");
  target.writeHead = ((status: number, ...rest: unknown[]) => {
    if (held) return target; // writeHead again (connect checks headersSent): still held
    if (status !== 500) return writeHead(status, ...(rest as []));
    held = [];
    heldHeaders = { ...((rest[0] as http.OutgoingHttpHeaders | undefined) ?? {}) };
    return target;
  }) as typeof target.writeHead;
  target.write = ((chunk: unknown, ...rest: unknown[]) => {
    if (!held) return write(chunk as string, ...(rest as []));
    held.push(Buffer.from(chunk as Uint8Array));
    const done = callbackOf(rest);
    if (done) process.nextTick(done);
    return true;
  }) as typeof target.write;
  target.end = ((...args: unknown[]) => {
    if (!held) return end(...(args as []));
    const chunk = args[0];
    if (chunk !== undefined && typeof chunk !== "function") held.push(Buffer.from(chunk as Uint8Array));
    let body = Buffer.concat(held);
    let status = 500;
    try {
      const error = JSON.parse(body.toString("utf8")) as { code?: string; message?: string };
      if (error.code === "internal" && /^parse (binary|json)|^cannot decode/.test(error.message ?? "")) {
        status = 400;
        body = Buffer.from(JSON.stringify({ code: "invalid_argument", message: error.message }));
      }
    } catch {
      // not a Connect error body: passed on as it was
    }
    held = undefined;
    for (const name of Object.keys(heldHeaders)) if (name.toLowerCase() === "content-length") delete heldHeaders[name];
    writeHead(status, { ...heldHeaders, "content-length": body.length });
    const done = callbackOf(args);
    return done ? end(body, done) : end(body);
  }) as typeof target.end;
}

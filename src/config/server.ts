import { z } from "zod";
import { bytes, duration, port } from "./fields.js";

/** `server`: the two ports, their message and connection bounds, and TLS. */
export const serverSection = z
  .object({
    /** Address both ports bind to. Loopback by default: expose on purpose (0.0.0.0 in containers). */
    host: z.string().min(1).default("127.0.0.1"),
    grpcPort: port.default(50051),
    httpPort: port.default(8080),
    /** Largest request or response message, on both ports. */
    maxMessageBytes: bytes.default(16 * 1024 * 1024),
    /** How long in-flight calls may take to finish on shutdown before connections are cut. */
    shutdownGrace: duration.default(10_000),
    /** Bounds on client connections, per port: nobody holds the ports' sockets for free. */
    connections: z
      .object({
        /** Connections open at once; more are closed on arrival (keep below the fd limit). */
        maxConnections: z.number().int().min(1).max(1_000_000).default(4096),
        /** A connection with no call in flight this long is closed (also one that never spoke). */
        idleTimeout: duration.default(5 * 60_000),
        /** Calls in flight on one connection (HTTP/2 streams). */
        maxStreamsPerConnection: z.number().int().min(1).max(100_000).default(100),
        /** A connection is asked to go away after this long (calls get a grace minute to end). */
        maxAge: duration.default(2 * 3_600_000),
      })
      .strict()
      .default({ maxConnections: 4096, idleTimeout: 5 * 60_000, maxStreamsPerConnection: 100, maxAge: 2 * 3_600_000 }),
    /**
     * `GET /dashboard` on the HTTP port: a static page streaming WatchStats from the browser. It
     * shows only what WatchStats shows the token entered in the page (auth as for any call).
     */
    dashboard: z.boolean().default(true),
    tls: z
      .object({
        certFile: z.string().min(1),
        keyFile: z.string().min(1),
        /** CA that client certificates must chain to; set for mutual TLS. */
        caFile: z.string().min(1).optional(),
        requireClientCert: z.boolean().default(false),
        /** How often the three files are read for a rotated certificate (served without a restart). */
        reloadInterval: duration.default(5_000),
      })
      .strict()
      .refine((tls) => !tls.requireClientCert || tls.caFile, {
        message: "requireClientCert needs caFile: the CA that client certificates must chain to",
      })
      .optional(),
  })
  .strict();

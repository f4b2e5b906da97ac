import { readFileSync } from "node:fs";
import type { DescService } from "@bufbuild/protobuf";
import { type Client, createClient, type Interceptor } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import { AdminService } from "../gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../gen/mlcache/v1/cache_pb.js";

/**
 * The connection options every client command takes, with their environment defaults:
 *
 *   --server HOST:PORT | https://HOST:PORT   ($MLCACHE_SERVER, default 127.0.0.1:50051)
 *   --token T                                ($MLCACHE_TOKEN): sent as "authorization: Bearer T"
 *   --ca FILE                                ($MLCACHE_CA): trust this CA (implies TLS)
 *   --cert FILE --cert-key FILE              ($MLCACHE_CERT, $MLCACHE_CERT_KEY): client certificate (mTLS)
 */
export const CONNECTION_OPTIONS = {
  server: { type: "string", default: process.env.MLCACHE_SERVER ?? "127.0.0.1:50051" },
  token: { type: "string", default: process.env.MLCACHE_TOKEN ?? "" },
  ca: { type: "string", default: process.env.MLCACHE_CA ?? "" },
  cert: { type: "string", default: process.env.MLCACHE_CERT ?? "" },
  "cert-key": { type: "string", default: process.env.MLCACHE_CERT_KEY ?? "" },
} as const;

/** What {@link CONNECTION_OPTIONS} parse into. */
export interface ConnectionValues {
  server: string;
  token: string;
  ca: string;
  cert: string;
  "cert-key": string;
}

/** A CacheService client over gRPC for the command line's connection options. */
export function cacheClient(values: ConnectionValues): Client<typeof CacheService> {
  return serviceClient(CacheService, values);
}

/** An AdminService client over gRPC for the command line's connection options. */
export function adminClient(values: ConnectionValues): Client<typeof AdminService> {
  return serviceClient(AdminService, values);
}

function serviceClient<S extends DescService>(service: S, values: ConnectionValues): Client<S> {
  const tls = values.ca !== "" || values.cert !== "" || values.server.startsWith("https://");
  const address = values.server.replace(/^https?:\/\//, "");
  const interceptors: Interceptor[] = [];
  if (values.token !== "") {
    const authorization = `Bearer ${values.token}`;
    interceptors.push((next) => (request) => {
      request.header.set("authorization", authorization);
      return next(request);
    });
  }
  if ((values.cert === "") !== (values["cert-key"] === "")) throw new Error("--cert and --cert-key go together");
  const transport = createGrpcTransport({
    baseUrl: `${tls ? "https" : "http"}://${address}`,
    interceptors,
    ...(tls
      ? {
          nodeOptions: {
            ...(values.ca !== "" ? { ca: readFileSync(values.ca) } : {}),
            ...(values.cert !== "" ? { cert: readFileSync(values.cert), key: readFileSync(values["cert-key"]) } : {}),
          },
        }
      : {}),
  });
  return createClient(service, transport);
}

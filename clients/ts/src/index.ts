/**
 * @mlcache/client — a MultilayerCache client over gRPC (grpc-js, connect-node) or Connect
 * (browsers: `createConnectTransport` from @connectrpc/connect-web).
 *
 *   import { CacheClient, createGrpcJsTransport } from "@mlcache/client";
 *   const cache = new CacheClient({ transport: createGrpcJsTransport({ address: "127.0.0.1:50051", token }) });
 */
export { Code, ConnectError } from "@connectrpc/connect";
export { CacheService } from "../gen/mlcache/v1/cache_pb.js";
export { type Item, Source, WriteMode } from "../gen/mlcache/v1/common_pb.js";
export {
  CacheClient,
  type CacheClientOptions,
  type CallOpts,
  type GetOpts,
  type InvalidateTarget,
  type SetOpts,
  type Value,
  type WatchStatsOpts,
} from "./client.js";
export { bearerToken, type TlsOptions } from "./credentials.js";
export { type ClosableTransport, createGrpcJsTransport, type GrpcJsTransportOptions } from "./grpc-js-transport.js";
export type { RetryPolicy } from "./retry.js";

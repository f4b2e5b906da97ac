import type { MessageInitShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import { type Client, ConnectError, createClient } from "@connectrpc/connect";
import { createGrpcTransport, Http2SessionManager } from "@connectrpc/connect-node";
import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { CacheError, Status, type StatusCode, statusName } from "../errors.js";
import type { KeyError } from "../gen/mlcache/v1/common_pb.js";
import {
  type LoadedItem,
  LoaderService,
  type LoadResponse,
  type StoreRequestSchema,
} from "../gen/mlcache/v1/loader_pb.js";
import { withTraceContext } from "../telemetry/tracing.js";
import { abortError } from "./failures.js";
import type { StoreErrors, StoreItemInput, Writer } from "./writer.js";

/** Where and how to reach an origin team's `LoaderService`. */
export interface GrpcOriginOptions {
  /** host:port */
  target: string;
  /** TLS: true for the system roots, or explicit certificates (mutual TLS with key and chain). */
  tls?: boolean | { rootCerts?: Buffer; privateKey?: Buffer; certChain?: Buffer };
  /** Metadata sent with every call (for example `authorization`). */
  metadata?: Readonly<Record<string, string>>;
}

/**
 * A Loader and Writer calling an origin team's `LoaderService` through a generated Connect
 * client over the gRPC protocol (HTTP/2, one session per origin): `load` → Load,
 * `loadMany` → BulkLoad, `store` → Store. NOT_FOUND and `found = false` mean "not found";
 * a BulkLoad item's `KeyError` becomes that key's error; other gRPC errors keep their code.
 * Aborting the signal cancels the call.
 *
 *   const origin = new GrpcOrigin({ target: "products-origin:7000", metadata: { authorization: "Bearer …" } });
 *   const result = await origin.load("products", "42", { signal });
 */
export class GrpcOrigin implements Loader, Writer {
  readonly target: string;
  private readonly client: Client<typeof LoaderService>;
  private readonly session: Http2SessionManager;
  private readonly headers: Record<string, string>;

  constructor(options: GrpcOriginOptions) {
    this.target = options.target;
    const tls = options.tls;
    const baseUrl = `${tls ? "https" : "http"}://${options.target}`;
    const nodeOptions =
      tls && tls !== true
        ? {
            ...(tls.rootCerts ? { ca: tls.rootCerts } : {}),
            ...(tls.privateKey ? { key: tls.privateKey } : {}),
            ...(tls.certChain ? { cert: tls.certChain } : {}),
          }
        : {};
    this.session = new Http2SessionManager(baseUrl, {}, nodeOptions);
    this.client = createClient(LoaderService, createGrpcTransport({ baseUrl, sessionManager: this.session }));
    this.headers = { ...options.metadata };
  }

  async load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    try {
      return toLoadResult(await this.call("Load", context.signal, (o) => this.client.load({ namespace, key }, o)));
    } catch (error) {
      if (error instanceof CacheError && error.code === Status.NOT_FOUND) return { found: false };
      throw error;
    }
  }

  async loadMany(
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ): Promise<Map<string, LoadResult | Error>> {
    const out = new Map<string, LoadResult | Error>();
    let items: LoadedItem[];
    try {
      const response = await this.call("BulkLoad", context.signal, (o) =>
        this.client.bulkLoad({ namespace, keys: [...keys] }, o),
      );
      items = response.items;
    } catch (error) {
      if (error instanceof CacheError && error.code === Status.NOT_FOUND) {
        for (const key of keys) out.set(key, { found: false });
        return out;
      }
      throw error;
    }
    for (const item of items) {
      out.set(item.key, item.error ? keyError(this.target, item.key, item.error) : toLoadResult(item));
    }
    return out;
  }

  async store(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors> {
    const request = {
      namespace,
      items: items.map((item) => ({ ...item, tags: [...item.tags] })),
    } satisfies MessageInitShape<typeof StoreRequestSchema>;
    const signal = context?.signal ?? new AbortController().signal;
    const response = await this.call("Store", signal, (o) => this.client.store(request, o));
    const errors = new Map<string, Error>();
    for (const result of response.results) {
      if (result.error) errors.set(result.key, keyError(this.target, result.key, result.error));
    }
    return errors;
  }

  /** Closes the connection; calls made later fail. */
  close(): void {
    this.session.abort();
  }

  /** One unary call; rejects with a CacheError carrying the origin's code, or the abort reason. */
  private async call<T>(
    method: "Load" | "BulkLoad" | "Store",
    signal: AbortSignal,
    send: (options: { signal: AbortSignal; headers: Record<string, string> }) => Promise<T>,
  ): Promise<T> {
    if (signal.aborted) throw abortError(signal);
    try {
      return await send({ signal, headers: withTraceContext(this.headers) });
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      throw fromConnectError(this.target, method, error);
    }
  }
}

function toLoadResult(message: LoadResponse | LoadedItem): LoadResult {
  if (!message.found) return { found: false };
  const result: LoadResult = { found: true, value: message.value, tags: message.tags };
  if (message.ttl) result.ttlMs = durationMs(message.ttl);
  if (message.version > 0n) result.version = message.version;
  return result;
}

function keyError(target: string, key: string, error: KeyError): CacheError {
  const code = (error.code || Status.UNKNOWN) as StatusCode;
  return new CacheError(code, `origin ${target} failed to handle key ${key}: ${error.message || statusName(code)}`);
}

function fromConnectError(target: string, method: string, error: unknown): CacheError {
  const connect = ConnectError.from(error);
  const code = connect.code as number as StatusCode;
  return new CacheError(code, `origin ${target} answered ${method} with ${statusName(code)}: ${connect.rawMessage}`);
}

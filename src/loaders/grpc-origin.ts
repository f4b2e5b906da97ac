import { create, type MessageInitShape } from "@bufbuild/protobuf";
import { durationMs } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { CacheError, Status, type StatusCode, statusName } from "../errors.js";
import type { KeyError } from "../gen/mlcache/v1/common_pb.js";
import {
  BulkLoadRequestSchema,
  type BulkLoadResponse,
  type LoadedItem,
  LoaderService,
  LoadRequestSchema,
  type LoadResponse,
  StoreRequestSchema,
  type StoreResponse,
} from "../gen/mlcache/v1/loader_pb.js";
import { grpcService } from "../rpc/grpc-adapter.js";
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
  /** grpc-js channel options. */
  channelOptions?: grpc.ChannelOptions;
}

/** The grpc-js method definitions of LoaderService, from the same descriptors the servers use. */
const definition = grpcService(LoaderService, {
  // Only the definition is used here (this side is the client); these are never called.
  load: unimplemented,
  bulkLoad: unimplemented,
  store: unimplemented,
}).definition as Record<"Load" | "BulkLoad" | "Store", grpc.MethodDefinition<unknown, unknown>>;

function unimplemented(): never {
  throw new CacheError(Status.UNIMPLEMENTED, "the cache does not serve LoaderService");
}

/**
 * A Loader and Writer calling an origin team's `LoaderService` over grpc-js: `load` → Load,
 * `loadMany` → BulkLoad, `store` → Store. NOT_FOUND and `found = false` mean "not found";
 * a BulkLoad item's `KeyError` becomes that key's error; other gRPC errors keep their code.
 * Aborting the signal cancels the call.
 *
 *   const origin = new GrpcOrigin({ target: "products-origin:7000", metadata: { authorization: "Bearer …" } });
 *   const result = await origin.load("products", "42", { signal });
 */
export class GrpcOrigin implements Loader, Writer {
  readonly target: string;
  private readonly client: grpc.Client;
  private readonly metadata: grpc.Metadata;

  constructor(options: GrpcOriginOptions) {
    this.target = options.target;
    const tls = options.tls;
    const credentials = !tls
      ? grpc.credentials.createInsecure()
      : tls === true
        ? grpc.credentials.createSsl()
        : grpc.credentials.createSsl(tls.rootCerts ?? null, tls.privateKey ?? null, tls.certChain ?? null);
    this.client = new grpc.Client(options.target, credentials, options.channelOptions ?? {});
    this.metadata = new grpc.Metadata();
    for (const [name, value] of Object.entries(options.metadata ?? {})) this.metadata.set(name, value);
  }

  async load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    try {
      const response = await this.call<LoadResponse>(
        "Load",
        create(LoadRequestSchema, { namespace, key }),
        context.signal,
      );
      return toLoadResult(response);
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
    let response: BulkLoadResponse;
    try {
      response = await this.call<BulkLoadResponse>(
        "BulkLoad",
        create(BulkLoadRequestSchema, { namespace, keys: [...keys] }),
        context.signal,
      );
    } catch (error) {
      if (error instanceof CacheError && error.code === Status.NOT_FOUND) {
        for (const key of keys) out.set(key, { found: false });
        return out;
      }
      throw error;
    }
    for (const item of response.items) {
      out.set(item.key, item.error ? keyError(this.target, item.key, item.error) : toLoadResult(item));
    }
    return out;
  }

  async store(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors> {
    const request = create(StoreRequestSchema, {
      namespace,
      items: items.map((item) => ({ ...item, tags: [...item.tags] })),
    } satisfies MessageInitShape<typeof StoreRequestSchema>);
    const signal = context?.signal ?? new AbortController().signal;
    const response = await this.call<StoreResponse>("Store", request, signal);
    const errors = new Map<string, Error>();
    for (const result of response.results) {
      if (result.error) errors.set(result.key, keyError(this.target, result.key, result.error));
    }
    return errors;
  }

  /** Closes the channel; calls made later fail. */
  close(): void {
    this.client.close();
  }

  /** One unary call; rejects with a CacheError carrying the origin's code, or the abort reason. */
  private call<T>(method: "Load" | "BulkLoad" | "Store", request: unknown, signal: AbortSignal): Promise<T> {
    if (signal.aborted) return Promise.reject(abortError(signal));
    const desc = definition[method];
    return new Promise<T>((resolve, reject) => {
      const onAbort = () => call.cancel();
      const call = this.client.makeUnaryRequest<unknown, unknown>(
        desc.path,
        desc.requestSerialize,
        desc.responseDeserialize,
        request,
        this.metadata.clone(),
        {},
        (error, response) => {
          signal.removeEventListener("abort", onAbort);
          if (signal.aborted) reject(abortError(signal));
          else if (error) reject(fromServiceError(this.target, method, error));
          else resolve(response as T);
        },
      );
      signal.addEventListener("abort", onAbort, { once: true });
    });
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

function fromServiceError(target: string, method: string, error: grpc.ServiceError): CacheError {
  const code = error.code as number as StatusCode;
  return new CacheError(
    code,
    `origin ${target} answered ${method} with ${statusName(code)}: ${error.details || error.message}`,
  );
}

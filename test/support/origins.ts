// Real origins for loader tests: an HTTP origin (node:http) and a grpc-js LoaderService server,
// both on 127.0.0.1 with ephemeral ports, with faults injected at run time (latency, errors,
// hangs, flapping, outages) and counters of the calls they received.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import {
  type BulkLoadResponse,
  BulkLoadResponseSchema,
  LoaderService,
  type LoadResponse,
  LoadResponseSchema,
  type StoreResponse,
  StoreResponseSchema,
} from "../../src/gen/mlcache/v1/loader_pb.js";
import { grpcService } from "../../src/rpc/grpc-adapter.js";

/**
 * What an origin does wrong, changed by tests while it runs. A call fails when any rule says
 * so; `failStatus` is the HTTP status, `failCode` the gRPC code of the failure.
 */
export interface Faults {
  /** Added to every call, in ms. */
  latencyMs: number;
  /** Calls never answer (until the client gives up or the origin stops). */
  hang: boolean;
  /** Every call fails. */
  down: boolean;
  /** Calls fail until this time (Date.now() ms). */
  downUntil: number;
  /** The next N calls fail. */
  failNext: number;
  /** Every other call fails (the 1st, 3rd, 5th …). */
  flapping: boolean;
  failStatus: number;
  failCode: Code;
}

/** Calls an origin received. */
export interface OriginCalls {
  /** Every request, failed ones included. */
  total: number;
  loads: number;
  bulkLoads: number;
  /** Keys asked in bulk loads. */
  bulkKeys: number;
  stores: number;
  /** Items received in Store calls, and how often each key/value pair arrived. */
  storedItems: number;
  /** Requests that were answered with an injected failure. */
  failed: number;
}

/** No faults: every call answers at once. */
function healthy(): Faults {
  return {
    latencyMs: 0,
    hang: false,
    down: false,
    downUntil: 0,
    failNext: 0,
    flapping: false,
    failStatus: 503,
    failCode: Code.Unavailable,
  };
}

/** What every test origin shares: its data, faults and counters. */
export class OriginState {
  readonly faults: Faults = healthy();
  readonly calls: OriginCalls = { total: 0, loads: 0, bulkLoads: 0, bulkKeys: 0, stores: 0, storedItems: 0, failed: 0 };
  /** `namespace/key=value` → times it was stored (duplicates show as counts above 1). */
  readonly storedPairs = new Map<string, number>();
  /** Stored values by `namespace/key`; a key not here is answered `value-of-<key>`. */
  readonly data = new Map<string, string>();
  /** Keys starting with this are not found. */
  absentPrefix = "absent";
  /** Keys starting with this fail on their own (per-key error in bulk, error in single loads). */
  brokenPrefix = "broken";
  /** Headers of the last HTTP request (to check what the cache sent, e.g. `traceparent`). */
  lastHeaders: Record<string, unknown> = {};
  private readonly hanging = new Set<() => void>();

  /** The value of a key, or undefined when the origin has none. */
  valueOf(namespace: string, key: string): string | undefined {
    if (key.startsWith(this.absentPrefix)) return undefined;
    return this.data.get(`${namespace}/${key}`) ?? `value-of-${key}`;
  }

  /** Counts a call and decides, by the faults, whether it fails. Waits the latency first. */
  async admit(signal: AbortSignal | undefined): Promise<"ok" | "fail"> {
    const n = ++this.calls.total;
    if (this.faults.latencyMs > 0) await sleep(this.faults.latencyMs);
    if (this.faults.hang) {
      await new Promise<void>((resolve) => {
        const done = () => {
          this.hanging.delete(done);
          resolve();
        };
        this.hanging.add(done);
        signal?.addEventListener("abort", done, { once: true });
      });
      return "fail";
    }
    let fail = this.faults.down || Date.now() < this.faults.downUntil || (this.faults.flapping && n % 2 === 1);
    if (this.faults.failNext > 0) {
      this.faults.failNext--;
      fail = true;
    }
    if (fail) this.calls.failed++;
    return fail ? "fail" : "ok";
  }

  /** Calls hanging now (a cancelled call stops hanging). */
  get hangingCount(): number {
    return this.hanging.size;
  }

  /** Lets every hanging call go (each then fails). */
  releaseHanging(): void {
    for (const done of [...this.hanging]) done();
  }

  /** Back to a healthy origin with zeroed counters. */
  reset(): void {
    Object.assign(this.faults, healthy());
    Object.assign(this.calls, { total: 0, loads: 0, bulkLoads: 0, bulkKeys: 0, stores: 0, storedItems: 0, failed: 0 });
    this.storedPairs.clear();
    this.releaseHanging();
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/** A running test origin. */
export interface TestOrigin {
  readonly state: OriginState;
  close(): Promise<void>;
}

/** A running HTTP origin. */
export interface TestHttpOrigin extends TestOrigin {
  /** e.g. http://127.0.0.1:PORT/ns/{namespace}/items/{key} */
  readonly urlTemplate: string;
  /** e.g. http://127.0.0.1:PORT/bulk/{namespace} */
  readonly bulkUrl: string;
}

/**
 * An HTTP origin on 127.0.0.1: GET/PUT/POST/DELETE `/ns/{namespace}/items/{key}` and
 * POST `/bulk/{namespace}` with `{"keys": [...]}` answering `{"items": {key: value}}` (strings,
 * null for absent keys, `{"error": {...}}` for broken ones).
 */
export async function startHttpOrigin(state = new OriginState()): Promise<TestHttpOrigin> {
  const server: Server = createServer((request, response) => {
    handleHttp(state, request, response).catch((error: unknown) => {
      if (!response.headersSent) response.writeHead(500);
      response.end(String(error));
    });
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const { port } = server.address() as AddressInfo;
  const base = `http://127.0.0.1:${port}`;
  return {
    state,
    urlTemplate: `${base}/ns/{namespace}/items/{key}`,
    bulkUrl: `${base}/bulk/{namespace}`,
    close: async () => {
      state.releaseHanging();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

async function handleHttp(state: OriginState, request: IncomingMessage, response: ServerResponse): Promise<void> {
  const url = new URL(request.url ?? "/", "http://origin");
  const item = /^\/ns\/([^/]+)\/items\/([^/]+)$/.exec(url.pathname);
  const bulk = /^\/bulk\/([^/]+)$/.exec(url.pathname);
  const body = await readBody(request);
  state.lastHeaders = { ...request.headers };
  const aborted = new AbortController();
  response.once("close", () => aborted.abort());
  if (item && request.method === "GET") state.calls.loads++;
  else if (bulk) state.calls.bulkLoads++;
  else if (item) state.calls.stores++;
  if ((await state.admit(aborted.signal)) === "fail") {
    if (!response.destroyed) {
      response.writeHead(state.faults.failStatus, { "content-type": "text/plain" });
      response.end("injected failure");
    }
    return;
  }
  if (item) {
    const namespace = decodeURIComponent(item[1] as string);
    const key = decodeURIComponent(item[2] as string);
    if (request.method === "GET") {
      if (key.startsWith(state.brokenPrefix)) {
        response.writeHead(500).end(`cannot load ${key}`);
        return;
      }
      const value = state.valueOf(namespace, key);
      if (value === undefined) response.writeHead(404).end();
      else response.writeHead(200, { "content-type": "application/octet-stream" }).end(value);
      return;
    }
    if (request.method === "DELETE") state.data.delete(`${namespace}/${key}`);
    else state.data.set(`${namespace}/${key}`, body.toString("utf8"));
    response.writeHead(204).end();
    return;
  }
  if (bulk && request.method === "POST") {
    const namespace = decodeURIComponent(bulk[1] as string);
    const { keys } = JSON.parse(body.toString("utf8")) as { keys: string[] };
    state.calls.bulkKeys += keys.length;
    const items: Record<string, unknown> = {};
    for (const key of keys) {
      if (key.startsWith(state.brokenPrefix)) items[key] = { error: { status: 500, message: `cannot load ${key}` } };
      else items[key] = state.valueOf(namespace, key) ?? null;
    }
    response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items }));
    return;
  }
  response.writeHead(400).end("unknown path");
}

/** A running gRPC LoaderService origin. */
export interface TestGrpcOrigin extends TestOrigin {
  /** 127.0.0.1:PORT */
  readonly target: string;
  /** Metadata of the last call (to check headers sent by the cache). */
  readonly lastMetadata: () => Record<string, unknown>;
}

/** A real grpc-js LoaderService server on 127.0.0.1, as an origin team would run it. */
export async function startGrpcOrigin(state = new OriginState()): Promise<TestGrpcOrigin> {
  let lastMetadata: Record<string, unknown> = {};
  const injected = () => new ConnectError("injected failure", state.faults.failCode);
  const { definition, handlers } = grpcService(LoaderService, {
    async load(request, context): Promise<LoadResponse> {
      state.calls.loads++;
      lastMetadata = Object.fromEntries(context.requestHeader);
      if ((await state.admit(context.signal)) === "fail") throw injected();
      if (request.key.startsWith(state.brokenPrefix)) {
        throw new ConnectError(`cannot load ${request.key}`, Code.Internal);
      }
      const value = state.valueOf(request.namespace, request.key);
      if (value === undefined) throw new ConnectError(`no ${request.key}`, Code.NotFound);
      return create(LoadResponseSchema, { found: true, value: new TextEncoder().encode(value), tags: ["t"] });
    },
    async bulkLoad(request, context): Promise<BulkLoadResponse> {
      state.calls.bulkLoads++;
      state.calls.bulkKeys += request.keys.length;
      lastMetadata = Object.fromEntries(context.requestHeader);
      if ((await state.admit(context.signal)) === "fail") throw injected();
      return create(BulkLoadResponseSchema, {
        items: request.keys.map((key) => {
          if (key.startsWith(state.brokenPrefix)) {
            return { key, error: { code: Code.Internal, message: `cannot load ${key}` } };
          }
          const value = state.valueOf(request.namespace, key);
          return value === undefined
            ? { key, found: false }
            : { key, found: true, value: new TextEncoder().encode(value) };
        }),
      });
    },
    async store(request, context): Promise<StoreResponse> {
      state.calls.stores++;
      lastMetadata = Object.fromEntries(context.requestHeader);
      if ((await state.admit(context.signal)) === "fail") throw injected();
      const results = [];
      for (const item of request.items) {
        state.calls.storedItems++;
        const pair = `${request.namespace}/${item.key}=${new TextDecoder().decode(item.value)}`;
        state.storedPairs.set(pair, (state.storedPairs.get(pair) ?? 0) + 1);
        if (item.key.startsWith(state.brokenPrefix)) {
          results.push({ key: item.key, error: { code: Code.FailedPrecondition, message: "read-only key" } });
        } else if (item.deleted) state.data.delete(`${request.namespace}/${item.key}`);
        else state.data.set(`${request.namespace}/${item.key}`, new TextDecoder().decode(item.value));
      }
      return create(StoreResponseSchema, { results });
    },
  });
  const server = new grpc.Server();
  server.addService(definition, handlers);
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync("127.0.0.1:0", grpc.ServerCredentials.createInsecure(), (error, bound) =>
      error ? reject(error) : resolve(bound),
    ),
  );
  return {
    state,
    target: `127.0.0.1:${port}`,
    lastMetadata: () => lastMetadata,
    close: async () => {
      state.releaseHanging();
      server.forceShutdown();
    },
  };
}

/** Polls `condition` every 10 ms until it holds, failing after `ms` with `what`. */
export async function eventually(condition: () => boolean, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(10);
  }
}

/** Like {@link eventually}, for a condition that has to ask something (an RPC, a read). */
export async function eventuallyAsync(condition: () => Promise<boolean>, ms: number, what: string): Promise<void> {
  const deadline = Date.now() + ms;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${ms} ms waiting for ${what}`);
    await sleep(50);
  }
}

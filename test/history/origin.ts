// The run's origin: a node:http loader and writer (the HTTP origin format of
// src/loaders/http-origin.ts) whose values change when the workload says so. It records every
// version with the time it became current, every key it loaded (for whom, from when to when)
// and every write it received.

import { once } from "node:events";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { now, sleep } from "./clock.js";
import type { OriginLoad, OriginVersion, WriterWrite } from "./history.js";
import { categoryTag } from "./keys.js";
import { decodeValueId, encodeValue, ORIGIN_VERSION_STEP, originValueId } from "./values.js";

/**
 * Which instance called: the service's HTTP origins send `user-agent: mlcache (instance <id>)`.
 * (Not a header in the loader's policy: policies are fleet-wide, so an UpdatePolicy on one
 * instance hands its headers to all, and every load looked like that instance's.)
 */
export function callingInstance(userAgent: string | undefined): string {
  return /\(instance ([^)]*)\)/.exec(userAgent ?? "")?.[1] ?? "unknown";
}

/** A running origin for the fleet under test. */
export class HistoryOrigin {
  /** Every version of every key, in the order they became current. */
  readonly versions: OriginVersion[] = [];
  readonly loads: OriginLoad[] = [];
  readonly writes: WriterWrite[] = [];
  private readonly current = new Map<string, OriginVersion>();
  private server: Server | undefined;
  private base = "";

  /**
   * `loadLatencyMs`: how long each load takes. Values are read when the request arrives and
   * answered after it, so a load can return a version the origin has already replaced — the
   * race an invalidation during a load must survive — and concurrent misses collide.
   * `unversioned`: namespaces whose values are answered without a version, as most origins do
   * (the service then versions a load by the time it began).
   */
  constructor(
    private readonly loadLatencyMs = 25,
    private readonly unversioned: (namespace: string) => boolean = () => false,
  ) {}

  async start(): Promise<void> {
    const server = createServer((request, response) => {
      this.handle(request, response).catch((error: unknown) => {
        if (!response.headersSent) response.writeHead(500);
        response.end(String(error));
      });
    });
    server.keepAliveTimeout = 60_000;
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    this.server = server;
    this.base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  /** GET (load) and PUT (write) URL, as the HTTP origin's `urlTemplate`. */
  get urlTemplate(): string {
    return `${this.base}/ns/{namespace}/items/{key}`;
  }

  /** The bulk load endpoint, as the HTTP origin's `bulkUrl`. */
  get bulkUrl(): string {
    return `${this.base}/bulk/{namespace}`;
  }

  /** The key's current version (generation 1 from the first time anyone asks). */
  versionOf(namespace: string, key: string): OriginVersion {
    const id = `${namespace}/${key}`;
    let version = this.current.get(id);
    if (!version) {
      version = this.record(namespace, key, 1, undefined);
      this.current.set(id, version);
    }
    return version;
  }

  /** Makes a new version of the key current (the next generation), caused by operation `opId`. */
  change(namespace: string, key: string, opId: string): OriginVersion {
    const previous = this.versionOf(namespace, key);
    const next = this.record(namespace, key, previous.generation + 1, opId);
    this.current.set(`${namespace}/${key}`, next);
    return next;
  }

  /** Writes received so far. */
  get writeCount(): number {
    return this.writes.length;
  }

  async close(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private record(namespace: string, key: string, generation: number, causedBy: string | undefined): OriginVersion {
    const version: OriginVersion = {
      namespace,
      key,
      generation,
      version: BigInt(generation) * ORIGIN_VERSION_STEP,
      valueId: originValueId(namespace, key, generation),
      tags: [categoryTag(key)],
      at: now(),
      ...(causedBy ? { causedBy } : {}),
    };
    this.versions.push(version);
    return version;
  }

  private async handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const startedAt = now();
    const url = new URL(request.url ?? "/", "http://origin");
    const instance = callingInstance(request.headers["user-agent"]);
    const item = /^\/ns\/([^/]+)\/items\/([^/]+)$/.exec(url.pathname);
    const bulk = /^\/bulk\/([^/]+)$/.exec(url.pathname);
    const body = await readBody(request);
    if (item && request.method === "GET") {
      const namespace = decodeURIComponent(item[1] as string);
      const key = decodeURIComponent(item[2] as string);
      const load: OriginLoad = { namespace, key, instance, via: "get", startedAt, endedAt: startedAt, generation: 0 };
      this.loads.push(load);
      endsWith(response, [load]);
      // Read when asked, answered later: a change meanwhile is not in this answer.
      const version = this.versionOf(namespace, key);
      load.generation = version.generation;
      await sleep(this.loadLatencyMs);
      response
        .writeHead(200, {
          "content-type": "application/octet-stream",
          ...(this.unversioned(namespace) ? {} : { "x-version": version.version.toString() }),
          "x-tags": version.tags.join(","),
        })
        .end(encodeValue(version.valueId, key));
      return;
    }
    if (item && (request.method === "PUT" || request.method === "POST")) {
      this.writes.push({
        namespace: decodeURIComponent(item[1] as string),
        key: decodeURIComponent(item[2] as string),
        valueId: decodeValueId(body),
        version: BigInt(String(request.headers["x-version"] ?? "0")),
        at: startedAt,
        instance,
      });
      response.writeHead(204).end();
      return;
    }
    if (item && request.method === "DELETE") {
      response.writeHead(204).end();
      return;
    }
    if (bulk && request.method === "POST") {
      const namespace = decodeURIComponent(bulk[1] as string);
      const { keys } = JSON.parse(body.toString("utf8")) as { keys: string[] };
      const loads = keys.map(
        (key): OriginLoad => ({ namespace, key, instance, via: "bulk", startedAt, endedAt: startedAt, generation: 0 }),
      );
      this.loads.push(...loads);
      endsWith(response, loads);
      const versions = loads.map((load) => {
        const version = this.versionOf(namespace, load.key);
        load.generation = version.generation;
        return version;
      });
      await sleep(this.loadLatencyMs);
      const items: Record<string, unknown> = {};
      for (const version of versions) {
        items[version.key] = {
          base64: Buffer.from(encodeValue(version.valueId, version.key)).toString("base64"),
          ...(this.unversioned(namespace) ? {} : { version: version.version.toString() }),
          tags: version.tags,
        };
      }
      response.writeHead(200, { "content-type": "application/json" }).end(JSON.stringify({ items }));
      return;
    }
    response.writeHead(400).end("unknown path");
  }
}

/** Sets the loads' end when the answer has been sent, or the caller went away. */
function endsWith(response: ServerResponse, loads: readonly OriginLoad[]): void {
  response.once("close", () => {
    const endedAt = now();
    for (const load of loads) load.endedAt = endedAt;
  });
}

async function readBody(request: IncomingMessage): Promise<Buffer> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

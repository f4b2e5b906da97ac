// What the end-to-end files share: one service per file, and clients of both services through
// each client kind (grpc-js on the gRPC port, Connect on the HTTP port).
import type { Client } from "@connectrpc/connect";
import { afterAll, beforeAll } from "vitest";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService, type WatchStatsResponse } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { NamespaceStats } from "../../src/gen/mlcache/v1/stats_pb.js";
import type { RunningService } from "../../src/server.js";
import { createConnectClient, createGrpcJsClient, startTestService } from "../support/service.js";

export const text = (s: string) => new TextEncoder().encode(s);

/** Namespaces without TTL jitter, one per client kind, where remaining TTLs can be compared exactly. */
export const EXACT_NAMESPACES = {
  namespaces: {
    "grpc-js.exact": { l1: { jitter: 0 } },
    "connect.exact": { l1: { jitter: 0 } },
  },
};

/**
 * A service started before this file's tests and closed after them. The answer stands for it
 * (its properties are the running service's), so it is read inside tests and hooks only.
 */
export function serviceForFile(overrides: Parameters<typeof startTestService>[0] = EXACT_NAMESPACES): RunningService {
  let service: RunningService | undefined;
  beforeAll(async () => {
    service = await startTestService(overrides);
  });
  afterAll(async () => {
    await service?.close();
  });
  return new Proxy({} as RunningService, {
    get(_, property) {
      if (!service) throw new Error("the file's service is used outside a test");
      return Reflect.get(service, property);
    },
  });
}

export const CLIENT_KINDS = ["grpc-js", "connect"] as const;
export type ClientKind = (typeof CLIENT_KINDS)[number];

/** Both services' clients through one kind. */
export interface KindClients {
  cache: Client<typeof CacheService>;
  admin: Client<typeof AdminService>;
  /** A namespace of this client kind, so the kinds never see each other's data. */
  ns(name: string): string;
}

/**
 * Clients through `kind`, made before the tests of the calling `describe` and closed after
 * them; like {@link serviceForFile}, read inside tests only.
 */
export function clientsFor(service: RunningService, kind: ClientKind): KindClients {
  let current: { cache: Client<typeof CacheService>; admin: Client<typeof AdminService>; close(): void } | undefined;
  beforeAll(() => {
    if (kind === "grpc-js") {
      const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
      const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
      current = {
        cache,
        admin,
        close() {
          cache.close();
          admin.close();
        },
      };
    } else {
      current = {
        cache: createConnectClient(CacheService, service.httpPort),
        admin: createConnectClient(AdminService, service.httpPort),
        close() {},
      };
    }
  });
  afterAll(() => current?.close());
  const delegate = <C extends object>(pick: (clients: NonNullable<typeof current>) => C): C =>
    new Proxy({} as C, {
      get(_, property) {
        if (!current) throw new Error("the clients are used outside a test");
        return Reflect.get(pick(current), property);
      },
    });
  return { cache: delegate((c) => c.cache), admin: delegate((c) => c.admin), ns: (name) => `${kind}.${name}` };
}

/** The stats of one namespace in a snapshot, if it is there. */
export function statsOf(message: WatchStatsResponse, namespace: string): NamespaceStats | undefined {
  return message.snapshot?.namespaces.find((n) => n.namespace === namespace);
}

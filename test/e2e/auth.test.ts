// Authentication and rights on both ports: every RPC × credential × port, table-driven, against
// a real service. A call is either refused with the right status or gets past the check.

import { type Client, Code, ConnectError, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { createLogger } from "../../src/logger.js";
import { accessControl } from "../../src/rpc/access.js";
import type { RunningService } from "../../src/server.js";
import {
  connectTransport,
  createGrpcJsClient,
  grpcWebTransport,
  startTestService,
  statusOf,
  testConfig,
} from "../support/service.js";

const TOKENS = {
  reader: "reader-token-0123456789",
  writer: "writer-token-0123456789",
  admin: "admin-token-01234567890",
  everything: "everything-token-012345",
  userReader: "user-reader-token-01234",
} as const;
type Credential = keyof typeof TOKENS | "none" | "bad";

const auth = {
  tokens: [
    { name: "reader", token: TOKENS.reader, namespaces: ["products"], rights: ["read"] },
    { name: "writer", token: TOKENS.writer, namespaces: ["products"], rights: ["write"] },
    { name: "admin", token: TOKENS.admin, namespaces: ["products"], rights: ["admin"] },
    { name: "everything", token: TOKENS.everything, namespaces: ["*"], rights: ["read", "write", "admin"] },
    { name: "user-reader", token: TOKENS.userReader, namespaces: ["user-*"], rights: ["read"] },
  ],
};

const REFLECTION_PROTO = new URL(
  "../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
  import.meta.url,
).pathname;
type ReflectionAnswer = { list_services_response?: { service: { name: string }[] } };

type Clients = { cache: Client<typeof CacheService>; admin: Client<typeof AdminService>; close(): void };

/** One RPC with a request on `products`; `stream` reads one message of a server stream. */
interface Case {
  name: string;
  /** Who passes the check (besides `everything`). */
  allowed: Credential[];
  call(clients: Clients, headers: Record<string, string>): Promise<unknown>;
}

const first = async (stream: AsyncIterable<unknown>) => {
  for await (const message of stream) return message;
  return undefined;
};

const CASES: Case[] = [
  {
    name: "Get",
    allowed: ["reader"],
    call: (c, h) => c.cache.get({ namespace: "products", key: "k" }, { headers: h }),
  },
  {
    name: "BulkGet",
    allowed: ["reader"],
    call: (c, h) => c.cache.bulkGet({ namespace: "products", keys: ["a", "b"] }, { headers: h }),
  },
  {
    name: "Set",
    allowed: ["writer"],
    call: (c, h) => c.cache.set({ namespace: "products", key: "k", value: new Uint8Array([1]) }, { headers: h }),
  },
  {
    name: "Invalidate a key",
    allowed: ["writer"],
    call: (c, h) => c.cache.invalidate({ namespace: "products", keys: ["k"] }, { headers: h }),
  },
  {
    name: "Invalidate everything (empty prefix)",
    allowed: ["admin"],
    call: (c, h) => c.cache.invalidate({ namespace: "products", prefix: "" }, { headers: h }),
  },
  {
    name: "WatchStats",
    allowed: ["reader"],
    call: (c, h) =>
      first(
        c.cache.watchStats({ namespaces: ["products"], interval: { seconds: 0n, nanos: 100_000_000 } }, { headers: h }),
      ),
  },
  {
    name: "Inspect a namespace",
    allowed: ["reader"],
    call: (c, h) => c.cache.inspect({ namespace: "products", hotKeys: 5 }, { headers: h }),
  },
  { name: "Inspect every namespace", allowed: [], call: (c, h) => c.cache.inspect({ hotKeys: 5 }, { headers: h }) },
  {
    name: "GetPolicy",
    allowed: ["admin"],
    call: (c, h) => c.admin.getPolicy({ namespace: "products" }, { headers: h }),
  },
  {
    name: "UpdatePolicy",
    allowed: ["admin"],
    call: (c, h) =>
      c.admin.updatePolicy(
        {
          policy: { namespace: "products", negativeTtl: { seconds: 10n, nanos: 0 } },
          updateMask: { paths: ["negative_ttl"] },
        },
        { headers: h },
      ),
  },
  {
    name: "ResetPolicy",
    allowed: ["admin"],
    call: (c, h) => c.admin.resetPolicy({ namespace: "products" }, { headers: h }),
  },
  { name: "ListNamespaces", allowed: ["admin"], call: (c, h) => c.admin.listNamespaces({}, { headers: h }) },
  {
    name: "ExportStats of a namespace",
    allowed: ["admin"],
    call: (c, h) => first(c.admin.exportStats({ namespaces: ["products"] }, { headers: h })),
  },
  { name: "ExportStats of everything", allowed: [], call: (c, h) => first(c.admin.exportStats({}, { headers: h })) },
  {
    name: "AdjustTtl",
    allowed: ["admin"],
    call: (c, h) =>
      c.admin.adjustTtl({ namespace: "products", keys: ["k"], ttl: { seconds: 10n, nanos: 0 } }, { headers: h }),
  },
  { name: "Advise", allowed: ["admin"], call: (c, h) => c.admin.advise({ namespace: "products" }, { headers: h }) },
];

const headersFor = (credential: Credential): Record<string, string> => {
  if (credential === "none") return {};
  if (credential === "bad") return { authorization: "Bearer not-a-token-of-this-service" };
  return { authorization: `Bearer ${TOKENS[credential]}` };
};

describe("authentication and rights on every RPC, both ports", () => {
  let service: RunningService;
  const ports: Record<string, () => Clients> = {};

  beforeAll(async () => {
    service = await startTestService({ auth });
    ports["gRPC (grpc-js)"] = () => {
      const cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
      const admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
      const close = () => {
        cache.close();
        admin.close();
      };
      return { cache, admin, close };
    };
    ports.Connect = () => {
      const transport = connectTransport(service.httpPort);
      return { cache: createClient(CacheService, transport), admin: createClient(AdminService, transport), close() {} };
    };
    ports["gRPC-Web"] = () => {
      const transport = grpcWebTransport(service.httpPort);
      return { cache: createClient(CacheService, transport), admin: createClient(AdminService, transport), close() {} };
    };
  });
  afterAll(async () => {
    await service?.close();
  });

  it("the table names every RPC of both services (a new RPC needs a row)", () => {
    const covered = new Set(CASES.map((c) => c.name.split(" ")[0]));
    const methods = [...CacheService.methods, ...AdminService.methods].map((m) => m.name);
    expect(methods.filter((m) => !covered.has(m))).toEqual([]);
  });

  for (const port of ["gRPC (grpc-js)", "Connect", "gRPC-Web"]) {
    it(`${port}: each RPC is refused without a valid credential and allowed exactly by the token's rights`, async () => {
      const clients = ports[port]?.() as Clients;
      const outcomes: string[] = [];
      const expected: string[] = [];
      try {
        for (const rpc of CASES) {
          for (const credential of ["none", "bad", "reader", "writer", "admin", "everything", "userReader"] as const) {
            const code = await statusOf(rpc.call(clients, headersFor(credential)));
            const verdict =
              code === Code.Unauthenticated ? "unauthenticated" : code === Code.PermissionDenied ? "denied" : "passed";
            outcomes.push(`${rpc.name} as ${credential}: ${verdict}`);
            const want =
              credential === "none" || credential === "bad"
                ? "unauthenticated"
                : credential === "everything" || (rpc.allowed as string[]).includes(credential)
                  ? "passed"
                  : "denied";
            expected.push(`${rpc.name} as ${credential}: ${want}`);
          }
        }
      } finally {
        clients.close();
      }
      expect(outcomes).toEqual(expected);
    });
  }

  it("a refusal says what is missing", async () => {
    const clients = ports.Connect?.() as Clients;
    const denied = await clients.cache
      .set({ namespace: "products", key: "k", value: new Uint8Array([1]) }, { headers: headersFor("reader") })
      .catch((e: unknown) => ConnectError.from(e));
    expect(denied).toMatchObject({ code: Code.PermissionDenied });
    expect((denied as ConnectError).rawMessage).toBe(
      "reader may not Set in namespace products: it needs the write right there",
    );
    const missing = await clients.cache
      .get({ namespace: "products", key: "k" })
      .catch((e: unknown) => ConnectError.from(e));
    expect((missing as ConnectError).rawMessage).toMatch(/authorization: Bearer <token>/);
  });

  it("prefix patterns grant exactly the namespaces they name", async () => {
    const clients = ports.Connect?.() as Clients;
    const h = headersFor("userReader");
    expect(await statusOf(clients.cache.get({ namespace: "user-eu", key: "k" }, { headers: h }))).toBe("ok");
    expect(await statusOf(clients.cache.get({ namespace: "users", key: "k" }, { headers: h }))).toBe(
      Code.PermissionDenied,
    );
  });

  it("WatchStats over every namespace shows only those the caller may read; ListNamespaces only those it administers", async () => {
    const clients = ports["gRPC (grpc-js)"]?.() as Clients;
    try {
      const all = headersFor("everything");
      await clients.cache.set({ namespace: "products", key: "p", value: new Uint8Array([1]) }, { headers: all });
      await clients.cache.set({ namespace: "secrets", key: "s", value: new Uint8Array([1]) }, { headers: all });
      const snapshot = (await first(
        clients.cache.watchStats({ interval: { seconds: 0n, nanos: 100_000_000 } }, { headers: headersFor("reader") }),
      )) as { snapshot?: { namespaces: { namespace: string }[] } };
      const seen = snapshot.snapshot?.namespaces.map((n) => n.namespace) ?? [];
      expect(seen).toContain("products");
      expect(seen).not.toContain("secrets");
      const everything = (await first(
        clients.cache.watchStats({ interval: { seconds: 1n, nanos: 0 } }, { headers: all }),
      )) as {
        snapshot?: { namespaces: { namespace: string }[] };
      };
      expect(everything.snapshot?.namespaces.map((n) => n.namespace)).toContain("secrets");
      const listed = await clients.admin.listNamespaces({}, { headers: headersFor("admin") });
      expect(listed.namespaces.map((n) => n.name)).toEqual(["products"]);
    } finally {
      clients.close();
    }
  });

  it("health answers without a credential; reflection and /metrics are open by default", async () => {
    const health = await fetch(`http://127.0.0.1:${service.httpPort}/healthz`);
    expect(health.status).toBe(200);
    expect((await fetch(`http://127.0.0.1:${service.httpPort}/metrics`)).status).toBe(200);
  });
});

describe("reflection and /metrics behind a credential", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ auth: { ...auth, open: { reflection: false, metrics: false } } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("/metrics needs a token that reads every namespace", async () => {
    const url = `http://127.0.0.1:${service.httpPort}/metrics`;
    expect((await fetch(url)).status).toBe(401);
    expect((await fetch(url, { headers: headersFor("reader") })).status).toBe(403);
    const ok = await fetch(url, { headers: headersFor("everything") });
    expect(ok.status).toBe(200);
    expect(await ok.text()).toContain("cache_gets_total");
  });

  it("reflection is refused without a credential and served with one", async () => {
    const definition = protoLoader.loadSync(REFLECTION_PROTO, { keepCase: true, oneofs: true, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const listServices = (headers: Record<string, string>) =>
      new Promise<string[]>((resolve, reject) => {
        const client = new loaded.grpc.reflection.v1.ServerReflection(
          `127.0.0.1:${service.grpcPort}`,
          grpc.credentials.createInsecure(),
        ) as unknown as grpc.Client & {
          ServerReflectionInfo(metadata: grpc.Metadata): grpc.ClientDuplexStream<object, ReflectionAnswer>;
        };
        const metadata = new grpc.Metadata();
        for (const [name, value] of Object.entries(headers)) metadata.set(name, value);
        const call = client.ServerReflectionInfo(metadata);
        call.on("data", (answer: ReflectionAnswer) => {
          resolve(answer.list_services_response?.service.map((s) => s.name) ?? []);
          call.end();
          client.close();
        });
        call.on("error", (error: Error) => {
          client.close();
          reject(error);
        });
        call.write({ list_services: "*" });
      });
    await expect(listServices({})).rejects.toMatchObject({ code: grpc.status.UNAUTHENTICATED });
    expect(await listServices(headersFor("everything"))).toContain("mlcache.v1.CacheService");
  });
});

describe("binding beyond loopback", () => {
  const logger = createLogger("silent");
  it("refuses to serve a non-loopback address without auth, unless auth.disabled says so", () => {
    const open = parseConfig(testConfig({ server: { host: "0.0.0.0" } }));
    expect(() => accessControl(open, logger)).toThrow(/refusing to serve 0\.0\.0\.0 without authentication/);
    const disabled = parseConfig(testConfig({ server: { host: "0.0.0.0" }, auth: { disabled: true } }));
    expect(accessControl(disabled, logger).interceptors).toEqual([]);
    const secured = parseConfig(testConfig({ server: { host: "0.0.0.0" }, auth }));
    expect(accessControl(secured, logger).interceptors).toHaveLength(1);
    expect(() => accessControl(parseConfig(testConfig({ server: { host: "127.0.0.1" } })), logger)).not.toThrow();
  });

  it("a config with auth but no credential is refused with a message", () => {
    expect(() => parseConfig(testConfig({ auth: {} }))).toThrow(/configure at least one token or identity/);
  });
});

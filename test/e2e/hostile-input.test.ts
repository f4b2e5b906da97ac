// Inputs an outsider sent while probing the service: each once crashed a call with INTERNAL,
// stuck a key, or made the service keep memory it was not asked to keep.
import { create, toBinary } from "@bufbuild/protobuf";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig, redactConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService, SetRequestSchema } from "../../src/gen/mlcache/v1/cache_pb.js";
import { WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import type { RunningService } from "../../src/server.js";
import { connectTransport, startTestService, testConfig } from "../support/service.js";

const INT64_MAX = 9223372036854775807n;

describe("hostile requests", () => {
  let service: RunningService;
  let raw: grpc.Client;
  let cache: ReturnType<typeof createClient<typeof CacheService>>;
  let admin: ReturnType<typeof createClient<typeof AdminService>>;

  beforeAll(async () => {
    service = await startTestService();
    raw = new grpc.Client(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure());
    cache = createClient(CacheService, connectTransport(service.httpPort));
    admin = createClient(AdminService, connectTransport(service.httpPort));
  });
  afterAll(async () => {
    raw?.close();
    await service?.close();
  });

  /** Sends raw bytes as a request to a method of the gRPC port; resolves to the status. */
  const sendRaw = (path: string, bytes: Uint8Array) =>
    new Promise<{ code: number; details: string }>((resolve) => {
      raw.makeUnaryRequest(
        path,
        (b: Buffer) => b,
        (b: Buffer) => b,
        Buffer.from(bytes),
        (error) => resolve(error ? { code: error.code, details: error.details } : { code: 0, details: "" }),
      );
    });
  // GetRequest with key (field 2) = 0xff 0xfe, which is not UTF-8.
  const invalidUtf8Get = new Uint8Array([0x0a, 0x01, 0x70, 0x12, 0x02, 0xff, 0xfe]);

  it("a key that is not UTF-8: INVALID_ARGUMENT on the gRPC port", async () => {
    const status = await sendRaw("/mlcache.v1.CacheService/Get", invalidUtf8Get);
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect(status.details).toContain("UTF-8");
  });

  it("a key that is not UTF-8: 400 invalid_argument on the HTTP port (Connect binary)", async () => {
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: invalidUtf8Get,
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("bytes that are not a message: INVALID_ARGUMENT, and the port keeps serving", async () => {
    const status = await sendRaw("/mlcache.v1.CacheService/Get", new Uint8Array([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]));
    expect(status.code).toBe(grpc.status.INVALID_ARGUMENT);
    expect((await cache.get({ namespace: "p", key: "still-fine" })).item?.found).toBe(false);
  });

  it("bytes that are not a message: 400 invalid_argument on the HTTP port (Connect binary)", async () => {
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
      method: "POST",
      headers: { "content-type": "application/proto" },
      body: new Uint8Array([0x12, 0xff, 0xff, 0xff, 0xff, 0x0f]),
    });
    expect(response.status).toBe(400);
    expect(await response.json()).toMatchObject({ code: "invalid_argument" });
  });

  it("a TTL of int64-max seconds is refused, and the key stays usable", async () => {
    const refused = await cache
      .set({ namespace: "p", key: "forever", value: new Uint8Array([1]), ttl: { seconds: INT64_MAX, nanos: 0 } })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.InvalidArgument });
    await cache.set({ namespace: "p", key: "forever", value: new Uint8Array([2]) });
    expect((await cache.get({ namespace: "p", key: "forever" })).item?.value).toEqual(new Uint8Array([2]));
    expect((await cache.inspect({ namespace: "p", keys: ["forever"] })).keyStats).toHaveLength(1);
  });

  it("UpdatePolicy with max_value_bytes 2^64-1 or an unknown write mode changes nothing", async () => {
    for (const policy of [
      { namespace: "probe", maxValueBytes: 18446744073709551615n },
      { namespace: "probe", writeMode: 99 as WriteMode },
      { namespace: "probe", l1: { ttl: { seconds: INT64_MAX, nanos: 0 } } },
    ]) {
      const refused = await admin.updatePolicy({ policy }).catch((e: unknown) => ConnectError.from(e));
      expect(refused).toMatchObject({ code: Code.InvalidArgument });
    }
    const after = await admin.getPolicy({ namespace: "probe" });
    expect(after.customized).toBe(false);
    expect(after.policy?.writeMode).toBe(WriteMode.CACHE_ONLY);
  });

  it("an 8 MiB invalidation prefix is refused (a prefix is as long as a key at most)", async () => {
    const refused = await cache
      .invalidate({ namespace: "p", prefix: "x".repeat(8 << 20) })
      .catch((e: unknown) => ConnectError.from(e));
    expect(refused).toMatchObject({ code: Code.InvalidArgument });
    expect((refused as ConnectError).rawMessage).toContain("prefix");
  });

  it("a cached value keeps only its own bytes, not the request that carried it", async () => {
    // A Set of 100 bytes sent with a 1 MiB unknown field (field 99, length-delimited).
    const message = toBinary(
      SetRequestSchema,
      create(SetRequestSchema, { namespace: "amp", key: "k", value: new Uint8Array(100).fill(7) }),
    );
    const unknown = new Uint8Array(1 << 20);
    const padding = [0x9a, 0x06, 0x80, 0x80, 0x40]; // tag 99 wire type 2, length 1 MiB (varint)
    const request = new Uint8Array(message.length + padding.length + unknown.length);
    request.set(message);
    request.set(padding, message.length);
    request.set(unknown, message.length + padding.length);
    expect((await sendRaw("/mlcache.v1.CacheService/Set", request)).code).toBe(grpc.status.OK);
    const entry = service.manager.peekL1("amp", "k");
    expect(entry?.value.byteLength).toBe(100);
    expect(entry?.value.buffer.byteLength).toBeLessThan(1024);
  });
});

describe("check-config redaction", () => {
  it("hides cookies, x-auth headers, query secrets and passwords holding @ or /", () => {
    const config = parseConfig(
      testConfig({
        redis: { url: "redis://app:p@ss/w0rd@127.0.0.1:6379/0" },
        namespaces: {
          shop: {
            loader: {
              http: {
                urlTemplate: "https://api.internal/items/{key}?api_key=query-secret&v=2",
                headers: { cookie: "session=cookie-secret", "x-auth": "header-secret", accept: "application/json" },
              },
            },
          },
        },
      }),
    );
    const shown = JSON.stringify(redactConfig(config), (_n, v) => (typeof v === "bigint" ? String(v) : v));
    for (const secret of ["p@ss/w0rd", "w0rd", "query-secret", "cookie-secret", "header-secret"]) {
      expect(shown).not.toContain(secret);
    }
    expect(shown).toContain("redis://app:<redacted>@127.0.0.1:6379/0");
    expect(shown).toContain("application/json");
  });
});

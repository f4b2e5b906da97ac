// Origins configured in the service's config: Get reads through a real gRPC LoaderService and a
// real HTTP origin, Set writes through, dead letters and breaker state are visible, and an
// origin can be changed at run time through AdminService.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { BreakerState, Source, WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { startGrpcOrigin, startHttpOrigin, type TestGrpcOrigin, type TestHttpOrigin } from "../support/origins.js";
import { Code, createGrpcJsClient, type GrpcJsClient, rejection, testConfig } from "../support/service.js";

const text = (bytes: Uint8Array | undefined) => new TextDecoder().decode(bytes);

describe("origins configured for namespaces", () => {
  let grpcOrigin: TestGrpcOrigin;
  let httpOrigin: TestHttpOrigin;
  let service: RunningService;
  let cache: GrpcJsClient<typeof CacheService>;
  let admin: GrpcJsClient<typeof AdminService>;

  beforeAll(async () => {
    grpcOrigin = await startGrpcOrigin();
    httpOrigin = await startHttpOrigin();
    const config = parseConfig(
      testConfig({
        namespaces: {
          products: {
            loader: {
              grpc: { target: grpcOrigin.target },
              retry: { maxAttempts: 1 },
              breaker: { volumeThreshold: 4, errorThresholdPercent: 50, resetTimeout: "30s" },
              deadLetter: { maxFailures: 2, window: "1m" },
            },
          },
          pages: { loader: { http: { urlTemplate: httpOrigin.urlTemplate } } },
          // The primary origin is unreachable; a second LoaderService answers instead.
          catalog: {
            loader: { grpc: { target: "127.0.0.1:1" }, retry: { maxAttempts: 1 } },
            fallback: { grpc: { target: grpcOrigin.target } },
          },
        },
      }),
    );
    service = await startService(config);
    cache = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    admin = createGrpcJsClient(AdminService, `127.0.0.1:${service.grpcPort}`);
  });
  afterAll(async () => {
    cache?.close();
    admin?.close();
    await service?.close();
    await grpcOrigin?.close();
    await httpOrigin?.close();
  });

  it("reads through the gRPC LoaderService and the HTTP origin", async () => {
    const product = await cache.get({ namespace: "products", key: "p1" });
    expect(product.item).toMatchObject({ found: true, source: Source.LOADER });
    expect(text(product.item?.value)).toBe("value-of-p1");
    expect((await cache.get({ namespace: "products", key: "p1" })).item?.source).toBe(Source.L1);
    const page = await cache.get({ namespace: "pages", key: "home" });
    expect(page.item).toMatchObject({ found: true, source: Source.LOADER });
    expect(text(page.item?.value)).toBe("value-of-home");
    expect((await cache.get({ namespace: "pages", key: "absent-1" })).item?.found).toBe(false);
  });

  it("answers from the fallback origin when the loader fails and nothing stale exists", async () => {
    const answer = await cache.get({ namespace: "catalog", key: "c1" });
    expect(answer.item).toMatchObject({ found: true, source: Source.FALLBACK });
    expect(text(answer.item?.value)).toBe("value-of-c1");
    // Served, not stored: the next read tries the real origin again.
    expect((await cache.get({ namespace: "catalog", key: "c1", options: { skipLoader: true } })).item?.found).toBe(
      false,
    );
  });

  it("writes through to the LoaderService's Store before caching", async () => {
    const stores = grpcOrigin.state.calls.stores;
    const written = await cache.set({
      namespace: "products",
      key: "p2",
      value: new TextEncoder().encode("new"),
      writeMode: WriteMode.WRITE_THROUGH,
    });
    expect(written.writeMode).toBe(WriteMode.WRITE_THROUGH);
    expect(grpcOrigin.state.calls.stores).toBe(stores + 1);
    expect(grpcOrigin.state.data.get("products/p2")).toBe("new");
    grpcOrigin.state.faults.failNext = 1;
    const failed = await rejection(
      cache.set({ namespace: "products", key: "p3", value: new Uint8Array([1]), writeMode: WriteMode.WRITE_THROUGH }),
    );
    expect(failed.code).toBe(Code.Unavailable);
    expect((await cache.get({ namespace: "products", key: "p3", options: { skipLoader: true } })).item?.found).toBe(
      false,
    );
  });

  it("dead-letters a key that keeps failing, and shows the breaker opening", async () => {
    grpcOrigin.state.faults.down = true;
    for (let i = 0; i < 4; i++) await rejection(cache.get({ namespace: "products", key: "bad" }));
    const inspected = await cache.inspect({ namespace: "products", includeDeadLetters: true });
    const dead = inspected.deadLetters.find((d) => d.key === "bad");
    expect(dead?.failures).toBeGreaterThanOrEqual(2);
    const open = await rejection(cache.get({ namespace: "products", key: "other" }));
    expect(open.code).toBe(Code.Unavailable);
    expect(open.rawMessage).toMatch(/breaker/);
    const stream = cache.watchStats({ namespaces: ["products"] });
    for await (const message of stream) {
      expect(message.snapshot?.namespaces[0]?.loads?.breakerState).toBe(BreakerState.OPEN);
      break;
    }
    grpcOrigin.state.faults.down = false;
  });

  it("changes a namespace's origin at run time", async () => {
    const updated = await admin.updatePolicy({
      policy: {
        namespace: "articles",
        loader: { kind: { case: "http", value: { urlTemplate: httpOrigin.urlTemplate } } },
      },
      updateMask: { paths: ["loader.http"] },
    });
    expect(updated.policy?.loader?.kind.case).toBe("http");
    const article = await cache.get({ namespace: "articles", key: "a1" });
    expect(article.item?.source).toBe(Source.LOADER);
    const policy = await admin.getPolicy({ namespace: "articles" });
    expect(policy.customized).toBe(true);
    expect(policy.policy?.loader?.kind.case).toBe("http");
    await admin.resetPolicy({ namespace: "articles" });
    expect((await cache.get({ namespace: "articles", key: "a2" })).item?.found).toBe(false);
  });
});

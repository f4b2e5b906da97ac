import { Code, ConnectError, createHandlerContext } from "@connectrpc/connect";
import { Registry } from "prom-client";
import { describe, expect, it } from "vitest";
import { CacheError, Status } from "../../../src/errors.js";
import { CacheService } from "../../../src/gen/mlcache/v1/cache_pb.js";
import { metricsInterceptor } from "../../../src/rpc/metrics-interceptor.js";

const method = CacheService.method.get;
const context = () =>
  createHandlerContext({ service: CacheService, method, protocolName: "grpc", requestMethod: "POST", url: "/" });

describe("metricsInterceptor", () => {
  it("counts and times calls in tables that /metrics reads at scrape time", async () => {
    const registry = new Registry();
    const interceptor = metricsInterceptor(registry);
    const ok = interceptor.unary?.(method, async () => ({}));
    const notFound = interceptor.unary?.(method, async () => {
      throw new CacheError(Status.NOT_FOUND, "no");
    });
    const thrown = interceptor.unary?.(method, () => {
      throw new ConnectError("late", Code.DeadlineExceeded);
    });
    if (!ok || !notFound || !thrown) throw new Error("no unary hook");
    expect(await registry.metrics()).not.toContain('grpc_method="Get"');
    await ok({}, context());
    await ok({}, context());
    await expect(notFound({}, context())).rejects.toThrow("no");
    await expect(thrown({}, context())).rejects.toThrow("late");

    const text = await registry.metrics();
    const labels = 'grpc_type="unary",grpc_service="mlcache.v1.CacheService",grpc_method="Get"';
    expect(text).toContain(`grpc_server_started_total{${labels}} 4`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="OK"} 2`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="NOT_FOUND"} 1`);
    expect(text).toContain(`grpc_server_handled_total{${labels},grpc_code="DEADLINE_EXCEEDED"} 1`);
    expect(text).toContain("# TYPE grpc_server_handling_seconds histogram");
    expect(text).toContain(`grpc_server_handling_seconds_bucket{${labels},le="10"} 4`);
    expect(text).toContain(`grpc_server_handling_seconds_bucket{${labels},le="+Inf"} 4`);
    expect(text).toContain(`grpc_server_handling_seconds_count{${labels}} 4`);
    // Cumulative buckets never go down.
    const buckets = [...text.matchAll(/grpc_server_handling_seconds_bucket\{[^}]*\} (\d+)/g)].map((m) => Number(m[1]));
    expect(buckets).toEqual([...buckets].sort((a, b) => a - b));
    const sum = Number(/grpc_server_handling_seconds_sum\{[^}]*\} (\S+)/.exec(text)?.[1]);
    expect(sum).toBeGreaterThanOrEqual(0);
    expect(sum).toBeLessThan(1);
  });
});

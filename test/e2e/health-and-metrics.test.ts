// End to end: the standard gRPC health service, the HTTP probes and /metrics.
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { protoPath as healthProtoPath } from "grpc-health-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { createGrpcJsClient, rejection } from "../support/service.js";
import { serviceForFile, text } from "./harness.js";

const service = serviceForFile();
describe("health", () => {
  type HealthClient = grpc.Client & {
    Check(
      request: { service: string },
      options: grpc.CallOptions,
      callback: (error: grpc.ServiceError | null, response?: { status: string }) => void,
    ): void;
  };
  let health: HealthClient;

  beforeAll(() => {
    const definition = protoLoader.loadSync(healthProtoPath, { keepCase: true, enums: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } };
    };
    const Health = loaded.grpc.health.v1.Health;
    health = new Health(`127.0.0.1:${service.grpcPort}`, grpc.credentials.createInsecure()) as unknown as HealthClient;
  });
  afterAll(() => health?.close());

  const check = (name: string) =>
    new Promise<{ status: string }>((resolve, reject) =>
      health.Check({ service: name }, { deadline: Date.now() + 10_000 }, (error, response) =>
        error || !response ? reject(error ?? new Error("no response")) : resolve(response),
      ),
    );

  it("grpc.health.v1.Health/Check answers SERVING for the server and each service", async () => {
    expect((await check("")).status).toBe("SERVING");
    expect((await check("mlcache.v1.CacheService")).status).toBe("SERVING");
    expect((await check("mlcache.v1.AdminService")).status).toBe("SERVING");
  });

  it("Check of an unknown service is NOT_FOUND", async () => {
    const error = (await check("no.such.Service").then(
      () => undefined,
      (e: unknown) => e,
    )) as grpc.ServiceError | undefined;
    expect(error?.code).toBe(grpc.status.NOT_FOUND);
  });

  it("HTTP /healthz and /readyz answer 200", async () => {
    const healthz = await fetch(`http://127.0.0.1:${service.httpPort}/healthz`);
    expect(healthz.status).toBe(200);
    expect(await healthz.text()).toBe("ok\n");
    const readyz = await fetch(`http://127.0.0.1:${service.httpPort}/readyz`);
    expect(readyz.status).toBe(200);
    expect(await readyz.text()).toBe("ready\n");
  });

  it("/metrics carries cache and gRPC server metrics after traffic", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "metrics", key: "k", value: text("v") });
      await client.get({ namespace: "metrics", key: "k" });
      await client.get({ namespace: "metrics", key: "k" });
      await client.get({ namespace: "metrics", key: "absent" });
      await rejection(client.get({ namespace: "metrics", key: "" }));
    } finally {
      client.close();
    }
    const response = await fetch(`http://127.0.0.1:${service.httpPort}/metrics`);
    expect(response.status).toBe(200);
    const body = await response.text();
    expect(body).toContain("cache_gets_total");
    expect(body).toContain("grpc_server_handled_total");
    const sample = (name: string, labels: string[]) =>
      body
        .split("\n")
        .find((line) => line.startsWith(`${name}{`) && labels.every((l) => line.includes(l)))
        ?.split(" ")
        .at(-1);
    expect(sample("cache_gets_total", ['cache="metrics"', 'layer="l1"', 'result="hit"'])).toBe("2");
    expect(sample("cache_gets_total", ['cache="metrics"', 'layer="l1"', 'result="miss"'])).toBe("1");
    expect(
      Number(
        sample("grpc_server_handled_total", [
          'grpc_service="mlcache.v1.CacheService"',
          'grpc_method="Get"',
          'grpc_code="OK"',
        ]),
      ),
    ).toBeGreaterThanOrEqual(3);
    expect(
      Number(
        sample("grpc_server_handled_total", [
          'grpc_service="mlcache.v1.CacheService"',
          'grpc_method="Get"',
          'grpc_code="INVALID_ARGUMENT"',
        ]),
      ),
    ).toBeGreaterThanOrEqual(1);
  });
});

// End to end: gRPC server reflection, used by outside tools (grpc-js client, buf curl).

import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { create, createFileRegistry, fromBinary } from "@bufbuild/protobuf";
import { type FileDescriptorProto, FileDescriptorProtoSchema, FileDescriptorSetSchema } from "@bufbuild/protobuf/wkt";
import * as grpc from "@grpc/grpc-js";
import * as protoLoader from "@grpc/proto-loader";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { createGrpcJsClient, within } from "../support/service.js";
import { serviceForFile, text } from "./harness.js";

const REFLECTION_PROTO = new URL(
  "../../node_modules/@grpc/reflection/build/proto/grpc/reflection/v1/reflection.proto",
  import.meta.url,
).pathname;
/** The buf CLI (a devDependency), used as an outside reflection client. */
const BUF = new URL("../../node_modules/.bin/buf", import.meta.url).pathname;
const execFileAsync = promisify(execFile);

const service = serviceForFile();
describe("server reflection", () => {
  type ReflectionResponse = {
    message_response?: string;
    list_services_response?: { service: { name: string }[] };
    file_descriptor_response?: { file_descriptor_proto: Buffer[] };
    error_response?: { error_code: number; error_message: string };
  };
  let client: grpc.Client & {
    ServerReflectionInfo(options?: grpc.CallOptions): grpc.ClientDuplexStream<object, ReflectionResponse>;
  };

  beforeAll(() => {
    const definition = protoLoader.loadSync(REFLECTION_PROTO, { keepCase: true, oneofs: true, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition) as unknown as {
      grpc: { reflection: { v1: { ServerReflection: grpc.ServiceClientConstructor } } };
    };
    const Reflection = loaded.grpc.reflection.v1.ServerReflection;
    client = new Reflection(
      `127.0.0.1:${service.grpcPort}`,
      grpc.credentials.createInsecure(),
    ) as unknown as typeof client;
  });
  afterAll(() => client?.close());

  /** Sends each request on one bidi stream and collects one response per request. */
  async function ask(requests: object[]): Promise<ReflectionResponse[]> {
    const call = client.ServerReflectionInfo({ deadline: Date.now() + 10_000 });
    const responses: ReflectionResponse[] = [];
    const done = new Promise<void>((resolve, reject) => {
      call.on("data", (response: ReflectionResponse) => {
        responses.push(response);
        if (responses.length === requests.length) call.end();
      });
      call.on("error", reject);
      call.on("end", resolve);
    });
    for (const request of requests) call.write(request);
    await within(done, 10_000, "reflection answers");
    return responses;
  }

  it("lists the cache, admin and health services", async () => {
    const [response] = await ask([{ list_services: "*" }]);
    expect(response?.message_response).toBe("list_services_response");
    const names = response?.list_services_response?.service.map((s) => s.name) ?? [];
    expect(names).toEqual(
      expect.arrayContaining(["mlcache.v1.CacheService", "mlcache.v1.AdminService", "grpc.health.v1.Health"]),
    );
  });

  /** The descriptors in a file_descriptor_response, decoded. */
  const filesOf = (response: ReflectionResponse | undefined) =>
    dependenciesFirst(
      (response?.file_descriptor_response?.file_descriptor_proto ?? []).map((bytes) =>
        fromBinary(FileDescriptorProtoSchema, bytes),
      ),
    );

  /**
   * Reflection answers the asked-for file first and its imports after it (clients such as
   * grpcurl accept any order); a FileDescriptorSet for createFileRegistry needs imports first.
   */
  const dependenciesFirst = (files: FileDescriptorProto[]): FileDescriptorProto[] => {
    const byName = new Map(files.map((f) => [f.name, f]));
    const ordered: FileDescriptorProto[] = [];
    const visit = (file: FileDescriptorProto) => {
      if (ordered.includes(file)) return;
      for (const name of file.dependency) {
        const dependency = byName.get(name);
        if (dependency) visit(dependency);
      }
      ordered.push(file);
    };
    files.forEach(visit);
    return ordered;
  };

  it("file_containing_symbol returns file descriptors declaring the symbol", async () => {
    const [response] = await ask([{ file_containing_symbol: "mlcache.v1.CacheService" }]);
    expect(response?.message_response).toBe("file_descriptor_response");
    const files = filesOf(response);
    expect(files.length).toBeGreaterThan(0);
    const declaring = files.find((f) => f.service.some((s) => s.name === "CacheService"));
    expect(declaring?.package).toBe("mlcache.v1");
    expect(declaring?.service.find((s) => s.name === "CacheService")?.method.map((m) => m.name)).toEqual([
      "Get",
      "BulkGet",
      "Set",
      "Invalidate",
      "WatchStats",
      "Inspect",
    ]);
  });

  it("the descriptors are the real files, with their names and imports, and build a complete schema", async () => {
    // What grpcurl and `buf curl` do with them: resolve every type reference within the set.
    const [response] = await ask([{ file_containing_symbol: "mlcache.v1.CacheService" }]);
    const files = filesOf(response);
    const cacheFile = files.find((f) => f.name === "mlcache/v1/cache.proto");
    expect(cacheFile?.service.map((s) => s.name)).toEqual(["CacheService"]);
    expect(cacheFile?.dependency).toEqual(
      expect.arrayContaining(["google/protobuf/duration.proto", "mlcache/v1/common.proto", "mlcache/v1/stats.proto"]),
    );
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: files }));
    const get = registry.getService("mlcache.v1.CacheService")?.methods.find((m) => m.name === "Get");
    expect(get?.input.typeName).toBe("mlcache.v1.GetRequest");
    expect(get?.input.fields.find((f) => f.name === "options")?.message?.typeName).toBe("mlcache.v1.ReadOptions");
  });

  it("the health service's descriptor builds a complete schema too", async () => {
    const [response] = await ask([{ file_containing_symbol: "grpc.health.v1.Health" }]);
    const registry = createFileRegistry(create(FileDescriptorSetSchema, { file: filesOf(response) }));
    const check = registry.getService("grpc.health.v1.Health")?.methods.find((m) => m.name === "Check");
    expect(check?.output.typeName).toBe("grpc.health.v1.HealthCheckResponse");
  });

  it("answers a message symbol, and reports an unknown symbol as NOT_FOUND", async () => {
    const [found, missing] = await ask([
      { file_containing_symbol: "mlcache.v1.NamespacePolicy" },
      { file_containing_symbol: "no.such.Symbol" },
    ]);
    expect(found?.message_response).toBe("file_descriptor_response");
    expect(filesOf(found).some((f) => f.messageType.some((m) => m.name === "NamespacePolicy"))).toBe(true);
    expect(missing?.message_response).toBe("error_response");
    expect(missing?.error_response?.error_code).toBe(grpc.status.NOT_FOUND);
  });

  it("`buf curl` calls Get through reflection, without proto files", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "buf-curl", key: "k", value: text("via buf") });
    } finally {
      client.close();
    }
    const result = await execFileAsync(
      BUF,
      [
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "-d",
        JSON.stringify({ namespace: "buf-curl", key: "k" }),
        `http://127.0.0.1:${service.grpcPort}/mlcache.v1.CacheService/Get`,
      ],
      { timeout: 30_000 },
    ).catch((error: { stdout?: string; stderr?: string; code?: number }) => error);
    expect(result.stderr).toBe("");
    const body = JSON.parse(result.stdout ?? "") as { item: Record<string, unknown> };
    expect(body.item).toMatchObject({
      key: "k",
      found: true,
      value: Buffer.from("via buf").toString("base64"),
      source: "SOURCE_L1",
    });
  });
});

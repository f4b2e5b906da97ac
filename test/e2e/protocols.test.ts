// End to end: gRPC-Web and plain JSON on the HTTP port, and deadlines on the gRPC port.

import { createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { Code, createGrpcJsClient, grpcWebTransport, rejection } from "../support/service.js";
import { serviceForFile, text } from "./harness.js";

const service = serviceForFile();
describe("other protocols on the HTTP port", () => {
  it("gRPC-Web: Set then Get", async () => {
    const client = createClient(CacheService, grpcWebTransport(service.httpPort));
    const set = await client.set({ namespace: "grpc-web", key: "k", value: text("web"), tags: ["t"] });
    const { item } = await client.get({ namespace: "grpc-web", key: "k" });
    expect(item?.found).toBe(true);
    expect(new TextDecoder().decode(item?.value)).toBe("web");
    expect(item?.version).toBe(set.version);
    const error = await rejection(client.get({ namespace: "grpc-web", key: "" }));
    expect(error.code).toBe(Code.InvalidArgument);
  });

  it("plain JSON POST to /mlcache.v1.CacheService/Get", async () => {
    const grpcClient = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      const set = await grpcClient.set({ namespace: "json", key: "k", value: text("hello json"), tags: ["a"] });
      const response = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "json", key: "k" }),
      });
      expect(response.status).toBe(200);
      const body = (await response.json()) as { item: Record<string, unknown> };
      expect(body.item).toMatchObject({
        key: "k",
        found: true,
        value: Buffer.from("hello json").toString("base64"),
        source: "SOURCE_L1",
        version: set.version.toString(),
        tags: ["a"],
      });

      const bad = await fetch(`http://127.0.0.1:${service.httpPort}/mlcache.v1.CacheService/Get`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ namespace: "json", key: "" }),
      });
      expect(bad.status).toBe(400);
      expect(await bad.json()).toMatchObject({ code: "invalid_argument", message: "key must not be empty" });
    } finally {
      grpcClient.close();
    }
  });
});

describe("deadlines", () => {
  it("a grpc-js Get with a generous deadline succeeds; an expired one is DEADLINE_EXCEEDED", async () => {
    const client = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      await client.set({ namespace: "deadline", key: "k", value: text("v") }, { timeoutMs: 30_000 });
      const { item } = await client.get({ namespace: "deadline", key: "k" }, { timeoutMs: 30_000 });
      expect(item?.found).toBe(true);
      const expired = await rejection(client.get({ namespace: "deadline", key: "k" }, { timeoutMs: -1 }));
      expect(expired.code).toBe(Code.DeadlineExceeded);
      // The server is unaffected.
      expect((await client.get({ namespace: "deadline", key: "k" })).item?.found).toBe(true);
    } finally {
      client.close();
    }
  });
});

// At the end of the shutdown grace, calls still running answer UNAVAILABLE (not CANCELLED or a
// reset) on both ports, and the origin calls of loads still running are aborted.
import { once } from "node:events";
import { createServer, type IncomingMessage } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { connectTransport, createGrpcJsClient, startTestService, within } from "../support/service.js";

describe("shutdown with calls in flight", () => {
  it("calls get UNAVAILABLE at the end of the grace and hanging origin calls are aborted", async () => {
    const requests: IncomingMessage[] = [];
    const aborted: string[] = [];
    const origin = createServer((req) => {
      requests.push(req);
      req.on("close", () => aborted.push(req.url ?? "")); // never answered: only the client ends it
    });
    origin.listen(0, "127.0.0.1");
    await once(origin, "listening");
    const port = (origin.address() as AddressInfo).port;
    const service = await startTestService({
      server: { shutdownGrace: "300ms" },
      namespaces: { slow: { loader: { http: { urlTemplate: `http://127.0.0.1:${port}/{key}` } } } },
    });
    const grpcClient = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    const connectClient = createClient(CacheService, connectTransport(service.httpPort));
    try {
      const viaGrpc = grpcClient.get({ namespace: "slow", key: "a" }).catch((e: unknown) => ConnectError.from(e));
      const viaConnect = connectClient.get({ namespace: "slow", key: "b" }).catch((e: unknown) => ConnectError.from(e));
      while (requests.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
      await within(service.close(), 10_000, "the service to close");
      const [a, b] = await Promise.all([viaGrpc, viaConnect]);
      expect(a).toMatchObject({ code: Code.Unavailable });
      expect(b).toMatchObject({ code: Code.Unavailable });
      expect((a as ConnectError).rawMessage).toContain("shutting down");
      await within(
        (async () => {
          while (aborted.length < 2) await new Promise((resolve) => setTimeout(resolve, 10));
        })(),
        5_000,
        "the origin calls to be aborted",
      );
      expect(aborted.sort()).toEqual(["/a", "/b"]);
    } finally {
      grpcClient.close();
      origin.closeAllConnections();
      origin.close();
    }
  });
});

// The service cannot be turned into a proxy: loaders set through the API must name allowed
// targets, and the secrets of configured origins are never echoed back.
import { once } from "node:events";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient } from "@connectrpc/connect";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AdminService } from "../../src/gen/mlcache/v1/admin_pb.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import { connectTransport, startTestService } from "../support/service.js";

const SECRET = "Bearer origin-secret-123";

/** An HTTP origin that answers `value-of-KEY` to requests carrying the secret, and records them. */
async function listener(): Promise<{ server: Server; port: number; requests: IncomingMessage[] }> {
  const requests: IncomingMessage[] = [];
  const server = createServer((req, res) => {
    requests.push(req);
    if (req.headers.authorization !== SECRET) {
      res.writeHead(401).end();
      return;
    }
    const key = decodeURIComponent((req.url ?? "").split("?")[0]?.split("/").pop() ?? "");
    res.writeHead(200, { "content-type": "application/octet-stream" }).end(`value-of-${key}`);
  });
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  return { server, port: (server.address() as AddressInfo).port, requests };
}

describe("origins set through the API", () => {
  let allowed: Awaited<ReturnType<typeof listener>>;
  let unlisted: Awaited<ReturnType<typeof listener>>;
  let service: RunningService;
  let cache: ReturnType<typeof createClient<typeof CacheService>>;
  let admin: ReturnType<typeof createClient<typeof AdminService>>;

  beforeAll(async () => {
    allowed = await listener();
    unlisted = await listener();
    service = await startTestService({
      origins: { allowedTargets: [`http://127.0.0.1:${allowed.port}/ok/`] },
      limits: { maxNamespaces: 4 },
      namespaces: {
        configured: {
          loader: {
            http: {
              urlTemplate: `http://127.0.0.1:${allowed.port}/configured/{key}?api_key=query-secret`,
              headers: { authorization: SECRET },
            },
          },
        },
      },
    });
    const transport = connectTransport(service.httpPort);
    cache = createClient(CacheService, transport);
    admin = createClient(AdminService, transport);
  });
  afterAll(async () => {
    await service?.close();
    allowed?.server.close();
    unlisted?.server.close();
  });

  const pointAt = (namespace: string, urlTemplate: string) =>
    admin.updatePolicy({
      policy: {
        namespace,
        loader: { kind: { case: "http", value: { urlTemplate, headers: { authorization: SECRET } } } },
      },
      updateMask: { paths: ["loader"] },
    });

  it("refuses a loader outside origins.allowedTargets, and no request reaches it", async () => {
    const attempts = [
      `http://127.0.0.1:${unlisted.port}/ok/{key}`,
      `http://127.0.0.1:${allowed.port}/okay/{key}`, // a path that only starts like the prefix
      `http://127.0.0.1:${allowed.port}@127.0.0.1:${unlisted.port}/ok/{key}`, // credentials trick
      `https://127.0.0.1:${allowed.port}/ok/{key}`, // another scheme
    ];
    for (const url of attempts) {
      const refused = await pointAt("attacker", url).catch((e: unknown) => ConnectError.from(e));
      expect(refused, url).toMatchObject({ code: Code.PermissionDenied });
    }
    await cache.get({ namespace: "attacker", key: "k" }).catch(() => undefined);
    expect(unlisted.requests).toHaveLength(0);
    // Nothing of the refused change took effect.
    expect((await admin.getPolicy({ namespace: "attacker" })).customized).toBe(false);
  });

  it("accepts an allowed target and loads through it", async () => {
    await pointAt("fine", `http://127.0.0.1:${allowed.port}/ok/{key}`);
    const answer = await cache.get({ namespace: "fine", key: "k1" });
    expect(new TextDecoder().decode(answer.item?.value)).toBe("value-of-k1");
  });

  it("GetPolicy never shows header values or URL secrets, and writing the policy back keeps them", async () => {
    const { policy } = await admin.getPolicy({ namespace: "configured" });
    const http = policy?.loader?.kind.case === "http" ? policy.loader.kind.value : undefined;
    expect(http?.headers).toEqual({ authorization: "<redacted>" });
    expect(http?.urlTemplate).toBe(`http://127.0.0.1:${allowed.port}/configured/{key}?api_key=<redacted>`);
    const shown = JSON.stringify(policy, (_name, value) => (typeof value === "bigint" ? String(value) : value));
    expect(shown).not.toContain("origin-secret");
    expect(shown).not.toContain("query-secret");
    // The whole policy sent back (as a UI would): the origin still answers, so the secret held.
    if (!policy) throw new Error("no policy");
    await admin.updatePolicy({ policy });
    const answer = await cache.get({ namespace: "configured", key: "k2" });
    expect(new TextDecoder().decode(answer.item?.value)).toBe("value-of-k2");
    expect(allowed.requests.at(-1)?.url).toBe("/configured/k2?api_key=query-secret");
  });

  it("UpdatePolicy cannot create namespaces past limits.maxNamespaces", async () => {
    const results: (Code | "ok")[] = [];
    for (let i = 0; i < 6; i++) {
      results.push(
        await admin
          .updatePolicy({ policy: { namespace: `many-${i}`, negativeTtl: { seconds: 5n, nanos: 0 } } })
          .then(() => "ok" as const)
          .catch((e: unknown) => ConnectError.from(e).code),
      );
    }
    expect(results).toContain(Code.ResourceExhausted);
    expect(results.filter((r) => r === "ok").length).toBeLessThanOrEqual(4);
  });
});

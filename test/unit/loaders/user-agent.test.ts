// HTTP origins say which instance calls them: the user-agent carries the instance id (a header
// in the loader's policy could not, policies being fleet-wide).
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { create } from "@bufbuild/protobuf";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { OriginPolicySchema } from "../../../src/gen/mlcache/v1/policy_pb.js";
import { createOrigin, originUserAgent } from "../../../src/loaders/origin.js";

describe("the user-agent of HTTP origin calls", () => {
  const seen: IncomingHttpHeaders[] = [];
  const server = createServer((request, response) => {
    seen.push(request.headers);
    response.writeHead(200, { "content-type": "application/octet-stream" }).end("v");
  });
  let base = "";
  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  const policy = (headers: Record<string, string> = {}) =>
    create(OriginPolicySchema, {
      kind: { case: "http", value: { urlTemplate: `${base}/items/{key}`, headers } },
    });

  it("names the calling instance, and a policy header may still set its own", async () => {
    const signal = new AbortController().signal;
    const named = createOrigin("n", policy(), { userAgent: originUserAgent("cache-7") });
    await named.loader.load("n", "k", { signal });
    expect(seen.at(-1)?.["user-agent"]).toBe("mlcache (instance cache-7)");
    const overridden = createOrigin("n", policy({ "user-agent": "team-agent" }), {
      userAgent: originUserAgent("cache-7"),
    });
    await overridden.loader.load("n", "k", { signal });
    expect(seen.at(-1)?.["user-agent"]).toBe("team-agent");
    named.close();
    overridden.close();
  });

  it("keeps only printable characters of the instance id", () => {
    expect(originUserAgent("a\r\nb\u00e9")).toBe("mlcache (instance a??b?)");
  });
});

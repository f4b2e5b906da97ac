// Credentials against the servers scripts/clients/run-suites.mjs starts: the plaintext one
// (MLCACHE_SERVER, MLCACHE_HTTP) knows MLCACHE_TOKEN (every right everywhere) and
// MLCACHE_READ_TOKEN (read in MLCACHE_READ_NAMESPACE only); the TLS one (MLCACHE_TLS_SERVER,
// mutual TLS, certificates made by openssl for this run) trusts client certificates signed by
// MLCACHE_CA and knows the identity MLCACHE_TLS_IDENTITY (MLCACHE_CERT / MLCACHE_CERT_KEY), which
// may read and write in tls-*.
import { readFileSync } from "node:fs";
import { createConnectTransport, createGrpcTransport } from "@connectrpc/connect-node";
import { afterAll, describe, expect, it } from "vitest";
import { bearerToken, CacheClient, Code, createGrpcJsTransport } from "../src/index.js";

function env(name: string): string {
  const value = process.env[name];
  if (!value) {
    const why = name.startsWith("MLCACHE_TLS") ? process.env.MLCACHE_TLS_ERROR : undefined;
    throw new Error(`${name} is not set: run \`npm run test:clients\`${why ? ` (${why})` : ""}`);
  }
  return value;
}

const run = Date.now().toString(36);
const closeAfter: { close(): void }[] = [];
afterAll(() => {
  for (const transport of closeAfter) transport.close();
});
const grpcJs = (options: Parameters<typeof createGrpcJsTransport>[0]) => {
  const transport = createGrpcJsTransport(options);
  closeAfter.push(transport);
  return transport;
};

describe("bearer tokens", () => {
  const server = env("MLCACHE_SERVER");
  const readNamespace = env("MLCACHE_READ_NAMESPACE");
  const readToken = env("MLCACHE_READ_TOKEN");

  it.each([
    ["grpc-js", () => grpcJs({ address: server })],
    ["connect-node gRPC", () => createGrpcTransport({ baseUrl: `http://${server}` })],
    ["Connect", () => createConnectTransport({ baseUrl: env("MLCACHE_HTTP"), httpVersion: "1.1" })],
  ])("a call without a token is UNAUTHENTICATED (%s)", async (_, transport) => {
    const cache = new CacheClient({ transport: transport(), namespace: "client-ts" });
    await expect(cache.get(`${run}:a`)).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it("an unknown token is UNAUTHENTICATED", async () => {
    const cache = new CacheClient({ transport: grpcJs({ address: server, token: "not-a-token-of-this-server" }) });
    await expect(cache.get(`${run}:a`)).rejects.toMatchObject({ code: Code.Unauthenticated });
  });

  it.each([
    ["grpc-js", () => grpcJs({ address: server, token: readToken })],
    [
      "connect-node gRPC",
      () => createGrpcTransport({ baseUrl: `http://${server}`, interceptors: [bearerToken(readToken)] }),
    ],
  ])("a read-only token reads, and its Set is PERMISSION_DENIED (%s)", async (_, transport) => {
    const cache = new CacheClient({ transport: transport(), namespace: readNamespace });
    expect(await cache.get(`${run}:ro`, { skipLoader: true })).toBeUndefined();
    const error = await cache.set(`${run}:ro`, "x").catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Code.PermissionDenied });
    expect(String((error as Error).message)).toContain("write");
  });

  it("a token with a space is refused before any call, without repeating it", () => {
    expect(() => bearerToken("two words")).toThrow(/printable ASCII/);
    expect(() => createGrpcJsTransport({ address: server, token: "two words" })).toThrow(
      expect.objectContaining({ message: expect.not.stringContaining("two words") }),
    );
  });
});

describe("TLS", () => {
  const server = env("MLCACHE_TLS_SERVER");
  const identity = env("MLCACHE_TLS_IDENTITY");
  const tls = {
    ca: readFileSync(env("MLCACHE_CA")),
    cert: readFileSync(env("MLCACHE_CERT")),
    key: readFileSync(env("MLCACHE_CERT_KEY")),
  };

  it.each([
    ["grpc-js", () => grpcJs({ address: server, tls })],
    ["connect-node gRPC", () => createGrpcTransport({ baseUrl: `https://${server}`, nodeOptions: tls })],
  ])("mutual TLS: the client certificate is the identity, with its rights (%s)", async (name, transport) => {
    const cache = new CacheClient({ transport: transport(), namespace: "tls-ts" });
    await cache.set(`${run}:${name}`, "over TLS");
    expect(new TextDecoder().decode((await cache.get(`${run}:${name}`))?.value)).toBe("over TLS");
    const error = await cache.set(`${run}:${name}`, "x", { namespace: "elsewhere" }).catch((e: unknown) => e);
    expect(error).toMatchObject({ code: Code.PermissionDenied });
    expect(String((error as Error).message)).toContain(identity);
  });

  it("without the CA the server's certificate is not trusted: UNAVAILABLE", async () => {
    const transport = grpcJs({ address: server, tls: { cert: tls.cert, key: tls.key } });
    const cache = new CacheClient({ transport, timeoutMs: 3000, retry: { maxAttempts: 1 } });
    await expect(cache.get(`${run}:a`)).rejects.toMatchObject({ code: Code.Unavailable });
  });
});

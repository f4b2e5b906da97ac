// TLS on both ports, with mutual TLS identities and tokens side by side; certificates made by
// openssl in the test. The CLI talks to the same service with --ca and --token.
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { Code, createClient } from "@connectrpc/connect";
import { createGrpcTransport } from "@connectrpc/connect-node";
import * as grpc from "@grpc/grpc-js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import type { RunningService } from "../../src/server.js";
import { makeCertificates, type TestCertificates } from "../support/certs.js";
import { createGrpcJsClient, startTestService, statusOf } from "../support/service.js";

const ROOT = new URL("../..", import.meta.url).pathname;
const TOKEN = "tls-test-token-0123456789";
const execFileAsync = promisify(execFile);

describe("TLS and mutual TLS on both ports", () => {
  let certs: TestCertificates;
  let service: RunningService;

  beforeAll(async () => {
    certs = makeCertificates();
    service = await startTestService({
      server: {
        tls: { certFile: certs.serverCert, keyFile: certs.serverKey, caFile: certs.ca, requireClientCert: true },
      },
      auth: {
        tokens: [{ name: "app", token: TOKEN, namespaces: ["*"], rights: ["read", "write"] }],
        identities: [
          { name: "svc-a", commonName: "svc-a", namespaces: ["products"], rights: ["read"] },
          { name: "svc-b", san: "svc-b.internal", namespaces: ["orders"], rights: ["read"] },
        ],
      },
    });
  });
  afterAll(async () => {
    await service?.close();
    certs?.remove();
  });

  const grpcClient = (name: string | undefined) => {
    const client = name ? certs.client(name) : undefined;
    const credentials = grpc.credentials.createSsl(
      readFileSync(certs.ca),
      client ? readFileSync(client.key) : null,
      client ? readFileSync(client.cert) : null,
    );
    return createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`, credentials);
  };
  const connectClient = (name: string | undefined) => {
    const client = name ? certs.client(name) : undefined;
    return createClient(
      CacheService,
      createGrpcTransport({
        baseUrl: `https://127.0.0.1:${service.httpPort}`,
        nodeOptions: {
          ca: readFileSync(certs.ca),
          ...(client ? { cert: readFileSync(client.cert), key: readFileSync(client.key) } : {}),
        },
      }),
    );
  };

  it("gRPC port: the certificate's identity is the principal, by common name or SAN", async () => {
    const a = grpcClient("svc-a");
    const b = grpcClient("svc-b");
    const stranger = grpcClient("stranger");
    try {
      expect(await statusOf(a.get({ namespace: "products", key: "k" }))).toBe("ok");
      expect(await statusOf(a.get({ namespace: "orders", key: "k" }))).toBe(Code.PermissionDenied);
      expect(await statusOf(b.get({ namespace: "orders", key: "k" }))).toBe("ok");
      expect(await statusOf(a.set({ namespace: "products", key: "k", value: new Uint8Array([1]) }))).toBe(
        Code.PermissionDenied,
      );
      // A valid certificate that names no identity is not a credential.
      expect(await statusOf(stranger.get({ namespace: "products", key: "k" }))).toBe(Code.Unauthenticated);
      // A token wins over the certificate's identity.
      expect(
        await statusOf(
          stranger.set(
            { namespace: "orders", key: "k", value: new Uint8Array([1]) },
            { headers: { authorization: `Bearer ${TOKEN}` } },
          ),
        ),
      ).toBe("ok");
    } finally {
      a.close();
      b.close();
      stranger.close();
    }
  });

  it("HTTP port (HTTP/2 over TLS): the same identities and rights", async () => {
    expect(await statusOf(connectClient("svc-a").get({ namespace: "products", key: "k" }))).toBe("ok");
    expect(await statusOf(connectClient("svc-a").get({ namespace: "orders", key: "k" }))).toBe(Code.PermissionDenied);
    expect(await statusOf(connectClient("stranger").get({ namespace: "products", key: "k" }))).toBe(
      Code.Unauthenticated,
    );
  });

  it("a client without a certificate is turned away at the handshake on both ports", async () => {
    const anonymous = grpcClient(undefined);
    try {
      expect(await statusOf(anonymous.get({ namespace: "products", key: "k" }))).toBe(Code.Unavailable);
    } finally {
      anonymous.close();
    }
    // connect-node reports the failed handshake as its own transport error; no answer either way.
    expect(await statusOf(connectClient(undefined).get({ namespace: "products", key: "k" }))).not.toBe("ok");
  });

  it("a plaintext client gets no answer from either port", async () => {
    const plain = createGrpcJsClient(CacheService, `127.0.0.1:${service.grpcPort}`);
    try {
      expect(await statusOf(plain.get({ namespace: "products", key: "k" }, { timeoutMs: 5_000 }))).not.toBe("ok");
    } finally {
      plain.close();
    }
  });

  it("the CLI connects with --ca, --cert/--cert-key and --token", async () => {
    const client = certs.client("svc-a");
    const cli = (args: string[]) =>
      execFileAsync(process.execPath, [join(ROOT, "bin", "mlcache.js"), ...args], { timeout: 20_000 }).then(
        (r) => ({ code: 0, stdout: r.stdout, stderr: r.stderr }),
        (e: { code: number; stdout: string; stderr: string }) => e,
      );
    const tls = [
      "--server",
      `https://127.0.0.1:${service.grpcPort}`,
      "--ca",
      certs.ca,
      "--cert",
      client.cert,
      "--cert-key",
      client.key,
    ];
    const set = await cli(["set", "k", "hello", "-n", "orders", ...tls, "--token", TOKEN]);
    expect(set.stderr).toBe("");
    const got = await cli(["get", "k", "-n", "orders", ...tls, "--token", TOKEN]);
    expect(JSON.parse(got.stdout)).toMatchObject({ key: "k", found: true, value: "hello" });
    const denied = await cli(["get", "k", "-n", "orders", ...tls]);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain("PERMISSION_DENIED");
  });
});

// Certificate rotation without a restart, on both ports: the service follows its certificate,
// key and CA files; new connections get the new pair, open ones keep going, and files changed
// into something unusable leave the previous pair in service (logged and counted).
import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { request } from "node:https";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { connect } from "node:tls";
import { Code } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { makeCertificates, type TestCertificates } from "../support/certs.js";
import { createGrpcJsClient, nextWithin, statusOf, testConfig } from "../support/service.js";

type Ports = "grpc" | "http";

describe("TLS certificate rotation without a restart", () => {
  // A: the service's first pair, from CA 1. B: a pair from CA 2, rotated in with a CA bundle.
  let first: TestCertificates;
  let second: TestCertificates;
  let live: string;
  let bundle: Buffer;
  let service: RunningService;
  const logLines: Array<{ msg: string; level: number; [field: string]: unknown }> = [];

  const fingerprintOf = (file: string) => new X509Certificate(readFileSync(file)).fingerprint256;
  /** Replaces a file the way a deploy tool does: write beside it, then rename over it. */
  const replace = (file: string, content: Buffer | string) => {
    writeFileSync(`${file}.tmp`, content);
    renameSync(`${file}.tmp`, file);
  };

  beforeAll(async () => {
    first = makeCertificates();
    second = makeCertificates();
    bundle = Buffer.concat([readFileSync(first.ca), readFileSync(second.ca)]);
    live = mkdtempSync(join(tmpdir(), "mlcache-live-tls-"));
    copyFileSync(first.serverCert, join(live, "server.pem"));
    copyFileSync(first.serverKey, join(live, "server.key"));
    copyFileSync(first.ca, join(live, "ca.pem"));
    const sink = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split("\n")) if (line) logLines.push(JSON.parse(line));
        done();
      },
    });
    const config = parseConfig(
      testConfig({
        server: {
          tls: {
            certFile: join(live, "server.pem"),
            keyFile: join(live, "server.key"),
            caFile: join(live, "ca.pem"),
            requireClientCert: true,
            reloadInterval: "50ms",
          },
        },
      }),
      "test config",
    );
    service = await startService(config, { logger: pino({ level: "info" }, sink) });
  });
  afterAll(async () => {
    await service?.close();
    first?.remove();
    second?.remove();
    if (live) rmSync(live, { recursive: true, force: true });
  });

  /** A client identity that every CA in the bundle accepts once it is loaded. */
  const clientOf = (certs: TestCertificates) => {
    const client = certs.client("app");
    return { cert: readFileSync(client.cert), key: readFileSync(client.key) };
  };

  /** The fingerprint of the certificate a new TLS connection to `port` is shown. */
  const servedFingerprint = (port: Ports) =>
    new Promise<string>((resolve, reject) => {
      const socket = connect({
        host: "127.0.0.1",
        port: port === "grpc" ? service.grpcPort : service.httpPort,
        ca: bundle,
        ...clientOf(first),
        servername: "localhost",
        ALPNProtocols: ["h2"],
      });
      socket.once("secureConnect", () => {
        resolve(socket.getPeerCertificate().fingerprint256);
        socket.destroy();
      });
      socket.once("error", reject);
    });

  const grpcClient = (identity: TestCertificates) => {
    const client = clientOf(identity);
    return createGrpcJsClient(
      CacheService,
      `127.0.0.1:${service.grpcPort}`,
      grpc.credentials.createSsl(bundle, client.key, client.cert),
    );
  };

  const metrics = () =>
    new Promise<string>((resolve, reject) => {
      const req = request(
        { host: "127.0.0.1", port: service.httpPort, path: "/metrics", ca: bundle, ...clientOf(first) },
        (res) => {
          let body = "";
          res.on("data", (chunk) => {
            body += chunk;
          });
          res.on("end", () => resolve(body));
        },
      );
      req.once("error", reject);
      req.end();
    });
  const reloads = async (result: "success" | "failure") =>
    Number((await metrics()).match(new RegExp(`mlcache_tls_reloads_total\\{result="${result}"\\} (\\d+)`))?.[1]);

  const eventually = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 10_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  };

  it("a rotated certificate, key and CA reach new connections on both ports; open calls go on", async () => {
    const a = fingerprintOf(first.serverCert);
    const b = fingerprintOf(second.serverCert);
    expect(await servedFingerprint("grpc")).toBe(a);
    expect(await servedFingerprint("http")).toBe(a);
    // Before the rotation, a client certificate from CA 2 is turned away.
    const fromSecondCa = grpcClient(second);
    const fromFirstCa = grpcClient(first);
    const stop = new AbortController();
    try {
      expect(await statusOf(fromSecondCa.get({ namespace: "products", key: "k" }))).toBe(Code.Unavailable);
      fromSecondCa.close();

      // A stream opened before the rotation.
      const stream = fromFirstCa
        .watchStats({ interval: { seconds: 0n, nanos: 100_000_000 } }, { signal: stop.signal })
        [Symbol.asyncIterator]();
      await nextWithin(stream, 5_000, "the first stats before the rotation");

      replace(join(live, "ca.pem"), bundle);
      replace(join(live, "server.key"), readFileSync(second.serverKey));
      replace(join(live, "server.pem"), readFileSync(second.serverCert));
      await eventually(
        async () => (await servedFingerprint("grpc")) === b && (await servedFingerprint("http")) === b,
        "certificate B on both ports",
      );

      // The stream opened under certificate A is still answering.
      await nextWithin(stream, 5_000, "stats after the rotation");
      await nextWithin(stream, 5_000, "more stats after the rotation");
      // The CA was reloaded too: CA 2's client is now let in.
      const rotated = grpcClient(second);
      try {
        expect(await statusOf(rotated.get({ namespace: "products", key: "k" }))).toBe("ok");
      } finally {
        rotated.close();
      }
      expect(await reloads("success")).toBeGreaterThanOrEqual(1);
      expect(await reloads("failure")).toBe(0);
      const reloaded = logLines.find((l) => l.msg.startsWith("TLS certificate reloaded"));
      expect(reloaded).toMatchObject({ certificate: { fingerprint256: b } });
      expect(JSON.stringify(logLines)).not.toContain("PRIVATE KEY");
    } finally {
      stop.abort();
      fromFirstCa.close();
    }
  });

  it("a key file holding garbage leaves the previous pair in service, logged and counted", async () => {
    const b = fingerprintOf(second.serverCert);
    const failuresBefore = await reloads("failure");
    replace(join(live, "server.key"), "-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n");
    await eventually(async () => (await reloads("failure")) === failuresBefore + 1, "the failure to be counted");
    expect(await servedFingerprint("grpc")).toBe(b);
    expect(await servedFingerprint("http")).toBe(b);
    const client = grpcClient(second);
    try {
      expect(await statusOf(client.get({ namespace: "products", key: "k" }))).toBe("ok");
    } finally {
      client.close();
    }
    const failed = logLines.find((l) => l.level === 50 && String(l.msg).startsWith("TLS files changed"));
    expect(failed).toBeDefined();
    expect(JSON.stringify(failed)).toContain("server.key");
    expect(JSON.stringify(failed)).not.toContain("not a key");
    // Logged and counted once, not on every poll.
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await reloads("failure")).toBe(failuresBefore + 1);

    // Fixed files are taken on the next change.
    replace(join(live, "server.key"), readFileSync(second.serverKey));
    replace(join(live, "server.pem"), readFileSync(second.serverCert));
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(await reloads("failure")).toBe(failuresBefore + 1);
    expect(await servedFingerprint("grpc")).toBe(b);
  });
});

describe("TLS without client certificates", () => {
  it("serves a client without a certificate, before and after a rotation", async () => {
    const first = makeCertificates();
    const second = makeCertificates();
    const live = mkdtempSync(join(tmpdir(), "mlcache-live-tls-"));
    copyFileSync(first.serverCert, join(live, "server.pem"));
    copyFileSync(first.serverKey, join(live, "server.key"));
    const service = await startService(
      parseConfig(
        testConfig({
          server: {
            tls: { certFile: join(live, "server.pem"), keyFile: join(live, "server.key"), reloadInterval: "50ms" },
          },
        }),
        "test config",
      ),
    );
    const bundle = Buffer.concat([readFileSync(first.ca), readFileSync(second.ca)]);
    const client = createGrpcJsClient(
      CacheService,
      `127.0.0.1:${service.grpcPort}`,
      grpc.credentials.createSsl(bundle),
    );
    try {
      expect(await statusOf(client.get({ namespace: "products", key: "k" }))).toBe("ok");
      writeFileSync(join(live, "server.key"), readFileSync(second.serverKey));
      writeFileSync(join(live, "server.pem"), readFileSync(second.serverCert));
      const b = new X509Certificate(readFileSync(second.serverCert)).fingerprint256;
      const deadline = Date.now() + 10_000;
      let seen = "";
      while (seen !== b && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
        seen = await new Promise<string>((resolve, reject) => {
          const socket = connect({ host: "127.0.0.1", port: service.grpcPort, ca: bundle, servername: "localhost" });
          socket.once("secureConnect", () => {
            resolve(socket.getPeerCertificate().fingerprint256);
            socket.destroy();
          });
          socket.once("error", reject);
        });
      }
      expect(seen).toBe(b);
      expect(await statusOf(client.get({ namespace: "products", key: "k" }))).toBe("ok");
    } finally {
      client.close();
      await service.close();
      first.remove();
      second.remove();
      rmSync(live, { recursive: true, force: true });
    }
  });
});

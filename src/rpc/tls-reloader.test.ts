import { X509Certificate } from "node:crypto";
import { copyFileSync, mkdtempSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { makeCertificates, type TestCertificates } from "../../test/support/certs.js";
import { type TlsMaterial, TlsReloader } from "./tls-reloader.js";

describe("TlsReloader", () => {
  let first: TestCertificates;
  let second: TestCertificates;
  let live: string;
  const certFile = () => join(live, "server.pem");
  const keyFile = () => join(live, "server.key");
  const fingerprint = (m: TlsMaterial) => new X509Certificate(m.cert).fingerprint256;

  beforeAll(() => {
    first = makeCertificates();
    second = makeCertificates();
  });
  afterAll(() => {
    first?.remove();
    second?.remove();
  });
  beforeEach(() => {
    if (live) rmSync(live, { recursive: true, force: true });
    live = mkdtempSync(join(tmpdir(), "mlcache-reloader-"));
    copyFileSync(first.serverCert, certFile());
    copyFileSync(first.serverKey, keyFile());
  });

  const reloader = () => {
    const errors: string[] = [];
    const served: TlsMaterial[] = [];
    const r = new TlsReloader(
      { certFile: certFile(), keyFile: keyFile() },
      { intervalMs: 60_000, onFailure: (error) => errors.push(error.message) },
    );
    r.subscribe((m) => served.push(m));
    return { r, errors, served };
  };

  it("refuses to start on a key that does not match the certificate", () => {
    copyFileSync(second.serverKey, keyFile());
    expect(() => reloader()).toThrow(/server\.key.*not usable/);
  });

  it("takes new bytes once two reads agree: a pair caught halfway is not judged", async () => {
    const { r, errors, served } = reloader();
    copyFileSync(second.serverCert, certFile()); // the key is still A's
    await r.poll();
    copyFileSync(second.serverKey, keyFile());
    await r.poll();
    expect(served).toHaveLength(0);
    await r.poll();
    expect(served.map(fingerprint)).toEqual([new X509Certificate(readFileSync(second.serverCert)).fingerprint256]);
    expect(r.current).toBe(served[0]);
    expect([r.reloads, r.failures, errors]).toEqual([1, 0, []]);
  });

  it("keeps the pair in service when the files turn unusable, reporting each bad write once", async () => {
    const { r, errors, served } = reloader();
    const before = r.current;
    writeFileSync(keyFile(), "garbage");
    for (let i = 0; i < 4; i++) await r.poll();
    expect(r.current).toBe(before);
    expect(served).toHaveLength(0);
    expect(r.failures).toBe(1);
    expect(errors[0]).toMatch(/server\.key.*not usable/);
    writeFileSync(keyFile(), "other garbage");
    for (let i = 0; i < 3; i++) await r.poll();
    expect(r.failures).toBe(2);
  });

  it("a file missing for one read is only retried; missing for longer is a failure", async () => {
    const { r } = reloader();
    const key = readFileSync(keyFile());
    unlinkSync(keyFile());
    await r.poll();
    expect(r.failures).toBe(0);
    writeFileSync(keyFile(), key);
    await r.poll();
    await r.poll();
    expect(r.failures).toBe(0);
    unlinkSync(keyFile());
    await r.poll();
    await r.poll();
    await r.poll();
    expect(r.failures).toBe(1);
    expect(r.reloads).toBe(0);
  });
});

// Certificates for TLS tests, made by openssl in a temporary folder: a CA, a server certificate
// for 127.0.0.1 / localhost, and client certificates signed by the CA (for mutual TLS).
import { execFileSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** Paths of the files a {@link TestCertificates} folder holds. */
export interface TestCertificates {
  dir: string;
  ca: string;
  serverCert: string;
  serverKey: string;
  /** A client certificate with CN=<name> and SAN DNS:<name>.internal, by name. */
  client(name: string): { cert: string; key: string };
  /** Removes the folder. */
  remove(): void;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: "pipe" });
}

/** Makes a CA and a server certificate (and client certificates on demand) with openssl. */
export function makeCertificates(): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "mlcache-certs-"));
  openssl(
    [
      "req",
      "-x509",
      "-newkey",
      "rsa:2048",
      "-nodes",
      "-keyout",
      "ca.key",
      "-out",
      "ca.pem",
      "-days",
      "2",
      "-subj",
      "/CN=mlcache test CA",
    ],
    dir,
  );
  const signed = (name: string, subject: string, extensions: string) => {
    writeFileSync(join(dir, `${name}.ext`), extensions);
    openssl(
      ["req", "-newkey", "rsa:2048", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", subject],
      dir,
    );
    openssl(
      [
        "x509",
        "-req",
        "-in",
        `${name}.csr`,
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-out",
        `${name}.pem`,
        "-days",
        "2",
        "-extfile",
        `${name}.ext`,
      ],
      dir,
    );
    return { cert: join(dir, `${name}.pem`), key: join(dir, `${name}.key`) };
  };
  const server = signed(
    "server",
    "/CN=localhost",
    "subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n",
  );
  const clients = new Map<string, { cert: string; key: string }>();
  return {
    dir,
    ca: join(dir, "ca.pem"),
    serverCert: server.cert,
    serverKey: server.key,
    client(name) {
      let made = clients.get(name);
      if (!made) {
        made = signed(
          `client-${name}`,
          `/CN=${name}`,
          `subjectAltName=DNS:${name}.internal\nextendedKeyUsage=clientAuth\n`,
        );
        clients.set(name, made);
      }
      return made;
    },
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

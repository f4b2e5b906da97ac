import { X509Certificate } from "node:crypto";
import { readFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { createSecureContext } from "node:tls";

/** TLS material for a server; `caFile` with `requireClientCert` gives mutual TLS. */
export interface TlsFiles {
  certFile: string;
  keyFile: string;
  caFile?: string | undefined;
  requireClientCert?: boolean;
}

/** The bytes of a certificate chain, its key and (for mutual TLS) the CA, as read together. */
export interface TlsMaterial {
  cert: Buffer;
  key: Buffer;
  ca?: Buffer | undefined;
}

/** What a reload log line says about a certificate: public facts only, never the key. */
export interface CertificateFacts {
  subject: string;
  serialNumber: string;
  fingerprint256: string;
  validTo: string;
}

/** Where TLS material comes from for a port: the material now, and word when it changes. */
export interface TlsSource {
  readonly requireClientCert: boolean;
  /** The material to serve now: always a pair that was checked to belong together. */
  readonly current: TlsMaterial;
  /** Calls `listener` with each new checked material; returns the unsubscribe. */
  subscribe(listener: (material: TlsMaterial) => void): () => void;
}

/**
 * Reads the material and checks it is usable: the certificate parses, the key matches it and
 * OpenSSL accepts all three as one context. Throws an Error naming the files otherwise.
 */
export function checkTlsMaterial(material: TlsMaterial, files: TlsFiles): CertificateFacts {
  try {
    createSecureContext({ cert: material.cert, key: material.key, ...(material.ca ? { ca: material.ca } : {}) });
    const leaf = new X509Certificate(material.cert);
    return {
      subject: leaf.subject.replaceAll("\n", ", "),
      serialNumber: leaf.serialNumber,
      fingerprint256: leaf.fingerprint256,
      validTo: leaf.validTo,
    };
  } catch (error) {
    const names = [files.certFile, files.keyFile, ...(files.caFile ? [files.caFile] : [])].join(", ");
    throw new Error(`TLS material in ${names} is not usable: ${(error as Error).message}`);
  }
}

/** Reads the files once, synchronously (startup: a bad pair refuses to start). */
export function readTlsMaterial(files: TlsFiles): TlsMaterial {
  return {
    cert: readFileSync(files.certFile),
    key: readFileSync(files.keyFile),
    ca: files.caFile ? readFileSync(files.caFile) : undefined,
  };
}

/** Stands for files that could not be read. */
const UNREADABLE: TlsMaterial = { cert: Buffer.alloc(0), key: Buffer.alloc(0) };

function sameMaterial(a: TlsMaterial, b: TlsMaterial): boolean {
  return a.cert.equals(b.cert) && a.key.equals(b.key) && (a.ca && b.ca ? a.ca.equals(b.ca) : a.ca === b.ca);
}

export interface TlsReloaderOptions {
  /** How often the files are read (ms). */
  intervalMs: number;
  /** A new pair is being served. */
  onReload?: (facts: CertificateFacts) => void;
  /** Files changed into something unusable; the previous pair is still served. */
  onFailure?: (error: Error) => void;
}

/**
 * Serves TLS material from files and follows them as they change, so certificates rotate
 * without a restart.
 *
 * The files are polled rather than watched: a poll reads through symlinks, so an editor's
 * rename, an atomic `mv` and a Kubernetes secret's `..data` symlink swap all look the same, and
 * no inotify event can be missed. New bytes are taken only once two reads in a row agree (a
 * copy still in progress is not judged), and only if they pass {@link checkTlsMaterial}; bytes
 * that fail are reported once and the previous pair stays in service until the files change
 * again.
 */
export class TlsReloader implements TlsSource {
  readonly requireClientCert: boolean;
  /** Pairs put into service after the first. */
  reloads = 0;
  /** Changed files that could not be used (unreadable, unparsable, key not matching). */
  failures = 0;
  private served: TlsMaterial;
  private facts: CertificateFacts;
  /** What the last poll read; a change is acted on when the next poll reads the same. */
  private lastRead: TlsMaterial;
  /** Bytes already reported as unusable, so one bad write logs once. */
  private rejected: TlsMaterial | undefined;
  private readonly listeners = new Set<(material: TlsMaterial) => void>();
  private timer: NodeJS.Timeout | undefined;
  private polling: Promise<void> | undefined;

  constructor(
    private readonly files: TlsFiles,
    private readonly options: TlsReloaderOptions,
  ) {
    this.requireClientCert = files.requireClientCert ?? false;
    this.served = readTlsMaterial(files);
    this.facts = checkTlsMaterial(this.served, files);
    this.lastRead = this.served;
  }

  get current(): TlsMaterial {
    return this.served;
  }

  /** The certificate now in service. */
  get certificate(): CertificateFacts {
    return this.facts;
  }

  subscribe(listener: (material: TlsMaterial) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Starts polling the files. */
  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => void this.poll(), this.options.intervalMs);
    this.timer.unref();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** Reads the files once and acts on what changed (what the timer does; tests call it). */
  poll(): Promise<void> {
    this.polling ??= this.readAndApply().finally(() => {
      this.polling = undefined;
    });
    return this.polling;
  }

  private async readAndApply(): Promise<void> {
    let read: TlsMaterial;
    try {
      const [cert, key, ca] = await Promise.all([
        readFile(this.files.certFile),
        readFile(this.files.keyFile),
        this.files.caFile ? readFile(this.files.caFile) : undefined,
      ]);
      read = { cert, key, ca };
    } catch (error) {
      // A file missing for one poll (a delete-and-write in progress) is only retried.
      const settled = this.lastRead === UNREADABLE;
      this.lastRead = UNREADABLE;
      if (settled) this.reject(UNREADABLE, error as Error);
      return;
    }
    const settled = sameMaterial(read, this.lastRead);
    this.lastRead = read;
    if (!settled) return;
    if (sameMaterial(read, this.served)) {
      this.rejected = undefined;
      return;
    }
    if (this.rejected && sameMaterial(read, this.rejected)) return;
    let facts: CertificateFacts;
    try {
      facts = checkTlsMaterial(read, this.files);
    } catch (error) {
      this.reject(read, error as Error);
      return;
    }
    this.served = read;
    this.facts = facts;
    this.rejected = undefined;
    this.reloads++;
    for (const listener of this.listeners) listener(read);
    this.options.onReload?.(facts);
  }

  private reject(material: TlsMaterial, error: Error): void {
    if (this.rejected && sameMaterial(material, this.rejected)) return;
    this.rejected = material;
    this.failures++;
    this.options.onFailure?.(error);
  }
}

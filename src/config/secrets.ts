import { readFileSync } from "node:fs";

/** Where a secret of the config is: the value itself, a file (read once, trimmed) or an environment variable. */
export interface SecretSource {
  value?: string | undefined;
  file?: string | undefined;
  env?: string | undefined;
}

/**
 * Reads a secret, once, at start; undefined when no source is set. `field` names it as the
 * config does (`redis.password`), and errors name the source's own field
 * (`redis.passwordFile: cannot read /run/secrets/redis: ENOENT …`) — never the secret.
 */
export function readSecret(
  field: string,
  source: SecretSource,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  if (source.value !== undefined) return source.value;
  if (source.file !== undefined) {
    let secret: string;
    try {
      secret = readFileSync(source.file, "utf8").trim();
    } catch (error) {
      throw new Error(`${field}File: cannot read ${source.file}: ${(error as Error).message}`);
    }
    if (!secret) throw new Error(`${field}File: ${source.file} is empty`);
    return secret;
  }
  if (source.env !== undefined) {
    const secret = env[source.env]?.trim();
    if (!secret) throw new Error(`${field}Env: environment variable ${source.env} is not set`);
    return secret;
  }
  return undefined;
}

/** The files a TLS client setting names (CA, client certificate and key) and the server name to check. */
export interface TlsFileSettings {
  caFile?: string | undefined;
  certFile?: string | undefined;
  keyFile?: string | undefined;
  servername?: string | undefined;
}

/** A TLS client setting with its files read. */
export interface TlsMaterial {
  ca?: Buffer | undefined;
  cert?: Buffer | undefined;
  key?: Buffer | undefined;
  servername?: string | undefined;
}

/** Reads the files of a TLS client setting at start; errors name the field (`kafka.ssl.caFile: cannot read …`). */
export function readTlsFiles(field: string, tls: TlsFileSettings): TlsMaterial {
  const read = (name: "caFile" | "certFile" | "keyFile"): Buffer | undefined => {
    const file = tls[name];
    if (file === undefined) return undefined;
    try {
      return readFileSync(file);
    } catch (error) {
      throw new Error(`${field}.${name}: cannot read ${file}: ${(error as Error).message}`);
    }
  };
  return { ca: read("caFile"), cert: read("certFile"), key: read("keyFile"), servername: tls.servername };
}

import type { OriginPair } from "../config/config.js";
import { CacheError, Status } from "../errors.js";
import type { OriginPolicy } from "../gen/mlcache/v1/policy_pb.js";
import { REDACTED, redactUrl } from "../redact.js";

/**
 * The origins a namespace may be pointed at through the API, so the service cannot be turned
 * into a proxy for whoever may change policies. Entries are gRPC targets `host:port` (`*` as
 * the first host label, or as the port, matches any) and URL prefixes `scheme://host[:port]/path`
 * (same scheme and host, path starting with the prefix's path). Origins named in the config
 * file are always allowed: the operator wrote them.
 *
 *   const allow = new OriginAllowlist(["*.origins.internal:7000", "https://api.internal/v1/"], configured);
 *   allow.check(policy.loader); // PERMISSION_DENIED for anything else
 */
export class OriginAllowlist {
  private readonly targets: { host: string; port: string }[] = [];
  private readonly prefixes: URL[] = [];

  constructor(entries: readonly string[], configured: readonly OriginPolicy[] = []) {
    for (const entry of entries) this.add(entry);
    for (const policy of configured) for (const target of targetsOf(policy)) this.add(target);
  }

  /** Throws PERMISSION_DENIED naming the first target of the origins that is not allowed. */
  checkPair(pair: OriginPair): void {
    for (const policy of [pair.loader, pair.writer, pair.fallback]) if (policy) this.check(policy);
  }

  /** Throws PERMISSION_DENIED when an origin names a target that is not allowed. */
  check(policy: OriginPolicy): void {
    for (const target of targetsOf(policy)) {
      if (!this.allows(target)) {
        throw new CacheError(
          Status.PERMISSION_DENIED,
          `origin ${describe(target)} is not in origins.allowedTargets; an operator must allow it in the config first`,
        );
      }
    }
  }

  /** Whether one gRPC target or URL may be called. */
  allows(target: string): boolean {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(target)) {
      const url = parseUrl(target);
      return (
        url !== undefined &&
        url.username === "" &&
        url.password === "" &&
        this.prefixes.some(
          (prefix) =>
            prefix.protocol === url.protocol && prefix.host === url.host && url.pathname.startsWith(prefix.pathname),
        )
      );
    }
    const parsed = splitTarget(target);
    if (!parsed) return false;
    return this.targets.some(
      ({ host, port }) =>
        (port === "*" || port === parsed.port) &&
        (host === parsed.host || (host.startsWith("*.") && parsed.host.endsWith(host.slice(1)))),
    );
  }

  private add(entry: string): void {
    if (/^[a-z][a-z0-9+.-]*:\/\//i.test(entry)) {
      const url = parseUrl(entry);
      if (!url) throw new Error(`origins.allowedTargets: "${entry}" is not a URL`);
      this.prefixes.push(url);
      return;
    }
    const parsed = splitTarget(entry);
    if (!parsed) throw new Error(`origins.allowedTargets: "${entry}" is neither host:port nor a URL prefix`);
    this.targets.push(parsed);
  }
}

/** Every address an origin policy makes the service call. */
function targetsOf(policy: OriginPolicy): string[] {
  switch (policy.kind.case) {
    case "grpc":
      return [policy.kind.value.target];
    case "http":
      return [policy.kind.value.urlTemplate, policy.kind.value.bulkUrl].filter((u) => u !== "");
    default:
      return [];
  }
}

/** A URL with its `{key}`/`{namespace}` placeholders filled, parsed; undefined when it is not one. */
function parseUrl(template: string): URL | undefined {
  try {
    return new URL(template.replace(/\{(key|namespace)\}/g, "x"));
  } catch {
    return undefined;
  }
}

function splitTarget(target: string): { host: string; port: string } | undefined {
  const match = /^(\[[0-9a-f:]+\]|[^:/\s]+):(\d{1,5}|\*)$/i.exec(target.replace(/^dns:(\/\/\/)?/, ""));
  return match ? { host: (match[1] as string).toLowerCase(), port: match[2] as string } : undefined;
}

/** A target for a message: URLs without their query or credentials. */
function describe(target: string): string {
  const url = parseUrl(target);
  return url ? `${url.protocol}//${url.host}${url.pathname}` : target;
}

/**
 * The origin as GetPolicy shows it: header and metadata values, credentials in URLs and query
 * values replaced by {@link REDACTED}.
 */
export function redactOrigin(policy: OriginPolicy): OriginPolicy {
  const kind = policy.kind;
  if (kind.case === "http") {
    const http = kind.value;
    return {
      ...policy,
      kind: {
        case: "http",
        value: {
          ...http,
          urlTemplate: redactUrl(http.urlTemplate),
          bulkUrl: redactUrl(http.bulkUrl),
          headers: Object.fromEntries(Object.keys(http.headers).map((name) => [name, REDACTED])),
        },
      },
    };
  }
  if (kind.case === "grpc") {
    const grpc = kind.value;
    return {
      ...policy,
      kind: {
        case: "grpc",
        value: { ...grpc, metadata: Object.fromEntries(Object.keys(grpc.metadata).map((name) => [name, REDACTED])) },
      },
    };
  }
  return policy;
}

/**
 * An origin sent back through the API with {@link REDACTED} values: each redacted header,
 * metadata value or URL keeps the value of `current` (the origin in force), so a policy read
 * with GetPolicy and written back changes no secret.
 */
export function restoreRedacted(next: OriginPolicy, current: OriginPolicy | undefined): OriginPolicy {
  const kind = next.kind;
  const before = current?.kind;
  if (kind.case === "http") {
    const old = before?.case === "http" ? before.value : undefined;
    const keep = (value: string, previous: string | undefined) =>
      value.includes(REDACTED) && previous !== undefined && redactUrl(previous) === value ? previous : value;
    const value = {
      ...kind.value,
      urlTemplate: keep(kind.value.urlTemplate, old?.urlTemplate),
      bulkUrl: keep(kind.value.bulkUrl, old?.bulkUrl),
      headers: restoreMap(kind.value.headers, old?.headers, "header"),
    };
    return { ...next, kind: { case: "http", value } };
  }
  if (kind.case === "grpc") {
    const old = before?.case === "grpc" ? before.value : undefined;
    const value = { ...kind.value, metadata: restoreMap(kind.value.metadata, old?.metadata, "metadata") };
    return { ...next, kind: { case: "grpc", value } };
  }
  return next;
}

/** Header or metadata values sent back: a redacted one keeps its value in force, or is refused. */
function restoreMap(
  sent: Record<string, string>,
  inForce: Record<string, string> | undefined,
  what: string,
): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(sent)) {
    if (value !== REDACTED) out[name] = value;
    else if (inForce?.[name] !== undefined) out[name] = inForce[name];
    else throw new CacheError(Status.INVALID_ARGUMENT, `loader ${what} ${name}: set a value, not ${REDACTED}`);
  }
  return out;
}

import { hash, timingSafeEqual } from "node:crypto";
import type { PeerCertificate } from "node:tls";
import type { DescMethod } from "@bufbuild/protobuf";
import { createContextKey, type HandlerContext } from "@connectrpc/connect";
import { readSecret } from "../config/secrets.js";
import { CacheError, Status } from "../errors.js";
import { requestHeader } from "./call-headers.js";
import type { Interceptor } from "./interceptors.js";

/** What a credential may do in the namespaces it covers. */
export type Right = "read" | "write" | "admin";

/** Rights over the namespaces matching some patterns: `*` (all), `prefix*`, or a name. */
export interface Grant {
  namespaces: readonly string[];
  rights: readonly Right[];
}

/** A bearer token in the config: the secret itself, or where to read it from. */
export interface TokenConfig extends Grant {
  name: string;
  token?: string | undefined;
  tokenFile?: string | undefined;
  tokenEnv?: string | undefined;
}

/** A client certificate identity (mutual TLS): its subject common name or one of its SANs. */
export interface IdentityConfig extends Grant {
  name: string;
  commonName?: string | undefined;
  san?: string | undefined;
}

/** The `auth` section of the config. */
export interface AuthConfig {
  disabled: boolean;
  tokens: readonly TokenConfig[];
  identities: readonly IdentityConfig[];
  /** Reachable without a credential (health always is). */
  open: { reflection: boolean; metrics: boolean };
}

/** Who is calling, and what they may do. */
export interface Principal {
  readonly name: string;
  /** Whether the principal holds `right` in `namespace`. */
  may(right: Right, namespace: string): boolean;
  /** Whether the principal holds `right` in every namespace (a `*` grant). */
  mayEverywhere(right: Right): boolean;
  /** Whether the principal holds `right` in some namespace. */
  maySomewhere(right: Right): boolean;
}

/** A verified client certificate of the call, where the transport has one (mutual TLS). */
export const peerCertificateKey = createContextKey<PeerCertificate | undefined>(undefined, {
  description: "the caller's verified client certificate",
});

/** The caller of the call, once authenticated (for handlers that filter by rights). */
export const principalKey = createContextKey<Principal | undefined>(undefined, { description: "the caller" });

/** Compiles namespace patterns into one test. */
function namespaceMatcher(patterns: readonly string[]): (namespace: string) => boolean {
  if (patterns.includes("*")) return () => true;
  const exact = new Set(patterns.filter((p) => !p.endsWith("*")));
  const prefixes = patterns.filter((p) => p.endsWith("*")).map((p) => p.slice(0, -1));
  return (namespace) => exact.has(namespace) || prefixes.some((prefix) => namespace.startsWith(prefix));
}

function principal(name: string, grants: readonly Grant[]): Principal {
  const compiled = grants.map((g) => ({
    matches: namespaceMatcher(g.namespaces),
    everywhere: g.namespaces.includes("*"),
    rights: new Set(g.rights),
  }));
  return {
    name,
    may: (right, namespace) => compiled.some((g) => g.rights.has(right) && g.matches(namespace)),
    mayEverywhere: (right) => compiled.some((g) => g.rights.has(right) && g.everywhere),
    maySomewhere: (right) => compiled.some((g) => g.rights.has(right)),
  };
}

// One-shot: no Hash object per call (the bearer token of every request goes through here).
const sha256 = (text: string) => hash("sha256", text, "buffer");

/** The secret of a configured token, read from the config, a file or the environment. */
function tokenSecret(token: TokenConfig, env: NodeJS.ProcessEnv): string {
  const field = `auth.tokens "${token.name}".token`;
  const secret = readSecret(field, { value: token.token, file: token.tokenFile, env: token.tokenEnv }, env);
  if (!secret || secret.length < 16) {
    throw new Error(`auth.tokens "${token.name}": the token must be at least 16 characters`);
  }
  return secret;
}

/**
 * Turns credentials into principals. Tokens are kept only as SHA-256 digests and compared in
 * constant time against every configured digest; they are never logged or echoed.
 *
 *   const auth = new Authenticator(config.auth);
 *   const who = auth.authenticate(headers, certificate); // throws UNAUTHENTICATED
 */
export class Authenticator {
  /**
   * `proven`: the last authorization header that proved the token. A caller sends the same
   * header call after call; comparing it with each token's proven header (in constant time,
   * every token's, like the digests) costs ~0.1 µs where the hash and regular expression cost
   * ~2.5 µs. A header is only ever compared with headers that proved a token already.
   */
  private readonly tokens: { digest: Buffer; principal: Principal; proven: string | undefined }[];
  private readonly identities: { config: IdentityConfig; principal: Principal }[];

  constructor(config: AuthConfig, env: NodeJS.ProcessEnv = process.env) {
    const seen = new Set<string>();
    this.tokens = config.tokens.map((token) => {
      const digest = sha256(tokenSecret(token, env));
      const hex = digest.toString("hex");
      if (seen.has(hex)) throw new Error(`auth.tokens "${token.name}": the same token is configured twice`);
      seen.add(hex);
      return { digest, principal: principal(token.name, [token]), proven: undefined };
    });
    this.identities = config.identities.map((identity) => ({
      config: identity,
      principal: principal(identity.name, [identity]),
    }));
  }

  /** The principal of a bearer token or client certificate; UNAUTHENTICATED without a valid one. */
  authenticate(authorization: string | null, certificate: PeerCertificate | undefined): Principal {
    if (authorization !== null && authorization !== "") {
      let known: Principal | undefined;
      for (const token of this.tokens) if (sameText(authorization, token.proven)) known ??= token.principal;
      if (known) return known;
      const match = /^Bearer\s+(\S+)\s*$/i.exec(authorization);
      if (!match) {
        throw new CacheError(Status.UNAUTHENTICATED, 'the authorization header must be "Bearer <token>"');
      }
      const digest = sha256(match[1] as string);
      let found: Principal | undefined;
      // Every digest is compared, so the time taken says nothing about which one matched.
      for (const token of this.tokens) {
        if (timingSafeEqual(token.digest, digest) && !found) {
          found = token.principal;
          token.proven = authorization;
        }
      }
      if (!found) throw new CacheError(Status.UNAUTHENTICATED, "the bearer token is not valid");
      return found;
    }
    if (certificate) {
      const identity = this.identities.find(({ config }) => certificateMatches(certificate, config));
      if (identity) return identity.principal;
      throw new CacheError(
        Status.UNAUTHENTICATED,
        "the client certificate is valid but names no configured identity (auth.identities)",
      );
    }
    throw new CacheError(
      Status.UNAUTHENTICATED,
      "this service needs a credential: send the header authorization: Bearer <token>, or a client certificate",
    );
  }
}

/**
 * Whether two texts are equal, in a time that depends only on their lengths (a valid header's
 * length is no secret worth keeping: tokens are at least 16 characters of the operator's choice).
 */
function sameText(presented: string, proven: string | undefined): boolean {
  if (proven === undefined || presented.length !== proven.length) return false;
  let difference = 0;
  for (let i = 0; i < presented.length; i++) difference |= presented.charCodeAt(i) ^ proven.charCodeAt(i);
  return difference === 0;
}

/** Whether a verified client certificate is the configured identity. */
function certificateMatches(certificate: PeerCertificate, identity: IdentityConfig): boolean {
  if (identity.commonName !== undefined) {
    const cn = certificate.subject?.CN;
    if ((Array.isArray(cn) ? cn : [cn]).includes(identity.commonName)) return true;
  }
  if (identity.san !== undefined && certificate.subjectaltname) {
    const names = certificate.subjectaltname.split(",").map((entry) => entry.trim().replace(/^[A-Za-z ]+:/, ""));
    if (names.includes(identity.san)) return true;
  }
  return false;
}

/**
 * What a method needs: the right, and where: in each of the namespaces the request touches,
 * in `"every"` namespace (a `*` grant), or in `"some"` namespace (for lists cut down to what
 * the caller may see). Methods without a rule are refused: a new RPC is closed until someone
 * decides who may call it.
 */
export type AccessRule = (request: Record<string, unknown>) => {
  right: Right;
  scope: readonly string[] | "every" | "some";
};

const nsOf = (value: unknown): string => (typeof value === "string" && value !== "" ? value : "default");
const listed = (value: unknown): string[] | undefined =>
  Array.isArray(value) && value.length > 0 ? value.map((v) => nsOf(v)) : undefined;

/** Who may call each method of the API, keyed by `Service.Method`. */
export const ACCESS_RULES: Record<string, AccessRule> = {
  "mlcache.v1.CacheService.Get": (r) => ({ right: "read", scope: [nsOf(r.namespace)] }),
  "mlcache.v1.CacheService.BulkGet": (r) => ({ right: "read", scope: [nsOf(r.namespace)] }),
  "mlcache.v1.CacheService.Set": (r) => ({ right: "write", scope: [nsOf(r.namespace)] }),
  // Emptying a whole namespace (the empty prefix) is an admin's act.
  "mlcache.v1.CacheService.Invalidate": (r) => ({
    right: r.prefix === "" ? "admin" : "write",
    scope: [nsOf(r.namespace)],
  }),
  // Namespaces the caller may not read are left out of the snapshots (see the interceptor).
  "mlcache.v1.CacheService.WatchStats": (r) => ({ right: "read", scope: listed(r.namespaces) ?? "some" }),
  "mlcache.v1.CacheService.Inspect": (r) => ({
    right: "read",
    scope: r.namespace === "" ? "every" : [nsOf(r.namespace)],
  }),
  "mlcache.v1.AdminService.GetPolicy": (r) => ({ right: "admin", scope: [nsOf(r.namespace)] }),
  "mlcache.v1.AdminService.UpdatePolicy": (r) => ({
    right: "admin",
    scope: [nsOf((r.policy as Record<string, unknown> | undefined)?.namespace)],
  }),
  "mlcache.v1.AdminService.ResetPolicy": (r) => ({ right: "admin", scope: [nsOf(r.namespace)] }),
  // The list is cut down to the namespaces the caller administers (see the interceptor).
  "mlcache.v1.AdminService.ListNamespaces": () => ({ right: "admin", scope: "some" }),
  "mlcache.v1.AdminService.ExportStats": (r) => ({ right: "admin", scope: listed(r.namespaces) ?? "every" }),
  "mlcache.v1.AdminService.AdjustTtl": (r) => ({ right: "admin", scope: [nsOf(r.namespace)] }),
  // Key names and read patterns of a namespace: for its administrators.
  "mlcache.v1.AdminService.Advise": (r) => ({ right: "admin", scope: [nsOf(r.namespace)] }),
};

/** The rule of a method, or a refusal for methods nobody decided about. */
function ruleOf(method: DescMethod): AccessRule {
  const rule = ACCESS_RULES[`${method.parent.typeName}.${method.name}`];
  if (rule) return rule;
  return () => {
    throw new CacheError(Status.PERMISSION_DENIED, `${method.parent.typeName}/${method.name} has no access rule`);
  };
}

/**
 * Checks a principal against a method's rule (`ruleOf(method)`, looked up once per method) for a
 * request; PERMISSION_DENIED names what is missing.
 */
export function authorize(principal: Principal, method: DescMethod, rule: AccessRule, request: unknown): void {
  const { right, scope } = rule(request as Record<string, unknown>);
  if (scope === "every") {
    if (principal.mayEverywhere(right)) return;
    throw new CacheError(
      Status.PERMISSION_DENIED,
      `${principal.name} may not ${method.name} across every namespace: it needs the ${right} right on "*"; name a namespace instead`,
    );
  }
  if (scope === "some") {
    if (principal.maySomewhere(right)) return;
    throw new CacheError(
      Status.PERMISSION_DENIED,
      `${principal.name} may not ${method.name}: it has the ${right} right nowhere`,
    );
  }
  for (const namespace of scope) {
    if (!principal.may(right, namespace)) {
      throw new CacheError(
        Status.PERMISSION_DENIED,
        `${principal.name} may not ${method.name} in namespace ${namespace}: it needs the ${right} right there`,
      );
    }
  }
}

/** The credential of a call: its authorization header and verified client certificate. */
function credentialOf(context: HandlerContext): [string | null, PeerCertificate | undefined] {
  return [requestHeader(context, "authorization"), context.values.get(peerCertificateKey)];
}

/** Keeps, of a message list with `name`/`namespace` fields, what the caller holds `right` on. */
function visible<T extends { namespace?: string; name?: string }>(items: T[], principal: Principal, right: Right): T[] {
  return items.filter((item) => principal.may(right, item.namespace ?? item.name ?? "default"));
}

/** The parts of a WatchStats message that name namespaces. */
interface WatchStatsMessage {
  snapshot?: { namespaces: { namespace: string }[]; anomalies: { namespace: string }[] };
}

/**
 * The interceptor that authenticates every call and checks its rights before the handler runs.
 * Lists that span namespaces (WatchStats snapshots, ListNamespaces) are cut down to what the
 * caller may see.
 */
export function authInterceptor(authenticator: Authenticator): Interceptor {
  const admit = (method: DescMethod, rule: AccessRule, request: unknown, context: HandlerContext): Principal => {
    const [authorization, certificate] = credentialOf(context);
    const who = authenticator.authenticate(authorization, certificate);
    authorize(who, method, rule, request);
    context.values.set(principalKey, who);
    return who;
  };
  return {
    unary: (method, next) => {
      const listsNamespaces = method.name === "ListNamespaces";
      const rule = ruleOf(method);
      return (request, context) => {
        let who: Principal;
        try {
          who = admit(method, rule, request, context);
        } catch (error) {
          return Promise.reject(error);
        }
        if (!listsNamespaces) return next(request, context);
        return next(request, context).then((response) => {
          const list = response as { namespaces: { name: string }[] };
          list.namespaces = visible(list.namespaces, who, "admin");
          return response;
        });
      };
    },
    stream: (method, next) => {
      const filtersSnapshots = method.name === "WatchStats";
      const rule = ruleOf(method);
      return async function* (request, context) {
        const who = admit(method, rule, request, context);
        for await (const message of next(request, context)) {
          const snapshot = filtersSnapshots ? (message as WatchStatsMessage).snapshot : undefined;
          // A copy: one snapshot may go to many subscribers with other rights.
          yield snapshot
            ? {
                ...(message as WatchStatsMessage),
                snapshot: {
                  ...snapshot,
                  namespaces: visible(snapshot.namespaces, who, "read"),
                  anomalies: visible(snapshot.anomalies, who, "read"),
                },
              }
            : message;
        }
      };
    },
  };
}

/** Whether a bind address only accepts connections from this machine. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || host === "::1" || /^127\.\d+\.\d+\.\d+$/.test(host);
}

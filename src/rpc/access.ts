import type { Config } from "../config/config.js";
import { CacheError, Status } from "../errors.js";
import type { Logger } from "../logger.js";
import { Authenticator, authInterceptor, isLoopback } from "./auth.js";
import type { Interceptor } from "./interceptors.js";
import type { Rate } from "./rate-limits.js";

/** How one instance checks its callers, on both ports. */
export interface AccessControl {
  /** Empty when authentication is off. */
  interceptors: Interceptor[];
  /** Set when reflection needs a credential. */
  reflectionGuard: ((authorization: string | null) => void) | undefined;
  /** Set when `/metrics` needs a credential (read on every namespace). */
  metricsGuard: ((authorization: string | null) => void) | undefined;
  /** Request rates of particular credentials, by name. */
  credentialRates: ReadonlyMap<string, Rate>;
}

/**
 * Authentication and rights from the `auth` section. Refuses to start an instance that would
 * serve a non-loopback address to anyone, unless `auth.disabled` says so explicitly.
 */
export function accessControl(config: Config, logger: Logger): AccessControl {
  const auth = config.auth;
  const host = config.server.host;
  if (!auth || auth.disabled) {
    if (!auth && !isLoopback(host)) {
      throw new Error(
        `refusing to serve ${host} without authentication: configure auth.tokens (or auth.identities), or set auth.disabled: true to allow anyone who reaches the ports`,
      );
    }
    if (auth?.disabled)
      logger.warn({ host }, "authentication is disabled (auth.disabled): every caller may do anything");
    return { interceptors: [], reflectionGuard: undefined, metricsGuard: undefined, credentialRates: new Map() };
  }
  const authenticator = new Authenticator(auth);
  const credentialNeeded = (what: string) => (authorization: string | null) => {
    const who = authenticator.authenticate(authorization, undefined);
    if (!who.mayEverywhere("read")) {
      throw new CacheError(
        Status.PERMISSION_DENIED,
        `${who.name} may not read ${what}: it needs the read right on "*"`,
      );
    }
  };
  logger.info({ tokens: auth.tokens.length, identities: auth.identities.length }, "authentication on");
  return {
    interceptors: [authInterceptor(authenticator)],
    reflectionGuard: auth.open.reflection ? undefined : credentialNeeded("the API schema (reflection)"),
    metricsGuard: auth.open.metrics ? undefined : credentialNeeded("metrics"),
    credentialRates: new Map(
      [...auth.tokens, ...auth.identities].flatMap((c) => (c.rate ? [[c.name, c.rate] as const] : [])),
    ),
  };
}

/** A single-node Redis address as `redis://` or `rediss://` URLs write it. */
export interface RedisUrl {
  /** `rediss://`: the connection speaks TLS. */
  tls: boolean;
  host: string;
  port: number;
  db: number;
  /** The ACL user, when the URL names one. */
  username?: string | undefined;
  password?: string | undefined;
}

/**
 * Parses `redis[s]://[[user]:password@]host[:port][/db]`. Unlike WHATWG URL parsing, the
 * credentials end at the last `@`, so a password may hold `@`, `/` or `:` unescaped (as
 * redactUrl reads it); percent-escapes in the credentials are decoded when they are valid.
 * Throws an Error saying what is wrong, never repeating the password.
 *
 *   parseRedisUrl("rediss://app:p@ss/w0rd@cache:6380/2")
 *   // { tls: true, host: "cache", port: 6380, db: 2, username: "app", password: "p@ss/w0rd" }
 */
export function parseRedisUrl(text: string): RedisUrl {
  const scheme = /^(rediss?):\/\//i.exec(text);
  if (!scheme) throw new Error("must start with redis:// or rediss://");
  let rest = text.slice(scheme[0].length);
  if (/[?#]/.test(rest)) throw new Error("query parameters are not supported: use the redis.* fields");
  let username: string | undefined;
  let password: string | undefined;
  const at = rest.lastIndexOf("@");
  if (at !== -1) {
    const credentials = rest.slice(0, at);
    rest = rest.slice(at + 1);
    const colon = credentials.indexOf(":");
    // `redis://word@host` reads as a user to some tools and a password to others: refuse it.
    if (colon === -1) throw new Error("write the credentials as user:password@ or :password@");
    const user = credentials.slice(0, colon);
    username = user === "" ? undefined : decode(user);
    password = decode(credentials.slice(colon + 1));
  }
  const match = /^(\[[0-9a-f:.]+\]|[^:/[\]]+)(?::(\d{1,5}))?(?:\/(\d{1,5})?)?$/i.exec(rest);
  if (!match) throw new Error("expected host[:port][/db] after the scheme");
  const port = match[2] === undefined ? 6379 : Number(match[2]);
  if (port < 1 || port > 65535) throw new Error(`port ${port} is out of range`);
  return {
    tls: (scheme[1] as string).toLowerCase() === "rediss",
    host: (match[1] as string).replace(/^\[|\]$/g, ""),
    port,
    db: match[3] === undefined ? 0 : Number(match[3]),
    username,
    password: password === "" ? undefined : password,
  };
}

function decode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text; // a bare % in a password is the password
  }
}

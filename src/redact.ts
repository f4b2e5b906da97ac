/** Stands in for a secret the service does not show: in the API, logs and `check-config`. */
export const REDACTED = "<redacted>";

/**
 * A URL (or URL template) with its password and query values replaced by {@link REDACTED}, for
 * display. The password may hold `@` or `/`: the credentials end at the last `@` before the
 * path. Text that is not a URL comes back unchanged.
 *
 *   redactUrl("redis://app:p@ss/w0rd@cache:6379/0") // "redis://app:<redacted>@cache:6379/0"
 */
export function redactUrl(text: string): string {
  const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(text);
  if (!scheme) return text;
  let rest = text.slice(scheme[0].length);
  // The host starts after the last "@" that comes before the query.
  const queryAt = rest.search(/[?#]/);
  const authorityAndPath = queryAt === -1 ? rest : rest.slice(0, queryAt);
  const at = authorityAndPath.lastIndexOf("@");
  if (at !== -1) {
    const user = authorityAndPath.slice(0, at).split(":")[0] ?? "";
    rest = `${user}:${REDACTED}@${rest.slice(at + 1)}`;
  }
  return scheme[0] + rest.replace(/([?&][^=&#]+=)[^&#]*/g, `$1${REDACTED}`);
}

/** Field and header names whose values are secrets. */
export const SECRET_NAME = /pass(word)?|secret|token|auth|api[-_]?key|credential|cookie|session|private[-_]?key/i;

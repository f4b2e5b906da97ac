import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import { CacheError, Status, type StatusCode } from "../errors.js";
import { redactUrl } from "../redact.js";
import { withTraceContext } from "../telemetry/tracing.js";
import { abortError, isRetryable } from "./failures.js";
import type { StoreErrors, StoreItemInput, Writer } from "./writer.js";

/** Where and how to reach an HTTP origin. */
export interface HttpOriginOptions {
  /** URL with `{key}` and `{namespace}` placeholders (URL-encoded when filled in). */
  urlTemplate: string;
  /** Headers sent with every request (for example `authorization`). */
  headers?: Readonly<Record<string, string>>;
  /**
   * The `user-agent` of every request (the service sends `mlcache (instance <id>)`, so an origin
   * can tell which instance called; policies are fleet-wide and cannot). `headers` may override it.
   */
  userAgent?: string;
  /** Bulk endpoint (may hold `{namespace}`); see {@link HttpOrigin} for its format. Unset: none. */
  bulkUrl?: string;
  /** Method of writes: PUT (default) or POST; deletes use DELETE. */
  writeMethod?: "PUT" | "POST";
  /** Statuses that mean "not found" (default 404). */
  notFoundStatuses?: readonly number[];
  /** Write requests in flight at once within one store call. Default 8. */
  writeParallelism?: number;
}

/** One value in a bulk answer: a UTF-8 string, base64 bytes with extras, an error, or null (not found). */
export type BulkValue =
  | string
  | null
  | { base64: string; ttlMs?: number; version?: string | number; tags?: string[] }
  | { error: { status?: number; message?: string } };

/** The body a bulk endpoint answers: `{"items": {key: value}}`; a key left out is not found. */
export interface BulkAnswer {
  items: Record<string, BulkValue>;
}

const SNIPPET_CHARS = 200;

/**
 * A Loader and Writer for an HTTP origin, over Node's built-in fetch (undici).
 *
 * Reads: GET the URL template. A not-found status (404 by default) is "not found"; 2xx is the
 * value (the body's bytes), with `Cache-Control: max-age=N` as its TTL, `X-Version` (decimal)
 * as its version and `X-Tags` (comma-separated) as its tags; 429 and 5xx are retryable
 * errors (RESOURCE_EXHAUSTED, UNAVAILABLE); other 4xx are not (INVALID_ARGUMENT for 400,
 * FAILED_PRECONDITION and the like); a network failure is UNAVAILABLE.
 *
 * Bulk reads: POST `bulkUrl` with `{"namespace": ns, "keys": [...]}`; the answer is
 * `{"items": {key: value}}` where a value is a UTF-8 string, `{"base64": "…", "ttlMs"?,
 * "version"?, "tags"?}`, `null` (not found) or `{"error": {"status": 503, "message": "…"}}`
 * (that key's failure, mapped like a status). A key left out is not found.
 *
 * Writes: one PUT (or POST) of the value's bytes to the URL template per item, with
 * `X-Version` and `X-Tags`; a deleted item is a DELETE. A retryable failure of any item fails
 * the call (writes carry versions, so retrying the whole call is safe); other failures are
 * reported per key.
 *
 *   const origin = new HttpOrigin({ urlTemplate: "https://api.example.com/products/{key}" });
 */
export class HttpOrigin implements Loader, Writer {
  readonly loadMany?: (
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ) => Promise<Map<string, LoadResult | Error>>;
  private readonly options: HttpOriginOptions;
  private readonly notFound: ReadonlySet<number>;

  constructor(options: HttpOriginOptions) {
    this.options = options;
    this.notFound = new Set(options.notFoundStatuses?.length ? options.notFoundStatuses : [404]);
    const bulkUrl = options.bulkUrl;
    if (bulkUrl) this.loadMany = (namespace, keys, context) => this.bulk(bulkUrl, namespace, keys, context);
  }

  async load(namespace: string, key: string, context: LoadContext): Promise<LoadResult> {
    const url = fill(this.options.urlTemplate, namespace, key);
    const response = await this.fetch(url, { method: "GET" }, context.signal);
    if (this.notFound.has(response.status)) {
      await response.body?.cancel();
      return { found: false };
    }
    if (!response.ok) throw await statusError(url, response);
    const result: LoadResult = { found: true, value: new Uint8Array(await response.arrayBuffer()) };
    const maxAge = /max-age=(\d+)/.exec(response.headers.get("cache-control") ?? "");
    if (maxAge) result.ttlMs = Number(maxAge[1]) * 1000;
    const version = response.headers.get("x-version");
    if (version && /^\d+$/.test(version)) result.version = BigInt(version);
    const tags = response.headers.get("x-tags");
    if (tags)
      result.tags = tags
        .split(",")
        .map((tag) => tag.trim())
        .filter(Boolean);
    return result;
  }

  async store(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors> {
    const signal = context?.signal ?? new AbortController().signal;
    const errors = new Map<string, Error>();
    const parallelism = Math.max(1, this.options.writeParallelism ?? 8);
    let next = 0;
    const worker = async () => {
      while (next < items.length) {
        const item = items[next++] as StoreItemInput;
        try {
          await this.write(namespace, item, signal);
        } catch (error) {
          errors.set(item.key, error instanceof Error ? error : new Error(String(error)));
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelism, items.length) }, worker));
    for (const error of errors.values()) if (isRetryable(error)) throw error;
    return errors;
  }

  private async write(namespace: string, item: StoreItemInput, signal: AbortSignal): Promise<void> {
    const url = fill(this.options.urlTemplate, namespace, item.key);
    const headers: Record<string, string> = { "x-version": item.version.toString() };
    if (item.tags.length > 0) headers["x-tags"] = item.tags.join(",");
    const init: RequestInit = item.deleted
      ? { method: "DELETE", headers }
      : {
          method: this.options.writeMethod ?? "PUT",
          headers: { ...headers, "content-type": "application/octet-stream" },
          body: item.value,
        };
    const response = await this.fetch(url, init, signal);
    // Deleting what is not there is done.
    if (item.deleted && this.notFound.has(response.status)) {
      await response.body?.cancel();
      return;
    }
    if (!response.ok) throw await statusError(url, response);
    await response.body?.cancel();
  }

  private async bulk(
    bulkUrl: string,
    namespace: string,
    keys: readonly string[],
    context: LoadContext,
  ): Promise<Map<string, LoadResult | Error>> {
    const url = fill(bulkUrl, namespace, "");
    const response = await this.fetch(
      url,
      {
        method: "POST",
        headers: { "content-type": "application/json", accept: "application/json" },
        body: JSON.stringify({ namespace, keys }),
      },
      context.signal,
    );
    if (!response.ok) throw await statusError(url, response);
    let answer: BulkAnswer;
    try {
      answer = (await response.json()) as BulkAnswer;
    } catch (error) {
      throw new CacheError(
        Status.INTERNAL,
        `origin ${redactUrl(url)} answered a bulk load with invalid JSON: ${String(error)}`,
      );
    }
    if (typeof answer !== "object" || answer === null || typeof answer.items !== "object" || answer.items === null) {
      throw new CacheError(Status.INTERNAL, `origin ${redactUrl(url)} answered a bulk load without an "items" object`);
    }
    const out = new Map<string, LoadResult | Error>();
    for (const key of keys) {
      if (!Object.hasOwn(answer.items, key)) continue;
      out.set(key, bulkValue(url, key, answer.items[key] as BulkValue));
    }
    return out;
  }

  /** fetch with the configured headers; a network failure becomes UNAVAILABLE. */
  private async fetch(url: string, init: RequestInit, signal: AbortSignal): Promise<Response> {
    if (signal.aborted) throw abortError(signal);
    try {
      const headers = withTraceContext({
        ...(this.options.userAgent ? { "user-agent": this.options.userAgent } : {}),
        ...this.options.headers,
        ...(init.headers as Record<string, string> | undefined),
      });
      return await fetch(url, { ...init, headers, signal });
    } catch (error) {
      if (signal.aborted) throw abortError(signal);
      const cause = (error as { cause?: { code?: string; message?: string } }).cause;
      const reason = cause?.code ?? cause?.message ?? (error instanceof Error ? error.message : String(error));
      throw new CacheError(Status.UNAVAILABLE, `cannot reach origin ${redactUrl(url)}: ${reason}`);
    }
  }
}

/** The URL for a key: placeholders replaced by their URL-encoded values. */
export function fill(template: string, namespace: string, key: string): string {
  return template.replaceAll("{namespace}", encodeURIComponent(namespace)).replaceAll("{key}", encodeURIComponent(key));
}

/** The gRPC code for a failed HTTP status: 429 and 5xx retryable, other 4xx not. */
export function codeForHttpStatus(status: number): StatusCode {
  if (status === 429) return Status.RESOURCE_EXHAUSTED;
  if (status === 408) return Status.DEADLINE_EXCEEDED;
  if (status >= 500) return Status.UNAVAILABLE;
  if (status === 400 || status === 422) return Status.INVALID_ARGUMENT;
  if (status === 401) return Status.UNAUTHENTICATED;
  if (status === 403) return Status.PERMISSION_DENIED;
  if (status === 404) return Status.NOT_FOUND;
  return Status.FAILED_PRECONDITION;
}

async function statusError(url: string, response: Response): Promise<CacheError> {
  let snippet = "";
  try {
    snippet = (await response.text()).slice(0, SNIPPET_CHARS);
  } catch {
    // The status says enough.
  }
  const code = codeForHttpStatus(response.status);
  return new CacheError(
    code,
    `origin ${redactUrl(url)} answered HTTP ${response.status}${snippet ? `: ${snippet}` : ""}`,
    {
      httpStatus: String(response.status),
    },
  );
}

function bulkValue(url: string, key: string, value: BulkValue): LoadResult | Error {
  if (value === null) return { found: false };
  if (typeof value === "string") return { found: true, value: new TextEncoder().encode(value) };
  if (typeof value === "object" && "error" in value) {
    const status = value.error?.status ?? 500;
    return new CacheError(
      codeForHttpStatus(status),
      `origin ${redactUrl(url)} failed to load key ${key}: HTTP ${status}${value.error?.message ? ` ${value.error.message}` : ""}`,
      { httpStatus: String(status) },
    );
  }
  if (typeof value === "object" && typeof value.base64 === "string") {
    const result: LoadResult = { found: true, value: new Uint8Array(Buffer.from(value.base64, "base64")) };
    if (typeof value.ttlMs === "number") result.ttlMs = value.ttlMs;
    if (value.version !== undefined && /^\d+$/.test(String(value.version))) result.version = BigInt(value.version);
    if (Array.isArray(value.tags)) result.tags = value.tags.map(String);
    return result;
  }
  return new CacheError(Status.INTERNAL, `origin ${redactUrl(url)} answered key ${key} with a value of unknown shape`);
}

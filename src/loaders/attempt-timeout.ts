import { CacheError, Status } from "../errors.js";
import { abortError } from "./failures.js";

/**
 * Runs one attempt with its own signal, aborted when `parent` aborts or `timeoutMs` passes
 * (then with DEADLINE_EXCEEDED). The attempt is also abandoned at that moment even if the
 * callee ignores its signal. `timeoutMs` ≤ 0: no timeout of its own.
 *
 *   await withAttemptTimeout((signal) => fetch(url, { signal }), 500, context.signal, "products");
 */
export function withAttemptTimeout<T>(
  attempt: (signal: AbortSignal) => Promise<T>,
  timeoutMs: number,
  parent: AbortSignal,
  name: string,
): Promise<T> {
  if (parent.aborted) return Promise.reject(abortError(parent));
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    let timer: NodeJS.Timeout | undefined;
    const finish = () => {
      clearTimeout(timer);
      parent.removeEventListener("abort", onParentAbort);
    };
    const onParentAbort = () => {
      finish();
      const error = abortError(parent);
      controller.abort(error);
      reject(error);
    };
    parent.addEventListener("abort", onParentAbort, { once: true });
    if (timeoutMs > 0) {
      timer = setTimeout(() => {
        finish();
        const error = new CacheError(
          Status.DEADLINE_EXCEEDED,
          `${name} did not answer within its per-attempt timeout of ${timeoutMs} ms`,
        );
        controller.abort(error);
        reject(error);
      }, timeoutMs);
    }
    Promise.resolve()
      .then(() => attempt(controller.signal))
      .then(
        (value) => {
          finish();
          resolve(value);
        },
        (error: unknown) => {
          finish();
          reject(error);
        },
      );
  });
}

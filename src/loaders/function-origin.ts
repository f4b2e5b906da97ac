import type { LoadContext, Loader, LoadResult } from "../engine/loader.js";
import type { StoreErrors, StoreItemInput, Writer } from "./writer.js";

/** The functions of an in-process origin; only `load` is required. */
export interface FunctionOriginFunctions {
  load(namespace: string, key: string, context: LoadContext): Promise<LoadResult>;
  /** Loads many keys at once; a key left out is not found, a key's Error is its failure. */
  loadMany?(namespace: string, keys: readonly string[], context: LoadContext): Promise<Map<string, LoadResult | Error>>;
  store?(namespace: string, items: readonly StoreItemInput[], context?: LoadContext): Promise<StoreErrors | undefined>;
}

/**
 * An origin made of in-process functions (library use), with the same shape as the remote
 * kinds so that it sits behind the same breaker, retry and limits.
 *
 *   const origin = functionOrigin({ load: async (ns, key) => ({ found: true, value: await db.get(key) }) });
 */
export function functionOrigin(functions: FunctionOriginFunctions): { loader: Loader; writer: Writer | undefined } {
  const loader: Loader = { load: (namespace, key, context) => functions.load(namespace, key, context) };
  const loadMany = functions.loadMany?.bind(functions);
  if (loadMany) loader.loadMany = (namespace, keys, context) => loadMany(namespace, keys, context);
  const store = functions.store?.bind(functions);
  const writer: Writer | undefined = store
    ? { store: (namespace, items, context) => store(namespace, items, context) }
    : undefined;
  return { loader, writer };
}

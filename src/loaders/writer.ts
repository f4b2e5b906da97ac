import type { LoadContext } from "../engine/loader.js";
import type { StoreErrors, StoreItemInput, Writer } from "../engine/writer.js";

export type { StoreErrors, StoreItemInput, Writer } from "../engine/writer.js";

/** A Writer made from a plain function. */
export function writerFunction(
  store: (
    namespace: string,
    items: readonly StoreItemInput[],
    context?: LoadContext,
  ) => Promise<StoreErrors | undefined>,
): Writer {
  return { store };
}

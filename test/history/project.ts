// Where the project is, from the TypeScript sources (vitest) or their compiled copy (dist/).

import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";

/** The directory holding the project's package.json. */
export const PROJECT_ROOT = findRoot(import.meta.dirname);

function findRoot(start: string): string {
  for (let dir = start; ; dir = dirname(dir)) {
    const manifest = join(dir, "package.json");
    if (
      existsSync(manifest) &&
      (JSON.parse(readFileSync(manifest, "utf8")) as { name?: string }).name === "multilayer-cache"
    ) {
      return dir;
    }
    if (dirname(dir) === dir) throw new Error(`no multilayer-cache package.json above ${start}`);
  }
}

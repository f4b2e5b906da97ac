#!/usr/bin/env node
// The `mlcache` command. Runs the compiled CLI (`npm run build` makes dist/).
import { main } from "../dist/src/cli/main.js";

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error) => {
    process.stderr.write(`mlcache: ${error instanceof Error ? error.message : String(error)}\n`);
    process.exitCode = 1;
  },
);

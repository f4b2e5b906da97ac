import { parseArgs } from "node:util";
import { toJson } from "@bufbuild/protobuf";
import { durationFromMs, durationMs } from "@bufbuild/protobuf/wkt";
import { ConnectError } from "@connectrpc/connect";
import { parseDuration } from "../config/units.js";
import { statusName } from "../errors.js";
import { WatchStatsResponseSchema } from "../gen/mlcache/v1/cache_pb.js";
import { type Item, Source } from "../gen/mlcache/v1/common_pb.js";
import { CONNECTION_OPTIONS, cacheClient } from "./connection.js";

/** The client commands `mlcache` knows. */
export const CLIENT_COMMANDS = new Set(["get", "set", "invalidate", "stats"]);

const common = {
  ...CONNECTION_OPTIONS,
  namespace: { type: "string", short: "n", default: "" },
} as const;

/** An item as one JSON line: the value as UTF-8 text when it is text, else base64. */
export function itemJson(item: Item): Record<string, unknown> {
  const text = new TextDecoder("utf-8", { fatal: false }).decode(item.value);
  const isText = !text.includes("\uFFFD");
  return {
    key: item.key,
    found: item.found,
    ...(isText ? { value: text } : { valueBase64: Buffer.from(item.value).toString("base64") }),
    source: Source[item.source] ?? item.source,
    stale: item.stale,
    ageMs: item.age ? durationMs(item.age) : 0,
    ttlRemainingMs: item.ttlRemaining ? durationMs(item.ttlRemaining) : 0,
    version: item.version.toString(),
    tags: item.tags,
  };
}

async function readStdin(): Promise<Uint8Array> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks);
}

/** Runs one client command against a running server; resolves to the exit code. */
export async function clientCommand(command: string, args: string[]): Promise<number> {
  try {
    return await run(command, args);
  } catch (error) {
    if (error instanceof ConnectError) {
      process.stderr.write(`mlcache ${command}: ${statusName(error.code)}: ${error.rawMessage}\n`);
      return 1;
    }
    throw error;
  }
}

async function run(command: string, args: string[]): Promise<number> {
  const out = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
  switch (command) {
    case "get": {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { ...common, raw: { type: "boolean", default: false } },
      });
      if (positionals.length !== 1) throw new Error("usage: mlcache get KEY [-n NAMESPACE] [--raw]");
      const response = await cacheClient(values).get({ namespace: values.namespace, key: positionals[0] });
      const item = response.item;
      if (!item?.found) {
        process.stderr.write(`not found: ${positionals[0]}\n`);
        return 3;
      }
      if (values.raw) process.stdout.write(item.value);
      else out(itemJson(item));
      return 0;
    }
    case "set": {
      const { values, positionals } = parseArgs({
        args,
        allowPositionals: true,
        options: { ...common, ttl: { type: "string" }, tag: { type: "string", multiple: true, default: [] } },
      });
      if (positionals.length !== 2) throw new Error("usage: mlcache set KEY VALUE [-n NS] [--ttl 30s] [--tag T]");
      const value = positionals[1] === "-" ? await readStdin() : new TextEncoder().encode(positionals[1]);
      const response = await cacheClient(values).set({
        namespace: values.namespace,
        key: positionals[0],
        value,
        tags: values.tag,
        ...(values.ttl ? { ttl: durationFromMs(parseDuration(values.ttl)) } : {}),
      });
      out({ version: response.version.toString(), applied: response.applied });
      return 0;
    }
    case "invalidate": {
      const { values } = parseArgs({
        args,
        options: {
          ...common,
          key: { type: "string", multiple: true, default: [] },
          tag: { type: "string", multiple: true, default: [] },
          prefix: { type: "string" },
        },
      });
      const response = await cacheClient(values).invalidate({
        namespace: values.namespace,
        keys: values.key,
        tags: values.tag,
        ...(values.prefix !== undefined ? { prefix: values.prefix } : {}),
      });
      out({ keysRemoved: response.keysRemoved, published: response.published });
      return 0;
    }
    case "stats": {
      const { values } = parseArgs({
        args,
        options: {
          ...CONNECTION_OPTIONS,
          namespace: { type: "string", short: "n", multiple: true, default: [] },
          watch: { type: "boolean", short: "w", default: false },
          interval: { type: "string", default: "1s" },
          "hot-keys": { type: "string", default: "0" },
        },
      });
      const abort = new AbortController();
      process.once("SIGINT", () => abort.abort());
      const stream = cacheClient(values).watchStats(
        {
          interval: durationFromMs(parseDuration(values.interval)),
          namespaces: values.namespace,
          hotKeys: Number(values["hot-keys"]),
        },
        { signal: abort.signal },
      );
      try {
        for await (const message of stream) {
          out(toJson(WatchStatsResponseSchema, message));
          if (!values.watch) break;
        }
      } catch (error) {
        if (abort.signal.aborted) return 0;
        throw error;
      } finally {
        // Leaving the loop does not end the call on this transport: cancel it explicitly.
        abort.abort();
      }
      return 0;
    }
    default:
      throw new Error(`unknown command ${command}`);
  }
}

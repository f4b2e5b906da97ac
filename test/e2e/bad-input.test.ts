// End to end: bad input to every RPC gets INVALID_ARGUMENT with a message a person can act
// on, on both ports.

import { durationFromMs } from "@bufbuild/protobuf/wkt";
import { describe, expect, it } from "vitest";
import type { CacheLayer, WriteMode } from "../../src/gen/mlcache/v1/common_pb.js";
import { Code, rejection, streamRejection } from "../support/service.js";
import { CLIENT_KINDS, clientsFor, serviceForFile, text } from "./harness.js";

const service = serviceForFile();
describe.each(CLIENT_KINDS)("through %s", (kind) => {
  const { cache, admin, ns } = clientsFor(service, kind);

  describe("bad input", () => {
    const invalid = async (call: Promise<unknown>, message: RegExp) => {
      const error = await rejection(call);
      expect(error.code).toBe(Code.InvalidArgument);
      expect(error.rawMessage).toMatch(message);
    };

    it("is refused with INVALID_ARGUMENT and a message naming the problem; the server keeps serving", async () => {
      const namespace = ns("bad");
      await cache.set({ namespace, key: "good", value: text("still here") });

      await invalid(cache.get({ namespace, key: "" }), /key must not be empty/);
      await invalid(cache.set({ namespace, key: "", value: text("v") }), /key must not be empty/);
      await invalid(cache.get({ namespace, key: "k".repeat(1025) }), /1025 bytes.*at most 1024/);
      // Multi-byte UTF-8: 513 two-byte characters are 1026 bytes.
      await invalid(cache.get({ namespace, key: "é".repeat(513) }), /1026 bytes/);
      await invalid(
        cache.set({ namespace, key: "k", value: text("v"), writeMode: 99 as WriteMode }),
        /write_mode has unknown value 99/,
      );
      await invalid(
        cache.get({ namespace, key: "k", options: { bypassLayers: [7 as CacheLayer] } }),
        /bypass_layers\[0\] has unknown value 7/,
      );
      await invalid(
        cache.set({ namespace, key: "big", value: new Uint8Array(1024 * 1024 + 1) }),
        /1048577 bytes.*at most 1048576/,
      );
      await invalid(cache.get({ namespace: "Bad Namespace!", key: "k" }), /namespace "Bad Namespace!" is not valid/);
      await invalid(
        cache.set({ namespace: "Bad Namespace!", key: "k", value: text("v") }),
        /namespace "Bad Namespace!" is not valid/,
      );
      await invalid(cache.invalidate({ namespace }), /at least one of keys, tags or prefix/);
      await invalid(cache.bulkGet({ namespace, keys: [] }), /at least one key/);
      await invalid(
        cache.set({ namespace, key: "k", value: text("v"), ttl: durationFromMs(1000), freshFor: durationFromMs(2000) }),
        /fresh_for must not be longer than ttl/,
      );
      const watchError = await streamRejection(
        cache.watchStats({ interval: durationFromMs(10), namespaces: [namespace] }),
      );
      expect(watchError.code).toBe(Code.InvalidArgument);
      expect(watchError.rawMessage).toMatch(/interval must be at least 100 ms/);

      await invalid(
        admin.updatePolicy({
          policy: { namespace, l1: { ttl: durationFromMs(1000) } },
          updateMask: { paths: ["l1.bogus"] },
        }),
        /l1\.bogus.*no field "bogus"/,
      );
      await invalid(
        admin.updatePolicy({ policy: { namespace, l1: { jitter: 5 } }, updateMask: { paths: ["l1.jitter"] } }),
        /l1\.jitter must be between 0 and 1/,
      );
      await invalid(admin.getPolicy({ namespace: "Bad Namespace!" }), /not valid/);
      // The refused updates left the policy alone.
      expect((await admin.getPolicy({ namespace })).customized).toBe(false);
      // The refused writes wrote nothing.
      expect((await cache.get({ namespace, key: "big" })).item?.found).toBe(false);

      const { item } = await cache.get({ namespace, key: "good" });
      expect(item?.found).toBe(true);
      expect(new TextDecoder().decode(item?.value)).toBe("still here");
    });
  });
});

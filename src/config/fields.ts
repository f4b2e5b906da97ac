// Field types shared by the configuration's sections: ports, sizes and durations written the
// way people write them ("16MiB", "5s"), request rates, and policies in their YAML form.
import { z } from "zod";
import { parseBytes, parseDuration } from "./units.js";

/** A TCP port (0: any free one). */
export const port = z.number().int().min(0).max(65535);
/** A number, or a string with a unit that `parse` reads; its message becomes the field's. */
function withUnit(parse: (input: string | number) => number) {
  return z.union([z.number(), z.string()]).transform((value, ctx) => {
    try {
      return parse(value);
    } catch (error) {
      ctx.addIssue({ code: "custom", message: (error as Error).message });
      return z.NEVER;
    }
  });
}

/** A size: bytes, or a string with a unit ("64KiB", "256MiB"). */
export const bytes = withUnit(parseBytes);
/** A duration: milliseconds, or a string with a unit ("250ms", "30s", "1h"). */
export const duration = withUnit(parseDuration);
/** A policy in its YAML form, checked later against the protobuf schema. */
export const policy = z.record(z.string(), z.unknown());

/** A request rate: `perSecond` on average, `burst` at once (default: one second's worth). */
export const rate = z
  .object({
    perSecond: z.number().positive().max(10_000_000),
    burst: z.number().int().min(1).max(10_000_000).optional(),
  })
  .strict();

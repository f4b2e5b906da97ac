// fast-check arbitraries for any protobuf-es message, built from its descriptor: random and
// boundary values for every field (huge and negative numbers, unknown enum numbers, long and
// odd strings, deep messages), so every RPC can be fed what an attacker would send.
import { create, type DescField, type DescMessage, type MessageShape, ScalarType } from "@bufbuild/protobuf";
import fc from "fast-check";

const INT32 = fc.oneof(fc.constantFrom(0, 1, -1, 2 ** 31 - 1, -(2 ** 31)), fc.integer());
const UINT32 = fc.oneof(fc.constantFrom(0, 1, 100, 1000, 2 ** 32 - 1), fc.nat());
const INT64 = fc.oneof(
  fc.constantFrom(0n, 1n, -1n, 2n ** 63n - 1n, -(2n ** 63n), 2n ** 53n, 315_576_000_000n),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
);
const UINT64 = fc.oneof(
  fc.constantFrom(0n, 1n, 2n ** 64n - 1n, 2n ** 63n, 2n ** 53n + 1n),
  fc.bigInt({ min: 0n, max: 2n ** 64n - 1n }),
);
const DOUBLE = fc.oneof(
  fc.constantFrom(0, -0, 1, -1, 0.5, 1e308, -1e308, Number.MIN_VALUE, Number.NaN, Number.POSITIVE_INFINITY),
  fc.double(),
);
const STRING = fc.oneof(
  fc.constantFrom("", "default", "products", "*", " ", "\u0000", "a".repeat(2000), "../../etc/passwd", "ключ", "🔑"),
  fc.string({ maxLength: 80 }),
  fc.string({ unit: "binary", maxLength: 40 }),
);
const BYTES = fc.oneof(
  fc.constant(new Uint8Array(0)),
  fc.uint8Array({ maxLength: 256 }),
  fc.constant(new Uint8Array(70_000)),
);

function scalar(type: ScalarType): fc.Arbitrary<unknown> {
  switch (type) {
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      return DOUBLE;
    case ScalarType.INT64:
    case ScalarType.SFIXED64:
    case ScalarType.SINT64:
      return INT64;
    case ScalarType.UINT64:
    case ScalarType.FIXED64:
      return UINT64;
    case ScalarType.INT32:
    case ScalarType.SFIXED32:
    case ScalarType.SINT32:
      return INT32;
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
      return UINT32;
    case ScalarType.BOOL:
      return fc.boolean();
    case ScalarType.STRING:
      return STRING;
    case ScalarType.BYTES:
      return BYTES;
  }
}

/** Values of a field: known and unknown enum numbers, nested messages down to `depth`. */
function fieldValue(field: DescField, depth: number): fc.Arbitrary<unknown> | undefined {
  switch (field.fieldKind) {
    case "scalar":
      return scalar(field.scalar);
    case "enum":
      return fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), INT32);
    case "message":
      return depth > 0 ? messageInit(field.message, depth - 1) : undefined;
    case "list": {
      const item =
        field.listKind === "scalar"
          ? scalar(field.scalar)
          : field.listKind === "enum"
            ? fc.oneof(fc.constantFrom(...field.enum.values.map((v) => v.number)), INT32)
            : depth > 0
              ? messageInit(field.message, depth - 1)
              : undefined;
      if (!item) return undefined;
      return fc.oneof(fc.array(item, { maxLength: 5 }), fc.array(item, { minLength: 1000, maxLength: 1200 }));
    }
    case "map": {
      const value =
        field.mapKind === "scalar"
          ? scalar(field.scalar)
          : field.mapKind === "enum"
            ? INT32
            : depth > 0
              ? messageInit(field.message, depth - 1)
              : undefined;
      if (!value) return undefined;
      return fc.dictionary(fc.string({ maxLength: 20 }), value, { maxKeys: 4 });
    }
  }
}

/** The init object of a message: each field set or left out, oneofs set to one member at most. */
function messageInit(desc: DescMessage, depth: number): fc.Arbitrary<Record<string, unknown>> {
  const parts: Record<string, fc.Arbitrary<unknown>> = {};
  for (const field of desc.fields) {
    if (field.oneof) continue;
    const value = fieldValue(field, depth);
    if (value) parts[field.localName] = fc.option(value, { nil: undefined, freq: 2 });
  }
  for (const oneof of desc.oneofs) {
    const members = oneof.fields
      .map((field) => {
        const value = fieldValue(field, depth);
        return value ? value.map((v) => ({ case: field.localName, value: v })) : undefined;
      })
      .filter((m): m is fc.Arbitrary<{ case: string; value: unknown }> => m !== undefined);
    if (members.length > 0) parts[oneof.localName] = fc.option(fc.oneof(...members), { nil: undefined });
  }
  return fc
    .record(parts)
    .map((record) => Object.fromEntries(Object.entries(record).filter(([, value]) => value !== undefined)));
}

/** Random and boundary messages of a type, most fields sometimes set. */
export function arbitraryMessage<D extends DescMessage>(desc: D, depth = 3): fc.Arbitrary<MessageShape<D>> {
  return messageInit(desc, depth).map((init) => create(desc, init as never) as MessageShape<D>);
}

import { EntryFlags, tombstoneEntry } from "../../engine/entry.js";
import { encodeEntry } from "./envelope.js";
import { LuaScript } from "./lua-script.js";

/**
 * What a write of the script does to its key: store a value, delete leaving a tombstone, or
 * release a load's lease (the key is the lease's, the argument its holder's token).
 */
export type VersionedOp = "set" | "delete" | "release";

/** The script's name for each operation. */
export const OP_CODES: Readonly<Record<VersionedOp, string>> = { set: "s", delete: "d", release: "r" };

// Versioned writes, any number in one call, applied in their order. In the envelope (1-based
// Lua offsets) the version sits at 3..10 and the creation time at 12..19, both big-endian (a
// positive float64's bytes order like the number), so comparing those substrings compares the
// numbers; byte 11 holds the flags. Formats 1 and 2 (sealed) share that clear header, so only
// the magic byte is compared.
//  - "s" (set): never replaces a newer version, nor a tombstone at least as new as the value's
//    creation, nor (for a timed load's value, flag LOAD_TIMED) a value created after it (see
//    entry.ts `replaces`); answers 1 when written.
//  - "d" (delete): leaves the tombstone unless a newer one is there already; answers whether a
//    value (not a tombstone) was present.
//  - "r" (release): deletes a lease key while it still holds the token (the lease's holder, maybe
//    with the '!' of a waiter appended, see leases.ts), and publishes the lease key on the
//    channel given in place of the time to live when a waiter marked it; answers 1 when
//    released. After the set of the value loaded under the lease, in the same call: whoever
//    sees the lease gone, or hears of it, finds the value too.
// A key that cannot be read (another kind of value under the name) is answered with Redis's
// error text and left alone: it fails its own write, not the others of the call.
/** KEYS: data or lease keys; ARGV: three per key: "s", "d" or "r", the envelope or token, a time to live (ms) or channel. */
export const VERSIONED_WRITES = new LuaScript(
  "any",
  `
local answers = {}
for i = 1, #KEYS do
  local op, envelope = ARGV[3 * i - 2], ARGV[3 * i - 1]
  local old = redis.pcall('GET', KEYS[i])
  if type(old) == 'table' and old.err then
    answers[i] = old.err
  elseif op == 'r' then
    answers[i] = 0
    if old and string.sub(old, 1, #envelope) == envelope then
      answers[i] = redis.call('DEL', KEYS[i])
      if string.sub(old, -1) == '!' then redis.pcall('PUBLISH', ARGV[3 * i], KEYS[i]) end
    end
  else
    local comparable = old and string.byte(old, 1) == string.byte(envelope, 1)
    local tombstone = comparable and bit.band(string.byte(old, 11), ${EntryFlags.TOMBSTONE}) ~= 0
    local write, answer = true, 1
    if op == 'd' then
      if not old or tombstone then answer = 0 end
      if tombstone and string.sub(old, 12, 19) >= string.sub(envelope, 12, 19) then write = false end
    elseif tombstone then
      if string.sub(envelope, 12, 19) <= string.sub(old, 12, 19) then write, answer = false, 0 end
    elseif comparable and string.sub(old, 3, 10) > string.sub(envelope, 3, 10) then
      write, answer = false, 0
    elseif comparable and bit.band(string.byte(envelope, 11), ${EntryFlags.LOAD_TIMED}) ~= 0
      and string.sub(envelope, 12, 19) < string.sub(old, 12, 19) then
      write, answer = false, 0
    end
    if write then redis.call('SET', KEYS[i], envelope, 'PX', ARGV[3 * i]) end
    answers[i] = answer
  end
end
return answers`,
);

/** The envelope of a deletion made at `at`: read as absent, refuses older writes. */
export function tombstoneEnvelope(at: number): Buffer {
  return encodeEntry(tombstoneEntry(at));
}

import { EntryFlags, tombstoneEntry } from "../../engine/entry.js";
import { encodeEntry } from "./envelope.js";
import { LuaScript } from "./lua-script.js";

// Versioned write: never replace a newer version, nor a tombstone at least as new as the
// value's creation. In the envelope (1-based Lua offsets) the version sits at 3..10 and the
// creation time at 12..19, both big-endian (a positive float64's bytes order like the number),
// so comparing those substrings compares the numbers; byte 11 holds the flags. Formats 1 and 2
// (sealed) share that clear header, so only the magic byte is compared.
/** KEYS: the data key; ARGV: the envelope, its time to live (ms). Answers 1 when written. */
export const SET_IF_NOT_OLDER = new LuaScript(
  1,
  `
local old = redis.call('GET', KEYS[1])
if old and string.byte(old, 1) == string.byte(ARGV[1], 1) then
  if bit.band(string.byte(old, 11), ${EntryFlags.TOMBSTONE}) ~= 0 then
    if string.sub(ARGV[1], 12, 19) <= string.sub(old, 12, 19) then return 0 end
  elseif string.sub(old, 3, 10) > string.sub(ARGV[1], 3, 10) then
    return 0
  end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
);

// Delete leaving a tombstone (ARGV[1], kept ARGV[2] ms) unless a newer one is there already;
// answers whether a value (not a tombstone) was present.
export const DELETE_WITH_TOMBSTONE = new LuaScript(
  1,
  `
local old = redis.call('GET', KEYS[1])
local present = 1
if not old then present = 0
elseif string.byte(old, 1) == string.byte(ARGV[1], 1) and bit.band(string.byte(old, 11), ${EntryFlags.TOMBSTONE}) ~= 0 then
  present = 0
  if string.sub(old, 12, 19) >= string.sub(ARGV[1], 12, 19) then return 0 end
end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return present`,
);

/** The envelope of a deletion made at `at`: read as absent, refuses older writes. */
export function tombstoneEnvelope(at: number): Buffer {
  return encodeEntry(tombstoneEntry(at));
}

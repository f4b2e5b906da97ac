// WatchStats over the Connect protocol's JSON streaming form, with fetch: the request and every
// response message are envelopes (1 flag byte, 4 length bytes big-endian, JSON); the last
// envelope (flag 0x02) ends the stream and carries the error, if any. The page needs no bundle
// and no generated code for this one call.

const END_STREAM = 0x02;
const WATCH_STATS = "/mlcache.v1.CacheService/WatchStats";

/** An error the server answered with (Connect code and message), as opposed to a dropped connection. */
export class CallError extends Error {
  constructor(code, message) {
    super(message);
    this.code = code;
  }
}

function envelope(message) {
  const json = new TextEncoder().encode(JSON.stringify(message));
  const out = new Uint8Array(5 + json.length);
  new DataView(out.buffer).setUint32(1, json.length);
  out.set(json, 5);
  return out;
}

/**
 * Streams WatchStats snapshots to `onMessage` until the stream ends or `signal` aborts.
 * Resolves when the server ended the stream cleanly; rejects with a CallError when it answered
 * with an error, or with the fetch's own error when the connection failed or dropped.
 */
export async function watchStats({ request, token, signal, onMessage }) {
  const headers = { "content-type": "application/connect+json", "connect-protocol-version": "1" };
  if (token) headers.authorization = `Bearer ${token}`;
  const response = await fetch(WATCH_STATS, { method: "POST", headers, body: envelope(request), signal });
  if (!response.ok || !response.body) {
    // Errors before the stream starts come as plain Connect error JSON with an HTTP status.
    let error = { code: `http_${response.status}`, message: response.statusText };
    try {
      error = await response.json();
    } catch {
      // not JSON: keep the HTTP status
    }
    throw new CallError(error.code ?? `http_${response.status}`, error.message ?? "");
  }
  const reader = response.body.getReader();
  let buffered = new Uint8Array(0);
  for (;;) {
    const { done, value } = await reader.read();
    if (done) throw new Error("the stream was cut before it ended");
    const joined = new Uint8Array(buffered.length + value.length);
    joined.set(buffered);
    joined.set(value, buffered.length);
    buffered = joined;
    while (buffered.length >= 5) {
      const view = new DataView(buffered.buffer, buffered.byteOffset, buffered.length);
      const flags = view.getUint8(0);
      const length = view.getUint32(1);
      if (buffered.length < 5 + length) break;
      const message = JSON.parse(new TextDecoder().decode(buffered.subarray(5, 5 + length)));
      buffered = buffered.slice(5 + length);
      if (flags & END_STREAM) {
        if (message.error) throw new CallError(message.error.code ?? "unknown", message.error.message ?? "");
        return;
      }
      onMessage(message);
    }
  }
}

import { EventEmitter } from "node:events";
import { Code, ConnectError } from "@connectrpc/connect";
import * as grpc from "@grpc/grpc-js";
import { describe, expect, it, vi } from "vitest";
import { CacheService } from "../../../src/gen/mlcache/v1/cache_pb.js";
import { CALL_DONE, type GrpcCall, GrpcCallContext } from "../../../src/rpc/grpc-context.js";

/** Just what the context reads of a grpc-js call. */
function fakeCall(headers: Record<string, string> = {}) {
  const call = new EventEmitter() as EventEmitter & { cancelled: boolean; metadata: grpc.Metadata };
  call.cancelled = false;
  call.metadata = new grpc.Metadata();
  for (const [name, value] of Object.entries(headers)) call.metadata.set(name, value);
  return call;
}

function contextOf(call: ReturnType<typeof fakeCall>, deadline = Number.POSITIVE_INFINITY, shutdown?: AbortSignal) {
  const method = CacheService.method.get;
  return new GrpcCallContext(CacheService, method, "/x", call as unknown as GrpcCall, deadline, shutdown, false);
}

const reasonOf = (signal: AbortSignal) => ConnectError.from(signal.reason).code;

describe("GrpcCallContext", () => {
  it("builds no signal, listener or timer until the signal is read", () => {
    vi.useFakeTimers();
    try {
      const call = fakeCall();
      const context = contextOf(call, Date.now() + 1000);
      expect(call.listenerCount("cancelled")).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(context.signal.aborted).toBe(false);
      expect(call.listenerCount("cancelled")).toBe(1);
      expect(vi.getTimerCount()).toBe(1);
      context.finish(CALL_DONE);
      expect(call.listenerCount("cancelled")).toBe(0);
      expect(vi.getTimerCount()).toBe(0);
      expect(context.signal.reason).toBe(CALL_DONE);
    } finally {
      vi.useRealTimers();
    }
  });

  it("a signal read after the client cancelled is aborted already (CANCELLED)", () => {
    const call = fakeCall();
    const context = contextOf(call);
    call.cancelled = true;
    expect(context.signal.aborted).toBe(true);
    expect(reasonOf(context.signal)).toBe(Code.Canceled);
  });

  it("a signal read earlier aborts when the client cancels", () => {
    const call = fakeCall();
    const context = contextOf(call);
    const signal = context.signal;
    call.cancelled = true;
    call.emit("cancelled", "cancelled");
    expect(reasonOf(signal)).toBe(Code.Canceled);
  });

  it("aborts at the deadline with DEADLINE_EXCEEDED, read before or after it passed", () => {
    vi.useFakeTimers();
    try {
      const early = contextOf(fakeCall(), Date.now() + 50);
      const signal = early.signal;
      vi.advanceTimersByTime(60);
      expect(reasonOf(signal)).toBe(Code.DeadlineExceeded);
      const late = contextOf(fakeCall(), Date.now() - 1);
      expect(reasonOf(late.signal)).toBe(Code.DeadlineExceeded);
      expect(late.timeoutMs()).toBeLessThan(0);
      expect(contextOf(fakeCall()).timeoutMs()).toBeUndefined();
    } finally {
      vi.useRealTimers();
    }
  });

  it("aborts with the shutdown signal's reason, before or after the signal is read", () => {
    const stopping = new AbortController();
    const before = contextOf(fakeCall(), Number.POSITIVE_INFINITY, stopping.signal);
    const signal = before.signal;
    const unavailable = new ConnectError("shutting down", Code.Unavailable);
    stopping.abort(unavailable);
    expect(signal.reason).toBe(unavailable);
    expect(contextOf(fakeCall(), Number.POSITIVE_INFINITY, stopping.signal).signal.reason).toBe(unavailable);
  });

  it("a signal first read after the call finished is aborted with CALL_DONE", () => {
    const context = contextOf(fakeCall());
    context.finish(CALL_DONE);
    expect(context.signal.reason).toBe(CALL_DONE);
  });

  it("answers headers from the metadata as Headers would (first value, whitespace trimmed)", () => {
    const call = fakeCall({ authorization: " Bearer abc  ", "x-one": "1" });
    call.metadata.add("x-one", "2");
    const context = contextOf(call);
    expect(context.header("Authorization")).toBe("Bearer abc");
    expect(context.header("x-none")).toBeNull();
    expect(context.requestHeader.get("authorization")).toBe("Bearer abc");
    expect(context.requestHeader.get("x-one")).toBe("1");
    expect(context.header("x-one")).toBe("1");
  });

  it("gives trailer metadata only when the handler set a trailer", () => {
    const context = contextOf(fakeCall());
    const make = () => new grpc.Metadata();
    expect(context.trailerMetadata(make)).toBeUndefined();
    context.responseTrailer.set("mlcache-x", "y");
    expect(context.trailerMetadata(make)?.get("mlcache-x")).toEqual(["y"]);
  });
});

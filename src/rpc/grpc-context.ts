import type { DescMethod, DescService } from "@bufbuild/protobuf";
import { Code, ConnectError, type ContextValues, createContextValues, type HandlerContext } from "@connectrpc/connect";
import type * as grpc from "@grpc/grpc-js";
import { peerCertificateKey } from "./auth.js";
import type { HeaderReader } from "./call-headers.js";

/** A grpc-js server call of a unary or server-streaming method. */
export type GrpcCall = grpc.ServerUnaryCall<unknown, unknown> | grpc.ServerWritableStream<unknown, unknown>;

const HTTP_WHITESPACE_AROUND = /^[\t\n\r ]+|[\t\n\r ]+$/g;
/** Why a call's signal aborts when the client goes away (one instance: no stack trace per call). */
const CLIENT_CANCELLED = new ConnectError("the client cancelled the call", Code.Canceled);
/** Why a call's signal aborts at its deadline (the message Connect's own contexts use). */
const DEADLINE_EXCEEDED = new ConnectError("the operation timed out", Code.DeadlineExceeded);
/**
 * The reason a finished call's signal is aborted with (releasing its deadline timer and
 * listeners). One shared instance: building an error per call captures a stack trace each
 * time, which showed up as a tenth of the Get path's CPU.
 */
export const CALL_DONE = new ConnectError("the call has completed", Code.Canceled);
/**
 * The Connect handler context of one grpc-js call: deadline, cancellation, shutdown and
 * metadata carried over, as `createHandlerContext` would, but built only as far as the handler
 * reads it. An L1 hit reads none of the signal, headers or trailers, so it pays for no
 * AbortController, timer, listener or Headers; a call that does read them gets the same
 * behaviour as an eagerly built context, because each piece starts from the call's state at the
 * moment it is first read (already cancelled, past the deadline, shutting down).
 */
export class GrpcCallContext implements HandlerContext, HeaderReader {
  readonly protocolName = "grpc";
  readonly requestMethod = "POST";
  private controller: AbortController | undefined;
  private builtRequestHeader: Headers | undefined;
  private headerOut: Headers | undefined;
  private trailer: Headers | undefined;
  private contextValues: ContextValues | undefined;
  private done = false;
  /** The listeners of a built signal, to remove when it aborts. */
  private unwatch: (() => void) | undefined;

  constructor(
    readonly service: DescService,
    readonly method: DescMethod,
    readonly url: string,
    private readonly call: GrpcCall,
    /** When the call's deadline passes, ms since the epoch; Infinity without one. */
    private readonly deadline: number,
    private readonly shutdownSignal: AbortSignal | undefined,
    peerCertificates: boolean,
  ) {
    if (peerCertificates) {
      const certificate = call.getAuthContext()?.sslPeerCertificate;
      this.contextValues = createContextValues();
      if (certificate) this.contextValues.set(peerCertificateKey, certificate);
    }
  }

  /** Ms left until the deadline; undefined without one. */
  timeoutMs(): number | undefined {
    return Number.isFinite(this.deadline) ? this.deadline - Date.now() : undefined;
  }

  get signal(): AbortSignal {
    return (this.controller ?? this.watch()).signal;
  }

  get requestHeader(): Headers {
    if (!this.builtRequestHeader) {
      this.builtRequestHeader = new Headers();
      for (const [name, value] of Object.entries(this.call.metadata.getMap())) {
        if (typeof value === "string") this.builtRequestHeader.set(name, value);
      }
    }
    return this.builtRequestHeader;
  }

  /** One request header, read from the metadata unless the Headers were built already. */
  header(name: string): string | null {
    if (this.builtRequestHeader) return this.builtRequestHeader.get(name);
    const value = this.call.metadata.get(name)[0];
    // As Headers would give it: leading and trailing HTTP whitespace stripped.
    return typeof value === "string" ? value.replace(HTTP_WHITESPACE_AROUND, "") : null;
  }

  get responseHeader(): Headers {
    this.headerOut ??= new Headers();
    return this.headerOut;
  }

  get responseTrailer(): Headers {
    this.trailer ??= new Headers();
    return this.trailer;
  }

  get values(): ContextValues {
    this.contextValues ??= createContextValues();
    return this.contextValues;
  }

  /** The trailer the handler set, as metadata; undefined when it set none. */
  trailerMetadata(metadata: () => grpc.Metadata): grpc.Metadata | undefined {
    if (!this.trailer) return undefined;
    let out: grpc.Metadata | undefined;
    for (const [name, value] of this.trailer) {
      out ??= metadata();
      out.set(name, value);
    }
    return out;
  }

  /** Ends the call's context: its signal (if one was built) aborts with `reason`, timers and listeners go. */
  finish(reason: unknown): void {
    if (this.done) return;
    this.done = true;
    if (this.controller) this.abort(reason);
  }

  /** The signal, built now: aborted already if the call was cancelled, is late or the service is stopping. */
  private watch(): AbortController {
    const controller = new AbortController();
    this.controller = controller;
    if (this.done) {
      controller.abort(CALL_DONE);
      return controller;
    }
    const early = this.deadlinePassed()
      ? DEADLINE_EXCEEDED
      : this.call.cancelled
        ? CLIENT_CANCELLED
        : this.shutdownSignal?.aborted
          ? this.shutdownSignal.reason
          : undefined;
    if (early !== undefined) {
      controller.abort(early);
      return controller;
    }
    const { call, shutdownSignal } = this;
    const timer = Number.isFinite(this.deadline)
      ? setTimeout(() => this.abort(DEADLINE_EXCEEDED), this.deadline - Date.now())
      : undefined;
    const onCancelled = () => this.abort(CLIENT_CANCELLED);
    const onShutdown = () => this.abort(shutdownSignal?.reason);
    call.once("cancelled", onCancelled);
    shutdownSignal?.addEventListener("abort", onShutdown);
    this.unwatch = () => {
      clearTimeout(timer);
      call.off("cancelled", onCancelled);
      shutdownSignal?.removeEventListener("abort", onShutdown);
    };
    return controller;
  }

  private deadlinePassed(): boolean {
    return Number.isFinite(this.deadline) && this.deadline <= Date.now();
  }

  private abort(reason: unknown): void {
    this.unwatch?.();
    this.unwatch = undefined;
    if (this.controller && !this.controller.signal.aborted) this.controller.abort(reason);
  }
}

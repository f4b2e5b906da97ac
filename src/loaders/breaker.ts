import CircuitBreaker from "opossum";
import type { BreakerListener, BreakerState } from "../engine/health.js";
import { CacheError, Status } from "../errors.js";
import { isOriginFailure, RejectedBy, rejection } from "./failures.js";

export type { BreakerListener, BreakerState } from "../engine/health.js";

/** Options of an {@link OriginBreaker}. */
export interface BreakerOptions {
  /** Names the origin in error messages, e.g. `origin for namespace products`. */
  name: string;
  /** Percentage of failed calls in the rolling window above which the breaker opens. */
  errorThresholdPercent: number;
  /** Calls in the window before the breaker may open. */
  volumeThreshold: number;
  /** Milliseconds open before one trial call is let through (half-open). */
  resetTimeoutMs: number;
  /** Length of the rolling statistics window in milliseconds. */
  rollingWindowMs: number;
}

/**
 * An opossum circuit breaker around calls to one origin. Only origin failures count (see
 * `isOriginFailure`): "not found", caller errors and local refusals pass as successes. While
 * open, calls fail fast with UNAVAILABLE and the `breakerState` detail.
 *
 *   const breaker = new OriginBreaker({ name: "origin for namespace products", ... });
 *   const value = await breaker.run(() => fetchIt());
 */
export class OriginBreaker {
  private readonly circuit: CircuitBreaker<[() => Promise<unknown>], unknown>;
  private readonly listeners = new Set<BreakerListener>();
  private readonly options: BreakerOptions;
  private openedAt = 0;

  constructor(options: BreakerOptions) {
    this.options = options;
    this.circuit = new CircuitBreaker((call: () => Promise<unknown>) => call(), {
      name: options.name,
      // Timeouts are the retry layer's per-attempt timeout and the engine's hard timeout.
      timeout: false,
      errorThresholdPercentage: options.errorThresholdPercent,
      volumeThreshold: options.volumeThreshold,
      resetTimeout: options.resetTimeoutMs,
      rollingCountTimeout: options.rollingWindowMs,
      rollingCountBuckets: 10,
      rollingPercentilesEnabled: false,
      enableSnapshots: false,
      errorFilter: (error: unknown) => !isOriginFailure(error),
    });
    this.circuit.on("open", () => {
      this.openedAt = Date.now();
      this.emit("open");
    });
    this.circuit.on("halfOpen", () => this.emit("half-open"));
    this.circuit.on("close", () => this.emit("closed"));
  }

  /** The breaker's state now. */
  state(): BreakerState {
    if (this.circuit.opened) return "open";
    if (this.circuit.halfOpen) return "half-open";
    return "closed";
  }

  /** Calls `listener` on every state change. Returns an unsubscribe. */
  onStateChange(listener: BreakerListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Runs `call` through the breaker; fails fast with UNAVAILABLE while it is open. */
  async run<T>(call: () => Promise<T>): Promise<T> {
    try {
      return (await this.circuit.fire(call)) as T;
    } catch (error) {
      if (error instanceof Error && CircuitBreaker.isOurError(error)) {
        if ((error as { code?: string }).code === "ESHUTDOWN") {
          throw new CacheError(Status.UNAVAILABLE, `${this.options.name} is closed`);
        }
        throw this.openError();
      }
      throw error;
    }
  }

  /** The error a call would get now if the breaker is open (not half-open), else undefined. */
  refusal(): CacheError | undefined {
    return this.circuit.opened ? this.openError() : undefined;
  }

  /** Stops the breaker's timers; later calls fail. */
  close(): void {
    this.circuit.shutdown();
    this.listeners.clear();
  }

  private openError(): CacheError {
    const state = this.state();
    const stats = this.circuit.stats;
    const retryInMs = Math.max(0, this.openedAt + this.options.resetTimeoutMs - Date.now());
    const trial = state === "half-open" ? "a trial call is running" : `next trial call in about ${retryInMs} ms`;
    return rejection(
      Status.UNAVAILABLE,
      RejectedBy.BREAKER,
      `${this.options.name} is unavailable: circuit breaker ${state} after ${stats.failures} failures in ${stats.fires} calls within ${this.options.rollingWindowMs} ms; ${trial}`,
      { breakerState: state === "half-open" ? "half-open" : "open" },
    );
  }

  private emit(state: BreakerState): void {
    for (const listener of this.listeners) {
      try {
        listener(state);
      } catch {
        // A listener's failure must not break the breaker.
      }
    }
  }
}

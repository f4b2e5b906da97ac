/**
 * What a circuit breaker lets through: everything (closed), nothing (open), or one trial call
 * (half-open). The one state of every breaker here: the origins' (loaders/) and Redis' (layers/).
 */
export type BreakerState = "closed" | "open" | "half-open";

/** Told of a breaker's state changes. */
export type BreakerListener = (state: BreakerState) => void;

/** Where a backing service stands (Redis behind L2, Kafka), for health, readiness and stats. */
export interface ServiceHealth {
  name: string;
  up: boolean;
  detail: string;
  /** Writes and invalidations waiting for the service to come back. */
  queued: number;
  /** Open: calls to the service are not made now (they are queued or answered without it). */
  breakerState: BreakerState;
  /** Records of a followed log not applied yet, as of the last fetch (Kafka's invalidations). */
  consumerLag?: number;
}

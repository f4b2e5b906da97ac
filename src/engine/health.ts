/** Where a backing service stands (Redis behind L2, Kafka), for health, readiness and stats. */
export interface ServiceHealth {
  name: string;
  up: boolean;
  detail: string;
  /** Writes and invalidations waiting for the service to come back. */
  queued: number;
  /** Open: calls to the service are not made now (they are queued or answered without it). */
  breakerState: "closed" | "open" | "half-open";
}

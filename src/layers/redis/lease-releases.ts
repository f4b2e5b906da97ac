import { ReleaseWatchers } from "../../engine/release-watchers.js";
import type { RedisClient } from "./connection.js";

/**
 * Word of leases released while another instance waited for them, over Redis pub/sub: the
 * scripts that release a lease marked wanted (leases.ts, versioned-writes.ts) publish its key on
 * `channel`, in the same call that stored the value loaded under it. A waiting instance then
 * polls at once instead of at its next poll (which, doubling from 5 ms, can come half a load
 * later). Word is a hint: it can be late or lost (a wait while the subscription is not in place,
 * just after the start or a reconnection), and the polls stay what a wait relies on.
 *
 * The subscriber connection is opened with the layer (so the word of the first wait is heard
 * too), subscribes whenever it is ready (again after each reconnection) and is closed with the
 * layer. Where Redis refuses the channel (an ACL without it), nothing is heard and waits go by
 * their polls; the scripts publish with `pcall`, so a refused PUBLISH fails no write.
 */
export class LeaseReleases {
  private subscriber: RedisClient | undefined;
  private closed = false;
  /** Whether the subscription is in place now. */
  listening = false;
  /** Whether the first subscription got Redis's answer (taken, or refused by an ACL). */
  answered = false;
  /** Per lease key, those waiting for it. */
  private readonly watchers = new ReleaseWatchers();

  constructor(
    readonly channel: string,
    connect: () => RedisClient,
  ) {
    this.subscribe(connect());
  }

  /** Calls `listener` when one of the leases is released while wanted; returns the end of the watch. */
  watch(leaseKeys: readonly string[], listener: () => void): () => void {
    return this.closed ? () => {} : this.watchers.watch(leaseKeys, listener);
  }

  close(): void {
    this.closed = true;
    this.listening = false;
    this.watchers.clear();
    this.subscriber?.disconnect();
    this.subscriber = undefined;
  }

  private subscribe(subscriber: RedisClient): void {
    this.subscriber = subscriber;
    // The connection queues nothing while down: subscribe each time it is ready.
    subscriber.on("ready", () => {
      subscriber.subscribe(this.channel).then(
        () => {
          this.listening = !this.closed;
          this.answered = true;
        },
        () => {
          this.answered = true;
        },
      );
    });
    subscriber.on("close", () => {
      this.listening = false;
    });
    subscriber.on("error", () => {}); // it reconnects; the polls go on meanwhile
    subscriber.on("message", (channel: string, leaseKey: string) => {
      if (channel === this.channel) this.watchers.tell(leaseKey);
    });
  }
}

import { Doorkeeper } from "./doorkeeper.js";

/**
 * Remembers the hashes of the most recent admission-duel losers (S3-FIFO's ghost queue, as two
 * generations of Bloom filters): between `capacity / 2` and `capacity` of the latest ones, at
 * 16 bits per remembered key, whatever their number over time. A candidate that lost its duel
 * and is requested again while remembered is admitted: on traces where keys come back once or
 * twice at a distance beyond the window (block storage) the frequency sketch cannot tell them
 * from one-off keys, recency can.
 */
export class Ghost {
  private current: Doorkeeper;
  private previous: Doorkeeper;
  private readonly generation: number;
  private added = 0;

  constructor(capacity: number) {
    this.generation = Math.max(1, Math.ceil(capacity / 2));
    this.current = new Doorkeeper({ expectedInsertions: this.generation, bitsPerKey: 16 });
    this.previous = new Doorkeeper({ expectedInsertions: this.generation, bitsPerKey: 16 });
  }

  /** Remembers a duel loser; the oldest generation is forgotten when the current one is full. */
  add(hash: number): void {
    if (this.added === this.generation) {
      const oldest = this.previous;
      oldest.clear();
      this.previous = this.current;
      this.current = oldest;
      this.added = 0;
    }
    this.added++;
    this.current.put(hash);
  }

  /** True if the hash lost a duel recently (Bloom filters: rarely true for another key). */
  contains(hash: number): boolean {
    return this.current.contains(hash) || this.previous.contains(hash);
  }
}

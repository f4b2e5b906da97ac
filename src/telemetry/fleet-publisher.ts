import type { Logger } from "../logger.js";
import { type FleetHotKey, type HotKeyBoard, type HotKeyBoardFactory, mergeHotKeys } from "./fleet-hot-keys.js";
import type { HotKeyRanks } from "./hot-key-ranks.js";
import type { TelemetryConfig } from "./settings.js";

const MAX_FLEET_PUBLISHED = 1000;

/** What {@link FleetPublisher} needs. */
export interface FleetPublisherOptions {
  /** Makes the board the fleet shares its hot keys on (Redis in the service). */
  board: HotKeyBoardFactory;
  instanceId: string;
  config: TelemetryConfig["fleet"];
  ranks: HotKeyRanks;
  logger: Logger;
}

/**
 * Shares this instance's hot keys with the fleet on a board (Redis in the service) and reads
 * the fleet's back, merged.
 * A publish picks the hottest keys of every namespace; one runs at a time, and a failed one
 * waits for the next interval.
 */
export class FleetPublisher {
  private readonly fleet: HotKeyBoard;
  private publishing: Promise<void> | undefined;

  constructor(private readonly options: FleetPublisherOptions) {
    this.fleet = options.board({
      instanceId: options.instanceId,
      // Three missed publishes and the instance drops out of the fleet view.
      ttlMs: options.config.publishIntervalMs * 3,
      maxPublished: MAX_FLEET_PUBLISHED,
    });
  }

  /** Publishes this instance's hot keys now (or joins the publish under way). */
  publish(): Promise<void> {
    if (this.publishing) return this.publishing;
    const { ranks, config } = this.options;
    const keys = ranks
      .namespaces()
      .flatMap((ns) => ranks.hottest(config.publishTop, ns))
      .sort((a, b) => b.frequency - a.frequency)
      .slice(0, MAX_FLEET_PUBLISHED);
    this.publishing = this.fleet
      .publish(keys)
      .catch((error: unknown) =>
        this.options.logger.debug({ err: error }, "publishing hot keys failed; next interval retries"),
      )
      .finally(() => {
        this.publishing = undefined;
      });
    return this.publishing;
  }

  /** The fleet's hottest keys, merged from every instance's published set. */
  async read(n: number, namespace?: string): Promise<FleetHotKey[]> {
    return mergeHotKeys(await this.fleet.sets(), n, namespace);
  }

  /** Waits for a publish under way, withdraws this instance's set and closes the connection. */
  async close(): Promise<void> {
    await this.publishing?.catch(() => {});
    await this.fleet.close();
  }
}

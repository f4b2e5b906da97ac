// The dashboard in a real headless Chromium (Debian's, driven by playwright-core): against a
// service with traffic, a real Redis and a real Kafka, the charts draw and keep updating, the hot-key table
// names the key the test makes hot, a stopped server shows "reconnecting…" and the page comes
// back by itself when the server returns; with auth on, the page asks for a token and streams
// once it has one. The page's console must stay free of errors (CSP violations show there).
import { randomUUID } from "node:crypto";
import { copyFileSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type Browser, type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseConfig } from "../../src/config/config.js";
import { loaderFunction } from "../../src/engine/loader.js";
import { CacheService } from "../../src/gen/mlcache/v1/cache_pb.js";
import { type RunningService, startService } from "../../src/server.js";
import { requireEnv } from "../support/env.js";
import { createConnectClient, testConfig } from "../support/service.js";

const root = fileURLToPath(new URL("../..", import.meta.url));
const RESULTS = join(root, ".cache", "test-results");
const CHROMIUM = process.env.MLCACHE_CHROMIUM ?? "/usr/bin/chromium";
const NAMESPACE = "storefront";
const HOT_KEY = "hottest-key";
const TOKEN = "dashboard-viewer-token-0123456789";
const WRITER_TOKEN = "dashboard-writer-token-0123456789";
const run = randomUUID().slice(0, 8);

/**
 * A service with Redis as L2, Kafka for invalidations and a loader that takes a few milliseconds,
 * on `httpPort` (0: any).
 */
function start(httpPort: number, extra: Record<string, unknown> = {}): Promise<RunningService> {
  const config = testConfig({
    instanceId: `dashboard-${run}`,
    server: { httpPort },
    redis: { url: requireEnv("MLCACHE_REDIS_URL"), keyPrefix: `dashboard-${run}:` },
    kafka: {
      brokers: requireEnv("MLCACHE_KAFKA_BROKERS").split(","),
      clientId: `dashboard-${run}`,
      topics: {
        invalidations: `dashboard-${run}.invalidations`,
        writes: `dashboard-${run}.writes`,
        deadLetters: `dashboard-${run}.dead-letters`,
      },
    },
    ...extra,
  });
  const loader = loaderFunction(async (_ns, key) => {
    await sleep(2 + Math.random() * 10);
    return { found: true, value: new TextEncoder().encode(`value of ${key}`) };
  });
  return startService(parseConfig(config, "dashboard test config"), { loaderFor: () => loader });
}

/** Gets against the HTTP port until stopped: one key much hotter than the rest, some misses. */
function traffic(httpPort: number): { stop(): Promise<void> } {
  const client = createConnectClient(CacheService, httpPort);
  let running = true;
  let round = 0;
  const done = (async () => {
    while (running) {
      round++;
      await Promise.all([
        ...Array.from({ length: 10 }, () => client.get({ namespace: NAMESPACE, key: HOT_KEY })),
        client.get({ namespace: NAMESPACE, key: `warm-${round % 3}` }),
        client.get({ namespace: NAMESPACE, key: `cold-${round}` }),
        client.invalidate({ namespace: NAMESPACE, keys: [`cold-${round - 1}`] }),
      ]).catch(() => sleep(200)); // the server is away (the reconnect test): try again
      await sleep(20);
    }
  })();
  return {
    async stop() {
      running = false;
      await done;
    },
  };
}

/** A page in its own context (its own localStorage), its console errors collected. */
async function openPage(
  browser: Browser,
  url: string,
): Promise<{ context: BrowserContext; page: Page; errors: string[] }> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 1000 } });
  const page = await context.newPage();
  const errors: string[] = [];
  page.on("console", (message) => {
    if (message.type() === "error") errors.push(message.text());
  });
  page.on("pageerror", (error) => errors.push(error.message));
  await page.goto(url);
  return { context, page, errors };
}

/** The few DOM names the page-side predicates use (this project compiles without the DOM library). */
interface PageWindow {
  document: {
    getElementById(id: string): { dataset: Record<string, string | undefined> } | null;
    querySelector(selector: string): { textContent: string | null } | null;
  };
}

/** How many points a chart shows (the page sets data-points on each chart after drawing). */
async function points(page: Page, chart: string): Promise<number> {
  return Number((await page.locator(`#${chart}`).getAttribute("data-points")) ?? "0");
}

/** Waits until the chart holds more points than `than`: it is updating. */
async function chartGrows(page: Page, chart: string, than: number): Promise<number> {
  // A function, not a string (the page's CSP forbids evaluating strings); it runs in the page, so
  // it names nothing of this file.
  await page.waitForFunction(
    ([id, n]) => Number((globalThis as unknown as PageWindow).document.getElementById(id)?.dataset.points ?? "0") > n,
    [chart, than] as const,
    { timeout: 60_000 },
  );
  return points(page, chart);
}

let browser: Browser;

beforeAll(async () => {
  mkdirSync(RESULTS, { recursive: true });
  browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox"] });
});

afterAll(async () => {
  await browser?.close();
});

describe("the dashboard, live", () => {
  let service: RunningService | undefined;
  let load: { stop(): Promise<void> };
  let port: number;

  beforeAll(async () => {
    service = await start(0);
    port = service.httpPort;
    load = traffic(port);
  });

  afterAll(async () => {
    await load?.stop();
    await service?.close();
  });

  // Longer when it takes the README's picture (a longer stretch of traffic).
  const pictureTimeout = { timeout: process.env.MLCACHE_UPDATE_SCREENSHOT === "1" ? 180_000 : 60_000 };
  it(
    "draws the charts and keeps updating them, shows the hot key, the namespace, Redis and Kafka",
    pictureTimeout,
    async () => {
      const { context, page, errors } = await openPage(browser, `http://127.0.0.1:${port}/dashboard`);
      try {
        await page.waitForSelector("#status[data-state=live]", { timeout: 30_000 });
        const first = await chartGrows(page, "chart-rate", 2);
        await chartGrows(page, "chart-rate", process.env.MLCACHE_UPDATE_SCREENSHOT === "1" ? 45 : first);
        for (const chart of ["chart-rate", "chart-hits", "chart-latency"]) {
          expect(await page.locator(`#${chart} canvas`).count(), chart).toBe(1);
        }
        expect(await page.locator("#chart-rate").getAttribute("data-series")).toContain(NAMESPACE);
        expect(await page.locator("#chart-hits").getAttribute("data-series")).toContain(`${NAMESPACE} · L1`);
        // The hottest key leads the table.
        await page.waitForFunction(
          (key) =>
            (globalThis as unknown as PageWindow).document.querySelector("#hot-keys-table tbody tr td:nth-child(2)")
              ?.textContent === key,
          HOT_KEY,
          { timeout: 30_000 },
        );
        const namespaceRow = await page.locator("#namespaces tbody tr").first().textContent();
        expect(namespaceRow).toContain(NAMESPACE);
        for (const dependency of ["redis", "kafka"]) {
          const cells = await page
            .locator("#dependencies tbody tr", { hasText: dependency })
            .locator("td")
            .allTextContents();
          expect(cells.slice(0, 2), dependency).toEqual([dependency, "up"]);
          expect(cells[3], `${dependency}'s consumer lag`).toMatch(/^\d+$/);
        }
        await page.screenshot({ path: join(RESULTS, "dashboard.png"), fullPage: true });
        // `MLCACHE_UPDATE_SCREENSHOT=1` refreshes the README's picture from this run.
        if (process.env.MLCACHE_UPDATE_SCREENSHOT === "1") {
          copyFileSync(join(RESULTS, "dashboard.png"), join(root, "docs", "dashboard.png"));
        }
        expect(errors).toEqual([]);
      } finally {
        await context.close();
      }
    },
  );

  it("shows reconnecting… while the server is away, and streams again when it returns", async () => {
    const { context, page, errors } = await openPage(browser, `http://127.0.0.1:${port}/dashboard`);
    try {
      await page.waitForSelector("#status[data-state=live]", { timeout: 30_000 });
      await service?.close();
      service = undefined;
      await page.waitForSelector("#status[data-state=reconnecting]", { timeout: 30_000 });
      expect(await page.locator("#status").textContent()).toBe("reconnecting…");
      expect(await page.locator("#message").isVisible()).toBe(true);
      expect(await page.locator("#message").textContent()).toMatch(/Reconnecting… attempt \d+/);
      expect(await page.locator("#panels").getAttribute("class")).toContain("stale");
      const before = await points(page, "chart-rate");

      service = await start(port);
      await page.waitForSelector("#status[data-state=live]", { timeout: 30_000 });
      await chartGrows(page, "chart-rate", before);
      expect(await page.locator("#message").isHidden()).toBe(true);
      // Failed fetches while the server was away are the only errors the console may show.
      expect(errors.filter((e) => !/ERR_CONNECTION_REFUSED|ERR_EMPTY_RESPONSE|Failed to fetch/.test(e))).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

describe("the dashboard with auth on", () => {
  let service: RunningService;

  beforeAll(async () => {
    service = await start(0, {
      instanceId: `dashboard-auth-${run}`,
      auth: {
        tokens: [
          { name: "viewer", token: TOKEN, rights: ["read"] },
          { name: "writer", token: WRITER_TOKEN, rights: ["write"] },
        ],
      },
    });
  });

  afterAll(async () => {
    await service?.close();
  });

  it("says a token is needed without one, not allowed without the read right, streams with the token from its settings, and keeps it", async () => {
    const { context, page, errors } = await openPage(browser, `http://127.0.0.1:${service.httpPort}/dashboard`);
    try {
      await page.waitForSelector("#status[data-state=unauthenticated]", { timeout: 30_000 });
      expect(await page.locator("#message").textContent()).toContain("needs a bearer token");

      await page.click("#settings-toggle");
      await page.fill("#token", WRITER_TOKEN);
      await page.click("#settings-form button[type=submit]");
      await page.waitForSelector("#status[data-state=denied]", { timeout: 30_000 });
      expect(await page.locator("#message").textContent()).toContain("has the read right nowhere");

      await page.click("#settings-toggle");
      await page.fill("#token", TOKEN);
      await page.click("#settings-form button[type=submit]");
      await page.waitForSelector("#status[data-state=live]", { timeout: 30_000 });
      expect(await page.evaluate(() => localStorage.getItem("mlcache.dashboard.token"))).toBe(TOKEN);

      await page.reload();
      await page.waitForSelector("#status[data-state=live]", { timeout: 30_000 });
      // The browser logs the 200 stream that carried "unauthenticated" as nothing: no errors at all.
      expect(errors).toEqual([]);
    } finally {
      await context.close();
    }
  });
});

// The live dashboard at `GET /dashboard`: a few static files (the page, its script and styles,
// and uPlot from node_modules) read once at start into a fixed map. A request is answered from
// that map by exact path, so no part of the URL ever reaches the file system. The page holds no
// data of its own: it streams WatchStats from the browser with the caller's token, which the
// API authorises like any other call.
import { existsSync, readFileSync } from "node:fs";
import type * as http from "node:http";
import type * as http2 from "node:http2";
import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where the dashboard lives on the HTTP port. */
export const DASHBOARD_PATH = "/dashboard";

/**
 * The page may load and call only its own origin: no inline script or style, no frames, no
 * forms posted elsewhere, no plugins.
 */
export const DASHBOARD_CSP = [
  "default-src 'none'",
  "script-src 'self'",
  "style-src 'self'",
  "img-src 'self'",
  "connect-src 'self'",
  "base-uri 'none'",
  "form-action 'none'",
  "frame-ancestors 'none'",
].join("; ");

/** Headers on every dashboard answer (found or not). */
const SECURITY_HEADERS = {
  "content-security-policy": DASHBOARD_CSP,
  "x-content-type-options": "nosniff",
  "x-frame-options": "DENY",
  "referrer-policy": "no-referrer",
  "cross-origin-opener-policy": "same-origin",
  "cross-origin-resource-policy": "same-origin",
  "cache-control": "no-cache",
} as const;

interface Asset {
  body: Buffer;
  type: string;
}

/** The package's root: the nearest folder above this module holding a package.json (src/ or dist/src/). */
function packageRoot(): string {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "package.json"))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error("the dashboard cannot find its package folder");
    dir = parent;
  }
  return dir;
}

/** Reads the dashboard's files into the map requests are answered from. */
export function loadDashboardAssets(): ReadonlyMap<string, Asset> {
  const root = join(packageRoot(), "dashboard");
  const require = createRequire(import.meta.url);
  const js = "text/javascript; charset=utf-8";
  const css = "text/css; charset=utf-8";
  const page: Asset = { body: readFileSync(join(root, "index.html")), type: "text/html; charset=utf-8" };
  return new Map<string, Asset>([
    [DASHBOARD_PATH, page],
    [`${DASHBOARD_PATH}/`, page],
    [`${DASHBOARD_PATH}/app.js`, { body: readFileSync(join(root, "app.js")), type: js }],
    [`${DASHBOARD_PATH}/stream.js`, { body: readFileSync(join(root, "stream.js")), type: js }],
    [`${DASHBOARD_PATH}/app.css`, { body: readFileSync(join(root, "app.css")), type: css }],
    [`${DASHBOARD_PATH}/favicon.svg`, { body: readFileSync(join(root, "favicon.svg")), type: "image/svg+xml" }],
    [`${DASHBOARD_PATH}/uPlot.esm.js`, { body: readFileSync(require.resolve("uplot/dist/uPlot.esm.js")), type: js }],
    [`${DASHBOARD_PATH}/uPlot.min.css`, { body: readFileSync(require.resolve("uplot/dist/uPlot.min.css")), type: css }],
  ]);
}

type Request = http.IncomingMessage | http2.Http2ServerRequest;
type Response = http.ServerResponse | http2.Http2ServerResponse;

/**
 * A request handler for the dashboard's paths: answers them and returns true, or returns false
 * for every other path (left to the rest of the port).
 *
 *   const dashboard = dashboardHandler();
 *   if (dashboard(req, res)) return;
 */
export function dashboardHandler(
  assets: ReadonlyMap<string, Asset> = loadDashboardAssets(),
): (req: Request, res: Response) => boolean {
  return (req, res) => {
    const path = (req.url ?? "/").split("?")[0] ?? "/";
    if (path !== DASHBOARD_PATH && !path.startsWith(`${DASHBOARD_PATH}/`)) return false;
    const target = res as http.ServerResponse;
    if (req.method !== "GET" && req.method !== "HEAD") {
      target.writeHead(405, { ...SECURITY_HEADERS, allow: "GET, HEAD", "content-type": "text/plain" });
      target.end("the dashboard only answers GET\n");
      return true;
    }
    const asset = assets.get(path);
    if (!asset) {
      target.writeHead(404, { ...SECURITY_HEADERS, "content-type": "text/plain" });
      target.end("not a file of the dashboard\n");
      return true;
    }
    target.writeHead(200, { ...SECURITY_HEADERS, "content-type": asset.type, "content-length": asset.body.length });
    target.end(req.method === "HEAD" ? undefined : asset.body);
    return true;
  };
}

// The `/dashboard` route over plain HTTP: its files with a strict CSP and the usual security
// headers, nothing else (no path reaches the file system, whatever the URL spells), open without
// a token even with auth on (it holds no data), and gone with `server.dashboard: false`.
import * as http from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DASHBOARD_CSP } from "../../src/rpc/dashboard.js";
import type { RunningService } from "../../src/server.js";
import { startTestService } from "../support/service.js";

interface Answer {
  status: number;
  headers: http.IncomingHttpHeaders;
  body: string;
}

/** One request with the path sent exactly as given (no normalisation by a client library). */
function send(port: number, path: string, method = "GET"): Promise<Answer> {
  return new Promise((resolve, reject) => {
    const req = http.request({ host: "127.0.0.1", port, path, method }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (chunk: Buffer) => chunks.push(chunk));
      res.on("end", () =>
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks).toString("utf8") }),
      );
    });
    req.on("error", reject);
    req.end();
  });
}

describe("GET /dashboard (on by default)", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({
      auth: { tokens: [{ name: "viewer", token: "dashboard-route-token-0123456789", rights: ["read"] }] },
    });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("serves the page with a self-only CSP and security headers, without a token", async () => {
    for (const path of ["/dashboard", "/dashboard/", "/dashboard?x=1"]) {
      const answer = await send(service.httpPort, path);
      expect(answer.status, path).toBe(200);
      expect(answer.headers["content-type"]).toBe("text/html; charset=utf-8");
      expect(answer.headers["content-security-policy"]).toBe(DASHBOARD_CSP);
      expect(answer.headers["x-content-type-options"]).toBe("nosniff");
      expect(answer.headers["x-frame-options"]).toBe("DENY");
      expect(answer.body).toContain('<script type="module" src="/dashboard/app.js"></script>');
    }
    expect(DASHBOARD_CSP).toContain("default-src 'none'");
    expect(DASHBOARD_CSP).toContain("script-src 'self'");
    expect(DASHBOARD_CSP).toContain("connect-src 'self'");
  });

  it("serves its script, its styles and uPlot from the package, not from a CDN", async () => {
    const page = await send(service.httpPort, "/dashboard");
    expect(page.body).not.toMatch(/https?:\/\//);
    const uplot = await send(service.httpPort, "/dashboard/uPlot.esm.js");
    expect(uplot.status).toBe(200);
    expect(uplot.headers["content-type"]).toBe("text/javascript; charset=utf-8");
    expect(uplot.body).toContain("export { uPlot as default }");
    for (const file of ["app.js", "stream.js", "app.css", "uPlot.min.css", "favicon.svg"]) {
      expect((await send(service.httpPort, `/dashboard/${file}`)).status, file).toBe(200);
    }
  });

  it("answers 404 for anything else under /dashboard, however the path is spelled", async () => {
    for (const path of [
      "/dashboard/../package.json",
      "/dashboard/..%2fpackage.json",
      "/dashboard/%2e%2e/%2e%2e/package.json",
      "/dashboard//etc/passwd",
      "/dashboard/app.js/..",
      "/dashboard/./app.js",
      "/dashboard/APP.JS",
      "/dashboard/index.html",
      "/dashboard/node_modules/uplot/package.json",
      "/dashboard/%00",
    ]) {
      const answer = await send(service.httpPort, path);
      expect(answer.status, path).toBe(404);
      expect(answer.body, path).toBe("not a file of the dashboard\n");
      expect(answer.headers["content-security-policy"], path).toBe(DASHBOARD_CSP);
    }
  });

  it("answers only GET and HEAD", async () => {
    const post = await send(service.httpPort, "/dashboard", "POST");
    expect(post.status).toBe(405);
    expect(post.headers.allow).toBe("GET, HEAD");
    const head = await send(service.httpPort, "/dashboard/app.js", "HEAD");
    expect(head.status).toBe(200);
    expect(head.body).toBe("");
    expect(Number(head.headers["content-length"])).toBeGreaterThan(0);
  });
});

describe("server.dashboard: false", () => {
  let service: RunningService;
  beforeAll(async () => {
    service = await startTestService({ server: { dashboard: false } });
  });
  afterAll(async () => {
    await service?.close();
  });

  it("serves no dashboard", async () => {
    for (const path of ["/dashboard", "/dashboard/app.js"]) {
      const answer = await send(service.httpPort, path);
      expect(answer.status, path).toBe(404);
      expect(answer.headers["content-security-policy"], path).toBeUndefined();
      expect(answer.body, path).not.toContain("<html");
    }
  });
});

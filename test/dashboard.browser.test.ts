// The dashboard in a real headless browser (Debian's chromium driven by playwright-core) against the real worker
// bundle in workerd (Miniflare) on a free loopback port, after real traffic through it: the page refuses without the
// token, renders every chart with data once the token is entered (sent as a bearer header, never in a URL), logs no
// console error, refreshes on its own (the page's clock is driven, nothing sleeps) and fits a 375 px wide screen.
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type BrowserContext, chromium, type Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoOrigin, startDemoOrigin } from "../tools/demo-origin.ts";
import { buildWorker, type Isolates, startIsolates } from "../tools/isolates.ts";

const CHROMIUM = process.env.QUOTAGATE_CHROMIUM ?? "/usr/bin/chromium";
const TOKEN = "dashboard-browser-test-token-0001";
const ARGS = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
];
const CHARTS = [
  "chart-decisions",
  "chart-top-usage",
  "chart-top-denials",
  "chart-cache",
  "chart-store-calls",
  "chart-store-latency",
];

const missing = !existsSync(CHROMIUM);
if (missing && !process.env.CI)
  console.warn(`[browser] skipping: no chromium at ${CHROMIUM} (apt-get install chromium)`);

describe.skipIf(missing && !process.env.CI)("dashboard in headless chromium", () => {
  let origin: DemoOrigin;
  let gateway: Isolates;
  let context: BrowserContext;
  let profile: string;
  let base: string;

  const send = async (tenant: string, n: number) => {
    for (let i = 0; i < n; i++) {
      const res = await gateway.fetch(0, `/v1/items/${i}`, { headers: { "X-Tenant-ID": tenant } });
      await res.arrayBuffer();
    }
  };

  beforeAll(async () => {
    if (missing)
      throw new Error(`no chromium at ${CHROMIUM}: apt-get install chromium (CI must run this suite)`);
    origin = await startDemoOrigin(0);
    const script = await buildWorker();
    gateway = await startIsolates(1, script, {
      ORIGIN_URL: `http://127.0.0.1:${origin.port}`,
      ADMIN_TOKEN: TOKEN,
      QUOTA_POLICY: JSON.stringify({
        tiers: {
          free: {
            limits: [
              { window: "minute", limit: 20 },
              { window: "day", limit: 10, mode: "shadow" },
            ],
          },
        },
        identity: { header: { enabled: true } },
      }),
    });
    base = gateway.urls[0]!;
    // Real traffic first: admitted, denied, shadow-denied and deny-listed requests from several tenants.
    await send("t-heavy", 30);
    await send("t-light", 5);
    const put = await gateway.fetch(0, "/admin/deny/tenants/t-bad", {
      method: "PUT",
      headers: { authorization: `Bearer ${TOKEN}` },
      body: JSON.stringify({ reason: "browser test" }),
    });
    expect(put.status).toBe(200);
    await send("t-bad", 3);
    profile = mkdtempSync(join(tmpdir(), "quotagate-chromium-"));
    context = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      args: ARGS,
      viewport: { width: 1280, height: 900 },
    });
  }, 240_000);

  afterAll(async () => {
    await context?.close();
    await gateway?.dispose();
    await origin?.close();
    if (profile) rmSync(profile, { recursive: true, force: true });
  });

  /** A new tab that records console errors, page errors and every URL it requests. */
  async function tab(): Promise<{ page: Page; errors: string[]; urls: string[] }> {
    const page = await context.newPage();
    const errors: string[] = [];
    const urls: string[] = [];
    page.on("console", (m) => {
      if (m.type() === "error") errors.push(m.text());
    });
    page.on("pageerror", (e) => errors.push(String(e)));
    page.on("request", (r) => urls.push(r.url()));
    await page.clock.install();
    return { page, errors, urls };
  }

  const points = (page: Page, id: string) =>
    page.locator(`#${id}`).evaluate((svg) => Number(svg.getAttribute("data-points")));

  it("shows only the token form without the token, and refuses a wrong one", async () => {
    const { page } = await tab();
    const res = await page.goto(`${base}/admin/dashboard`);
    expect(res?.status()).toBe(200);
    await expect(page.locator("#login").isVisible()).resolves.toBe(true);
    await expect(page.locator("#dash").isVisible()).resolves.toBe(false);
    expect(await page.content()).not.toContain("t-heavy");
    for (const id of CHARTS) expect(await points(page, id)).toBe(0);

    await page.fill("#token", "not-the-admin-token-000");
    await page.click("#login button[type=submit]");
    await page.locator("#login-error", { hasText: "refused" }).waitFor();
    await expect(page.locator("#dash").isVisible()).resolves.toBe(false);
    expect(await page.evaluate(() => sessionStorage.length)).toBe(0);
    const direct = await page.request.get(`${base}/admin/dashboard/data`);
    expect(direct.status()).toBe(401);
    await page.close();
  });

  it("draws every chart with data from the token, in a header only, with no console error; refreshes itself", async () => {
    const { page, errors, urls } = await tab();
    const dataRequests: Array<string | undefined> = [];
    page.on("request", (r) => {
      if (r.url().endsWith("/admin/dashboard/data")) dataRequests.push(r.headers().authorization);
    });
    await page.goto(`${base}/admin/dashboard`);
    await page.fill("#token", TOKEN);
    await page.click("#login button[type=submit]");
    await page.locator("#dash").waitFor({ state: "visible" });
    for (const id of CHARTS) expect(await points(page, id), id).toBeGreaterThan(0);
    await expect(page.locator("#chart-top-usage").textContent()).resolves.toContain("t-heavy");
    await expect(page.locator("#chart-top-denials").textContent()).resolves.toContain("t-heavy");
    await expect(page.locator("#deny-rows").textContent()).resolves.toContain("t-bad");
    await expect(page.locator("#cost-tiles").textContent()).resolves.toMatch(/\$\d/);
    await expect(page.locator("#lease-tiles").textContent()).resolves.toMatch(/leases held/);
    // The decisions chart has a point for each outcome the traffic produced.
    for (const series of ["allowed", "denied", "shadow-denied", "deny list"])
      expect(
        await page.locator(`#chart-decisions circle[data-series="${series}"]`).count(),
        series,
      ).toBeGreaterThan(0);

    expect(dataRequests).toEqual([`Bearer ${TOKEN}`]);
    expect(urls.filter((u) => u.includes(TOKEN))).toEqual([]);
    expect(await page.evaluate(() => sessionStorage.getItem("quotagate.adminToken"))).toBe(TOKEN);

    // Refreshes on its own: the page's clock is moved past refresh_seconds.
    const again = page.waitForRequest((r) => r.url().endsWith("/admin/dashboard/data"));
    await page.clock.runFor(11_000);
    await again;
    expect(dataRequests).toHaveLength(2);
    expect(errors).toEqual([]);
    await page.close();
  });

  it("is usable at 375 px: no horizontal overflow, charts drawn", async () => {
    const { page, errors } = await tab();
    await page.setViewportSize({ width: 375, height: 800 });
    await page.goto(`${base}/admin/dashboard`);
    await page.fill("#token", TOKEN);
    await page.click("#login button[type=submit]");
    await page.locator("#dash").waitFor({ state: "visible" });
    // Evaluated in the page (a string: this project's types have no DOM).
    const widths = (await page.evaluate(
      "({ scroll: document.documentElement.scrollWidth, client: document.documentElement.clientWidth })",
    )) as { scroll: number; client: number };
    expect(widths.client).toBe(375);
    expect(widths.scroll).toBeLessThanOrEqual(375);
    for (const id of CHARTS) {
      const box = await page.locator(`#${id}`).boundingBox();
      expect(box!.width, id).toBeGreaterThan(200);
      expect(box!.x + box!.width, id).toBeLessThanOrEqual(375);
    }
    expect(errors).toEqual([]);
    await page.close();
  });
});

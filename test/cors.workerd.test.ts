// End to end in workerd, CORS: with `cors` in the policy the gateway answers preflights itself (uncharged, no
// credential needed) for the listed origins, refuses them for others with 403, and puts the CORS headers, exposing the
// RateLimit headers, on proxied and 429 responses to listed origins. The admin API gets no CORS.
import { env } from "cloudflare:workers";
import { describe, expect, it } from "vitest";
import type { PolicyInput } from "../src/policy/policy-schema.ts";
import {
  expectProblem,
  originEcho,
  policyJson,
  quotaStatus,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

const APP = "https://app.example.com";
const CLIENT_IP = { "CF-Connecting-IP": "198.51.100.4" };
const EXPOSED =
  "RateLimit, RateLimit-Policy, Retry-After, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset";

const corsWorker = (
  cors: PolicyInput["cors"] = { origins: [APP, "http://localhost:5173"], credentials: true },
) =>
  workerWith({
    QUOTA_POLICY: policyJson({
      tiers: { free: { limits: [{ window: "minute", limit: 2 }] } },
      identity: { header: { enabled: true }, ip: { enabled: true, tier: "free" } },
      cors,
    }),
  });

const preflight = (
  origin: string,
  method = "POST",
  headers = "authorization, content-type",
): RequestInit => ({
  method: "OPTIONS",
  headers: {
    Origin: origin,
    "Access-Control-Request-Method": method,
    "Access-Control-Request-Headers": headers,
    ...CLIENT_IP,
  },
});

describe("preflights", () => {
  it("are answered by the gateway for a listed origin: 204, uncharged, no credential, never proxied", async () => {
    const w = corsWorker();
    for (let i = 0; i < 5; i++) {
      const res = await w.fetch("/v1/chat/completions", preflight(APP));
      expect(res.status).toBe(204);
      expect(res.headers.get("x-origin")).toBeNull();
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-methods")).toBe("GET,HEAD,POST,PUT,PATCH,DELETE");
      expect(res.headers.get("access-control-allow-headers")).toBe("Authorization,Content-Type,X-Tenant-ID");
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(res.headers.get("access-control-max-age")).toBe("600");
      expect(res.headers.get("vary")).toMatch(/Origin/);
      expect(res.headers.get("RateLimit")).toBeNull();
    }
    // Five preflights later, the client address has its whole quota (2 a minute).
    const status = await quotaStatus({ headers: CLIENT_IP }, w.fetch);
    expect(status.limits.map((l) => l.used)).toEqual([0]);
  });

  it("need no identification even when no anonymous mode is on", async () => {
    const w = workerWith({
      QUOTA_POLICY: policyJson({ identity: { header: { enabled: true } }, cors: { origins: [APP] } }),
    });
    const res = await w.fetch("/v1/things", {
      ...preflight(APP),
      headers: { Origin: APP, "Access-Control-Request-Method": "GET" },
    });
    expect(res.status).toBe(204);
  });

  it("from an origin not listed are refused with 403 problem+json, uncharged and never proxied", async () => {
    const w = corsWorker();
    for (const origin of ["https://evil.example", "https://app.example.com.evil.example", "null"]) {
      const problem = await expectProblem(await w.fetch("/v1/chat/completions", preflight(origin)), 403);
      expect(problem.type).toBe("urn:quotagate:problem:forbidden");
      expect(problem.detail).toContain(origin);
    }
    const status = await quotaStatus({ headers: CLIENT_IP }, w.fetch);
    expect(status.limits.map((l) => l.used)).toEqual([0]);
  });

  it("use the configured methods, headers and max age; a wildcard origin answers *", async () => {
    const w = corsWorker({ origins: ["*"], methods: ["GET", "POST"], headers: ["X-Custom"], maxAgeSec: 60 });
    const res = await w.fetch("/v1/x", preflight("https://anyone.example"));
    expect(res.status).toBe(204);
    expect(res.headers.get("access-control-allow-origin")).toBe("*");
    expect(res.headers.get("access-control-allow-methods")).toBe("GET,POST");
    expect(res.headers.get("access-control-allow-headers")).toBe("X-Custom");
    expect(res.headers.get("access-control-max-age")).toBe("60");
    expect(res.headers.get("access-control-allow-credentials")).toBeNull();
  });
});

describe("actual requests", () => {
  it("from a listed origin get CORS headers exposing the RateLimit headers, on proxied and 429 answers", async () => {
    const w = corsWorker();
    const init = { headers: { Origin: APP, "X-Tenant-ID": "t-cors" } };
    for (let i = 0; i < 2; i++) {
      const res = await w.fetch("/v1/things", init);
      await originEcho(res);
      expect(res.headers.get("access-control-allow-origin")).toBe(APP);
      expect(res.headers.get("access-control-allow-credentials")).toBe("true");
      expect(res.headers.get("access-control-expose-headers")).toBe(EXPOSED);
      expect(res.headers.get("vary")).toMatch(/Origin/);
    }
    const denied = await w.fetch("/v1/things", init);
    expect(denied.status).toBe(429);
    expect(denied.headers.get("access-control-allow-origin")).toBe(APP);
    expect(denied.headers.get("access-control-expose-headers")).toBe(EXPOSED);
    expect(denied.headers.get("retry-after")).toBe("30");
  });

  it("from a listed origin get them on a refusal too (a browser can read why)", async () => {
    const res = await corsWorker().fetch("/v1/things", { headers: { Origin: APP } });
    expect(res.status).toBe(401);
    expect(res.headers.get("access-control-allow-origin")).toBe(APP);
  });

  it("from an origin not listed are served without CORS headers (the browser keeps the answer from the page)", async () => {
    const res = await corsWorker().fetch("/v1/things", {
      headers: { Origin: "https://evil.example", "X-Tenant-ID": "t-x" },
    });
    await originEcho(res);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
    expect(res.headers.get("vary")).toMatch(/Origin/);
  });

  it("a non-preflight OPTIONS is an ordinary, counted request", async () => {
    const w = corsWorker();
    const res = await w.fetch("/v1/things", {
      method: "OPTIONS",
      headers: { Origin: APP, "X-Tenant-ID": "t-options" },
    });
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("1");
  });
});

describe("the admin API", () => {
  it("gets no CORS: a preflight is not answered, a request carries no CORS headers", async () => {
    const w = corsWorker({ origins: ["*"] });
    const pre = await w.fetch("/admin/quota/stats", preflight(APP, "GET"));
    expect(pre.status).toBe(401);
    const res = await w.fetch("/admin/quota/stats", {
      headers: { Origin: APP, Authorization: `Bearer ${env.ADMIN_TOKEN}` },
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

describe("without cors in the policy", () => {
  it("does no CORS: a preflight is an ordinary request", async () => {
    const w = workerWith({ QUOTA_POLICY: policyJson({ identity: { header: { enabled: true } } }) });
    const res = await w.fetch("/v1/things", preflight(APP));
    await expectProblem(res, 401);
    expect(res.headers.get("access-control-allow-origin")).toBeNull();
  });
});

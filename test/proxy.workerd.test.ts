// End to end in workerd, proxy aspect: the real worker in front of the real loopback demo origin (bodies streamed
// both ways, hop-by-hop headers, forwarding headers, redirects, statuses, unreachable origin, exempt routes).
import { env } from "cloudflare:workers";
import { describe, expect, inject, it } from "vitest";
import {
  asTenant,
  DAY_LEFT_S,
  expectProblem,
  FREE_POLICY_HEADER,
  gateway,
  MINUTE_LEFT_S,
  originEcho,
  policyJson,
  quotaStatus,
  sha256Hex,
  useGatewayState,
  workerWith,
} from "./support/gateway.ts";

useGatewayState();

describe("allowed request", () => {
  it("is answered by the origin, with RateLimit-Policy, RateLimit and X-RateLimit-* headers", async () => {
    const res = await gateway("/v1/things?x=1&y=two", asTenant("t-allowed"));
    expect(res.headers.get("RateLimit-Policy")).toBe(FREE_POLICY_HEADER);
    expect(res.headers.get("RateLimit")).toBe(
      `"requests-minute";r=99;t=${MINUTE_LEFT_S}, "requests-day";r=999;t=${DAY_LEFT_S}`,
    );
    expect(res.headers.get("X-RateLimit-Limit")).toBe("100");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("99");
    expect(res.headers.get("X-RateLimit-Reset")).toBe(String(MINUTE_LEFT_S));
    expect(res.headers.get("Retry-After")).toBeNull();
    const echo = await originEcho(res);
    expect(echo).toMatchObject({ method: "GET", path: "/v1/things", query: "?x=1&y=two", body_bytes: 0 });
    expect(echo.headers["x-quotagate-tenant"]).toBe("t-allowed");
    expect(echo.headers["x-forwarded-host"]).toBe("gateway.test");
    expect(echo.headers["x-forwarded-proto"]).toBe("http");
  });

  it("keeps the method, the query string and a small body", async () => {
    for (const method of ["POST", "PUT", "PATCH", "DELETE"]) {
      const res = await gateway("/v1/items/7?dry_run=1", {
        method,
        headers: { "X-Tenant-ID": "t-methods", "content-type": "application/json" },
        body: JSON.stringify({ name: "seven" }),
      });
      const echo = await originEcho(res);
      expect(echo).toMatchObject({ method, path: "/v1/items/7", query: "?dry_run=1", body_bytes: 16 });
      expect(echo.headers["content-type"]).toBe("application/json");
    }
  });

  it("counts down X-RateLimit-Remaining by one per request", async () => {
    const remaining: string[] = [];
    for (let i = 0; i < 5; i++) {
      const res = await gateway("/v1/countdown", asTenant("t-countdown"));
      await originEcho(res);
      remaining.push(res.headers.get("X-RateLimit-Remaining") ?? "");
    }
    expect(remaining).toEqual(["99", "98", "97", "96", "95"]);
  });

  it("answers HEAD with the origin's headers and no body", async () => {
    const res = await gateway("/v1/things", { ...asTenant("t-head"), method: "HEAD" });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("99");
    expect(await res.text()).toBe("");
  });

  it("prefixes the path of an ORIGIN_URL that has one", async () => {
    const w = workerWith({ ORIGIN_URL: `${env.ORIGIN_URL}/base/` });
    const echo = await originEcho(await w.fetch("/v1/things?q=1", asTenant("t-base")));
    expect(echo).toMatchObject({ path: "/base/v1/things", query: "?q=1" });
  });
});

describe("origin pinning", () => {
  // The worker's origin is a closed port; the demo origin is a different host:port the client names in the path.
  const pinned = () => workerWith({ ORIGIN_URL: `http://127.0.0.1:${inject("closedPort")}` });
  const elsewhere = () => `127.0.0.1:${inject("originPort")}`;

  it("never lets a path that starts with // name another host (scheme-relative URL)", async () => {
    const res = await pinned().fetch(`//${elsewhere()}/v1/things`, asTenant("t-ssrf"));
    expect(res.headers.get("x-origin")).toBeNull();
    await expectProblem(res, 502);
  });

  it("sends a // path to the configured origin as a path (duplicate slashes collapsed)", async () => {
    const echo = await originEcho(await gateway("//other.example/v1/things?q=1", asTenant("t-slashes")));
    expect(echo).toMatchObject({ target: "/other.example/v1/things?q=1", query: "?q=1" });
  });

  it("keeps other odd paths on the origin too", async () => {
    for (const path of [`/\\${elsewhere()}/x`, `///${elsewhere()}/x`, `/..//${elsewhere()}/x`]) {
      const res = await pinned().fetch(path, asTenant("t-ssrf-odd"));
      expect(res.headers.get("x-origin")).toBeNull();
      await expectProblem(res, 502);
    }
  });
});

describe("streaming", () => {
  it("passes a large request body to the origin and its echo back byte for byte", async () => {
    const body = new Uint8Array(3 * 1024 * 1024 + 17);
    for (let off = 0; off < body.length; off += 65_536)
      crypto.getRandomValues(body.subarray(off, Math.min(off + 65_536, body.length)));
    const res = await gateway("/echo-body", {
      method: "POST",
      headers: { "X-Tenant-ID": "t-big-body", "content-type": "application/octet-stream" },
      body,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("RateLimit")).not.toBeNull();
    const back = new Uint8Array(await res.arrayBuffer());
    expect(back.length).toBe(body.length);
    expect(await sha256Hex(back)).toBe(await sha256Hex(body));
  });

  it("passes a ReadableStream request body through", async () => {
    const parts = Array.from({ length: 40 }, (_, i) => `part ${i} ${"x".repeat(i * 37)}\n`);
    const encoder = new TextEncoder();
    const stream = new ReadableStream<Uint8Array>({
      start(controller) {
        for (const p of parts) controller.enqueue(encoder.encode(p));
        controller.close();
      },
    });
    const res = await gateway("/echo-body", {
      method: "POST",
      headers: { "X-Tenant-ID": "t-stream-body", "content-type": "text/plain" },
      body: stream,
    });
    expect(res.status).toBe(200);
    expect(res.headers.get("content-type")).toBe("text/plain");
    expect(await res.text()).toBe(parts.join(""));
  });

  it("streams the origin's chunked response (no buffering, no Content-Length)", async () => {
    const res = await gateway("/stream?chunks=50", asTenant("t-stream-res"));
    expect(res.status).toBe(200);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("content-length")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBeNull();
    expect(res.headers.get("RateLimit")).not.toBeNull();
    const text = await res.text();
    expect(text).toBe(Array.from({ length: 50 }, (_, i) => `chunk ${i}\n`).join(""));
  });
});

describe("headers", () => {
  it("strips the origin's hop-by-hop headers from the response", async () => {
    // The demo origin's catch-all route answers with `connection: keep-alive` and `keep-alive: timeout=5`.
    const res = await gateway("/v1/hop", asTenant("t-hop-res"));
    await originEcho(res);
    expect(res.headers.get("connection")).toBeNull();
    expect(res.headers.get("keep-alive")).toBeNull();
    expect(res.headers.get("transfer-encoding")).toBeNull();
  });

  it("strips hop-by-hop request headers, and the headers Connection names, before the origin", async () => {
    const res = await gateway(
      "/v1/hop",
      asTenant("t-hop-req", {
        Connection: "x-foo, X-Bar",
        "X-Foo": "must not pass",
        "X-Bar": "must not pass",
        "Keep-Alive": "timeout=99",
        TE: "trailers",
        "Proxy-Authorization": "Basic cHJveHk6c2VjcmV0",
        "X-Kept": "passes",
      }),
    );
    const echo = await originEcho(res);
    expect(echo.headers["x-foo"]).toBeUndefined();
    expect(echo.headers["x-bar"]).toBeUndefined();
    expect(echo.headers["keep-alive"]).toBeUndefined();
    expect(echo.headers.te).toBeUndefined();
    expect(echo.headers["proxy-authorization"]).toBeUndefined();
    expect(String(echo.headers.connection ?? "")).not.toMatch(/x-foo|x-bar/i);
    expect(echo.headers["x-kept"]).toBe("passes");
  });

  it("sets X-Forwarded-For and X-Real-IP from CF-Connecting-IP, ignoring the client's", async () => {
    const res = await gateway(
      "/v1/ip",
      asTenant("t-xff", {
        "CF-Connecting-IP": "203.0.113.7",
        "X-Forwarded-For": "6.6.6.6, 10.0.0.1",
        "X-Real-IP": "6.6.6.6",
      }),
    );
    const echo = await originEcho(res);
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.7");
    expect(echo.headers["x-real-ip"]).toBe("203.0.113.7");
  });

  it("forwards no client address at all when CF-Connecting-IP is absent", async () => {
    const res = await gateway(
      "/v1/ip",
      asTenant("t-xff-none", { "X-Forwarded-For": "6.6.6.6", "X-Real-IP": "6.6.6.6" }),
    );
    const echo = await originEcho(res);
    expect(echo.headers["x-forwarded-for"]).toBeUndefined();
    expect(echo.headers["x-real-ip"]).toBeUndefined();
  });

  it("does not let a client forge the gateway's X-QuotaGate-* headers or pass X-Admin-Key on", async () => {
    const res = await gateway(
      "/v1/forge",
      asTenant("t-honest", {
        "X-QuotaGate-Tenant": "someone-else",
        "X-QuotaGate-Tier": "enterprise",
        "X-Admin-Key": env.ADMIN_TOKEN,
      }),
    );
    const echo = await originEcho(res);
    expect(echo.headers["x-quotagate-tenant"]).toBe("t-honest");
    expect(echo.headers["x-quotagate-tier"]).toBeUndefined();
    expect(echo.headers["x-admin-key"]).toBeUndefined();
  });
});

describe("origin answers", () => {
  it("passes a redirect back as it came (302 + Location), without following it", async () => {
    const res = await gateway("/redirect", { ...asTenant("t-redirect"), redirect: "manual" });
    expect(res.status).toBe(302);
    expect(res.headers.get("location")).toBe("/elsewhere");
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("RateLimit-Policy")).toBe(FREE_POLICY_HEADER);
    // Not followed: exactly one request was counted.
    expect(res.headers.get("X-RateLimit-Remaining")).toBe("99");
  });

  it.each([503, 500, 404, 409])("passes the origin's %i through with its body", async (status) => {
    const res = await gateway(`/status/${status}`, asTenant("t-status"));
    expect(res.status).toBe(status);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(res.headers.get("content-type")).toBe("application/json");
    expect(await res.json()).toEqual({ status });
    expect(res.headers.get("RateLimit")).not.toBeNull();
  });

  it("passes a 204 through without a body", async () => {
    const res = await gateway("/status/204", asTenant("t-204"));
    expect(res.status).toBe(204);
    expect(res.headers.get("x-origin")).toBe("demo");
    expect(await res.text()).toBe("");
  });

  it.each([600, 999])(
    "answers 502 problem+json for an origin status a Response cannot carry (%i)",
    async (status) => {
      const problem = await expectProblem(await gateway(`/status/${status}`, asTenant("t-odd-status")), 502);
      expect(problem.type).toBe("urn:quotagate:problem:origin-unreachable");
      expect(problem.detail).toContain(`answered with status ${status}`);
    },
  );

  it("answers 502 problem+json when the origin cannot be reached", async () => {
    const w = workerWith({ ORIGIN_URL: `http://127.0.0.1:${inject("closedPort")}` });
    const res = await w.fetch("/v1/things", asTenant("t-unreachable"));
    const problem = await expectProblem(res, 502);
    expect(problem.type).toBe("urn:quotagate:problem:origin-unreachable");
    expect(problem.detail).toBe("the origin could not be reached");
    expect(problem.instance).toBe("/v1/things");
  });
});

describe("exempt routes", () => {
  it("answers /health in the gateway, without identification and without counting", async () => {
    for (let i = 0; i < 3; i++) {
      const res = await gateway("/health", asTenant("t-health"));
      expect(res.status).toBe(200);
      expect(res.headers.get("x-origin")).toBeNull();
      expect(res.headers.get("RateLimit")).toBeNull();
      expect(res.headers.get("RateLimit-Policy")).toBeNull();
      expect(await res.json()).toMatchObject({ status: "ok", store: "memory" });
    }
    const anonymous = await gateway("/health");
    expect(anonymous.status).toBe(200);
    const status = await quotaStatus(asTenant("t-health"));
    expect(status.limits.map((l) => l.used)).toEqual([0, 0, 0, 0]);
  });

  it("proxies a configured exempt pattern untouched: no identification, no RateLimit headers, no count", async () => {
    const w = workerWith({ QUOTA_POLICY: policyJson({ exempt: ["/health", "/public/*"] }) });
    for (let i = 0; i < 3; i++) {
      const res = await w.fetch("/public/docs/index.json?v=2", asTenant("t-exempt"));
      expect(res.headers.get("RateLimit")).toBeNull();
      expect(res.headers.get("RateLimit-Policy")).toBeNull();
      expect(res.headers.get("X-RateLimit-Remaining")).toBeNull();
      const echo = await originEcho(res);
      expect(echo).toMatchObject({ path: "/public/docs/index.json", query: "?v=2" });
      // No tenant was identified, so none is announced to the origin.
      expect(echo.headers["x-quotagate-tenant"]).toBeUndefined();
    }
    // Without any credential, an exempt route is still served.
    await originEcho(await w.fetch("/public/anonymous"));
    const status = await quotaStatus(asTenant("t-exempt"), w.fetch);
    expect(status.limits.map((l) => l.used)).toEqual([0, 0, 0, 0]);

    // A path merely starting like the pattern is not exempt: it is counted.
    const counted = await w.fetch("/publicity", asTenant("t-exempt"));
    await originEcho(counted);
    expect(counted.headers.get("X-RateLimit-Remaining")).toBe("99");
  });
});

// The real bundle in workerd, addressed over a socket with hand-written HTTP/1.1 (what fetch() and the in-process
// test harness cannot send): headers named in Connection stay on their hop both ways, and a GET or HEAD that carries
// a body is refused instead of reaching the origin without it. The loopback demo origin echoes what it received.
import { request } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type DemoOrigin, startDemoOrigin } from "../tools/demo-origin.ts";
import { buildWorker, type Isolates, startIsolates } from "../tools/isolates.ts";

interface RawAnswer {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

let origin: DemoOrigin;
let gateway: Isolates;

/** One request as written: `headers` is a flat [name, value, ...] list (repeats kept), `body` sent as is. */
function raw(method: string, path: string, headers: string[], body?: string): Promise<RawAnswer> {
  const url = new URL(gateway.urls[0]!);
  return new Promise((resolve, reject) => {
    // A flat header list gets no Host from node: write it first, as a client would.
    const all = ["Host", url.host, ...headers];
    const req = request({ host: url.hostname, port: url.port, method, path, headers: all }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => {
        text += c;
      });
      res.on("end", () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: text }));
    });
    req.on("error", reject);
    if (body !== undefined) req.write(body);
    req.end();
  });
}

const echoOf = (a: RawAnswer) => {
  expect(a.status, a.body).toBe(200);
  return JSON.parse(a.body) as { headers: Record<string, string | undefined>; body_bytes: number };
};

beforeAll(async () => {
  origin = await startDemoOrigin(0);
  const script = await buildWorker();
  gateway = await startIsolates(1, script, {
    ORIGIN_URL: origin.url,
    ADMIN_TOKEN: "runtime-http-admin-token",
  });
}, 120_000);

afterAll(async () => {
  await gateway?.dispose();
  await origin?.close();
});

describe("headers named in Connection", () => {
  it("never reach the origin, in one Connection header or several", async () => {
    const echo = echoOf(
      await raw("GET", "/v1/hop", [
        "X-Tenant-ID",
        "t-connection",
        "Connection",
        "keep-alive, X-Secret",
        "Connection",
        "x-other-secret",
        "X-Secret",
        "client-only",
        "X-Other-Secret",
        "client-only",
        "X-Kept",
        "passes",
      ]),
    );
    expect(echo.headers["x-secret"]).toBeUndefined();
    expect(echo.headers["x-other-secret"]).toBeUndefined();
    expect(echo.headers["x-kept"]).toBe("passes");
  });

  it("cannot remove or forge the headers the gateway sets for the origin", async () => {
    const echo = echoOf(
      await raw("GET", "/v1/hop", [
        "X-Tenant-ID",
        "t-connection-own",
        "CF-Connecting-IP",
        "203.0.113.9",
        "Connection",
        "X-Quotagate-Tenant, X-Forwarded-For, X-Real-IP, X-Forwarded-Host",
        "X-Quotagate-Tenant",
        "someone-else",
      ]),
    );
    expect(echo.headers["x-quotagate-tenant"]).toBe("t-connection-own");
    expect(echo.headers["x-forwarded-for"]).toBe("203.0.113.9");
    expect(echo.headers["x-real-ip"]).toBe("203.0.113.9");
    expect(echo.headers["x-forwarded-host"]).toBeDefined();
  });

  it("never reach the client from the origin", async () => {
    // The demo origin answers with `Connection: keep-alive, X-Origin-Hop` and `X-Origin-Hop: origin-only`.
    const answer = await raw("GET", "/v1/hop", ["X-Tenant-ID", "t-connection-res"]);
    echoOf(answer);
    expect(answer.headers["x-origin-hop"]).toBeUndefined();
    expect(answer.headers["keep-alive"]).toBeUndefined();
  });
});

describe("GET and HEAD with a body", () => {
  it("are refused with 400 problem+json before the origin", async () => {
    const before = origin.requests();
    const cases: Array<[string, string[], string]> = [
      ["GET", ["Content-Length", "9"], "some body"],
      ["GET", ["Transfer-Encoding", "chunked"], "some body"],
      ["HEAD", ["Content-Length", "9"], "some body"],
    ];
    for (const [method, headers, body] of cases) {
      const answer = await raw(method, "/v1/search", ["X-Tenant-ID", "t-get-body", ...headers], body);
      expect(answer.status, `${method} ${headers.join(": ")}`).toBe(400);
      expect(answer.headers["content-type"]).toBe("application/problem+json");
      if (method === "GET") expect(JSON.parse(answer.body).detail).toMatch(/cannot carry a body/);
    }
    expect(origin.requests()).toBe(before);
  });

  it("pass with Content-Length: 0 or no body at all", async () => {
    expect(
      echoOf(await raw("GET", "/v1/search", ["X-Tenant-ID", "t-get-empty", "Content-Length", "0"]))
        .body_bytes,
    ).toBe(0);
    expect(echoOf(await raw("GET", "/v1/search", ["X-Tenant-ID", "t-get-none"])).body_bytes).toBe(0);
  });

  it("leave other methods' bodies alone", async () => {
    const echo = echoOf(
      await raw("POST", "/v1/search", ["X-Tenant-ID", "t-post", "Content-Length", "9"], "some body"),
    );
    expect(echo.body_bytes).toBe(9);
  });
});

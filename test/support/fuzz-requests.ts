// fast-check arbitraries of the HTTP fuzz suite: requests a client can send the gateway (methods workerd accepts,
// odd paths, identity and admin credentials, hop-by-hop tricks, oversized values, admin bodies) and how to build them.
import fc from "fast-check";
import { sign } from "hono/jwt";

/** The secrets and addresses the arbitraries weave in (the properties then check none leaks). */
export interface FuzzSecrets {
  adminToken: string;
  /** An API key the fuzz policy knows. */
  apiKey: string;
  jwtSecret: string;
  /** host:port of the origin behind the gateway. */
  originHost: string;
}

/** A JWT to sign when the request is built (signing is asynchronous). */
export interface JwtSpec {
  claims: Record<string, unknown>;
  key: "right" | "wrong";
  alg: "HS256" | "none";
}

export type AuthSpec = { raw: string } | { jwt: JwtSpec };

export interface FuzzRequest {
  kind: "proxy" | "admin";
  method: string;
  path: string;
  headers: Record<string, string>;
  authorization?: AuthSpec;
  body?: string | Uint8Array;
}

/**
 * Methods workerd's Request accepts (it refuses CONNECT and unknown ones: a real edge never delivers those), less
 * MSEARCH, which workerd sends as is and Node's parser (the test origin) only knows as M-SEARCH.
 */
const METHODS = [
  ..."GET HEAD POST PUT DELETE PATCH OPTIONS TRACE PURGE COPY LOCK MKCOL MOVE PROPFIND PROPPATCH".split(" "),
  ..."SEARCH UNLOCK ACL REPORT MKACTIVITY CHECKOUT MERGE NOTIFY SUBSCRIBE UNSUBSCRIBE QUERY get post".split(
    " ",
  ),
];

/**
 * Header values as RFC 9110 allows them (visible ASCII, space, tab): control characters are not field content, and
 * bytes above 0x7e would reach workerd's Headers as UTF-8 with a warning per value.
 */
const headerText = (maxLength = 64) =>
  fc.string({
    unit: fc.oneof(
      { weight: 30, arbitrary: fc.integer({ min: 0x20, max: 0x7e }).map((c) => String.fromCharCode(c)) },
      { weight: 1, arbitrary: fc.constant("\t") },
    ),
    maxLength,
  });

const long = (char: string) => fc.constantFrom(129, 513, 4_096, 65_536).map((n) => char.repeat(n));

const WORDS = [
  "v1",
  "users",
  "admin",
  "quota",
  "status",
  "health",
  "tenants",
  "cache",
  "stats",
  "x",
  "ADMIN",
];
const ENCODED = [
  "%2e",
  "%2E%2e",
  "%2f",
  "%2F",
  "%5c",
  "%00",
  "%25",
  "%zz",
  "%",
  "%C3%A9",
  "%E2%80%AE",
  "%ff",
  "%61dmin",
];

function pathArb(s: FuzzSecrets): fc.Arbitrary<string> {
  const segment = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...WORDS) },
    { weight: 2, arbitrary: fc.constantFrom(".", "..", "", "...", ".%2e", "\\") },
    { weight: 3, arbitrary: fc.constantFrom(...ENCODED) },
    {
      weight: 2,
      arbitrary: fc.integer({ min: 0, max: 255 }).map((b) => `%${b.toString(16).padStart(2, "0")}`),
    },
    { weight: 2, arbitrary: fc.tuple(fc.constantFrom(...WORDS), headerText(8)).map(([w, p]) => `${w};${p}`) },
    { weight: 2, arbitrary: fc.string({ unit: "grapheme", maxLength: 6 }) },
    { weight: 2, arbitrary: fc.string({ unit: "binary-ascii", maxLength: 6 }) },
    { weight: 1, arbitrary: fc.integer({ min: 100, max: 999 }).map((n) => `status/${n}`) },
    { weight: 1, arbitrary: fc.constantFrom(s.originHost, "127.0.0.1:1", "evil.example", "@evil.example") },
    { weight: 1, arbitrary: long("a") },
  );
  const adminish = fc.constantFrom(
    "/admin",
    "/admin/quota",
    "/admin/tenants",
    "/ADMIN/quota/stats",
    "/Admin/quota/stats",
    "/%61dmin/quota/stats",
    "/admin;x/quota/stats",
    "/admin/./quota/stats",
    "/admin/x/../quota/stats",
    "//admin/quota/stats",
    "/admin%2fquota%2fstats",
    "/quota/status",
    "/health",
    "/health/",
  );
  const prefix = fc.oneof({ weight: 3, arbitrary: fc.constant("") }, { weight: 2, arbitrary: adminish });
  const query = fc.option(
    fc.array(fc.tuple(fc.constantFrom("limit", "cursor", "a", "%", "x[]"), headerText(16)), { maxLength: 3 }),
    { nil: undefined },
  );
  return fc
    .tuple(prefix, fc.array(segment, { maxLength: 8 }), query)
    .map(
      ([p, segs, q]) =>
        `${p}/${segs.join("/")}${q ? `?${q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join("&")}` : ""}`,
    );
}

function authArb(s: FuzzSecrets): fc.Arbitrary<AuthSpec> {
  const claims = fc.record(
    {
      sub: fc.oneof(
        { weight: 6, arbitrary: fc.constantFrom("fuzz-jwt-1", "fuzz-jwt-2") },
        { weight: 1, arbitrary: fc.constantFrom("", "has space", "x".repeat(129)) },
        { weight: 1, arbitrary: fc.integer() },
        { weight: 1, arbitrary: fc.jsonValue() },
      ),
      plan: fc.oneof(fc.constantFrom("free", "pro", "enterprise", "gold"), fc.jsonValue()),
      exp: fc.integer({ min: 0, max: 4_000_000_000 }),
      nbf: fc.integer({ min: 0, max: 4_000_000_000 }),
    },
    { requiredKeys: [] },
  );
  const jwt = fc.record({
    claims,
    key: fc.constantFrom<JwtSpec["key"]>("right", "right", "right", "wrong"),
    alg: fc.constantFrom<JwtSpec["alg"]>("HS256", "HS256", "HS256", "none"),
  });
  const raw = fc.oneof(
    fc.constantFrom(`Bearer ${s.adminToken}`, `bearer  ${s.adminToken}  `),
    fc.constantFrom(
      `Bearer ${s.adminToken}x`,
      "Bearer",
      "Bearer ",
      "Bearer a.b.c",
      "Bearer a.b",
      "Bearer ..",
      `Basic ${btoa(`admin:${s.adminToken}`)}`,
      "Basic",
    ),
    headerText(64).map((t) => `Bearer ${t}`),
    headerText(64),
    long("b").map((t) => `Bearer ${t}`),
  );
  return fc.oneof(
    raw.map((r) => ({ raw: r })),
    jwt.map((j) => ({ jwt: j })),
  );
}

function headersArb(s: FuzzSecrets): fc.Arbitrary<Record<string, string>> {
  // Mostly valid credentials, so that most cases get past identification and reach the origin.
  const tenantId = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom("fuzz-t1", "fuzz-t2", " padded ", "ip:1.2.3.4") },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "has space", "../admin") },
    { weight: 1, arbitrary: headerText(32) },
    { weight: 1, arbitrary: long("t") },
  );
  const named = fc.constantFrom(
    "x-tenant-id",
    "authorization",
    "x-api-key",
    "x-admin-key",
    "cf-connecting-ip",
    "content-type",
    "content-length",
    "host",
    "close",
    "keep-alive",
    "upgrade",
    "x-forwarded-for",
  );
  return fc.record(
    {
      "x-tenant-id": tenantId,
      "x-api-key": fc.oneof(
        { weight: 4, arbitrary: fc.constant(s.apiKey) },
        { weight: 1, arbitrary: fc.oneof(headerText(40), fc.constant(""), long("k")) },
      ),
      "x-admin-key": fc.oneof(
        fc.constantFrom(s.adminToken, ` ${s.adminToken} `, `${s.adminToken}x`, ""),
        headerText(40),
      ),
      "cf-connecting-ip": fc.oneof(fc.ipV4(), fc.ipV6(), headerText(40), fc.constant(""), long("9")),
      connection: fc
        .array(fc.oneof({ weight: 4, arbitrary: named }, { weight: 1, arbitrary: headerText(12) }), {
          minLength: 1,
          maxLength: 4,
        })
        .map((a) => a.join(", ")),
      "content-type": fc.oneof(
        fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded", "*/*"),
        headerText(40),
      ),
      "x-forwarded-for": headerText(40),
      "x-quotagate-tenant": headerText(20),
      "x-fuzz-oversized": long("o"),
    },
    { requiredKeys: [] },
  );
}

const bodyArb = fc.oneof(
  fc.string({ maxLength: 200 }),
  fc.uint8Array({ maxLength: 1_024 }),
  fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)),
  fc.constant(""),
);

/** A request to any path (mostly proxied ones). */
export function proxyRequestArb(s: FuzzSecrets): fc.Arbitrary<FuzzRequest> {
  return fc
    .record(
      {
        method: fc.constantFrom(...METHODS),
        path: pathArb(s),
        headers: headersArb(s),
        authorization: authArb(s),
        body: bodyArb,
      },
      { requiredKeys: ["method", "path", "headers"] },
    )
    .map((r) => ({ kind: "proxy" as const, ...withoutBodyOnGet(r) }));
}

const ADMIN_PATHS = [
  "/admin/quota/stats",
  "/admin/quota/usage",
  "/admin/quota/cache/warm",
  "/admin/quota/cache/clear",
  "/admin/quota/health",
  "/admin/quota/update",
  "/admin/tenants/:id",
  "/admin/tenants/:id/reset",
  "/admin/metrics",
  "/admin/openapi.json",
];

/** The admin routes that read a JSON body, with their method. */
const BODY_ROUTES: Array<[method: string, path: string]> = [
  ["POST", "/admin/quota/cache/warm"],
  ["POST", "/admin/quota/cache/clear"],
  ["POST", "/admin/quota/update"],
  ["PUT", "/admin/tenants/:id"],
  ["POST", "/admin/tenants/:id/reset"],
];

/** A body for an admin route: random JSON, near-valid objects, text, bytes, empty, or over the 256 KiB limit. */
function adminBodyArb(): fc.Arbitrary<string | Uint8Array> {
  const id = fc.oneof(fc.constantFrom("fuzz-a", "fuzz-b", "", "has space", "x".repeat(129)), fc.string());
  const anything = fc.jsonValue({ maxDepth: 2 });
  const nearValid = fc.record(
    {
      tenant_id: fc.oneof(id, anything),
      tier: fc.oneof(fc.constantFrom("free", "pro", "enterprise", "gold", ""), anything),
      tenant_ids: fc.oneof(fc.array(id, { maxLength: 5 }), anything),
      plan_type: fc.oneof(fc.constantFrom("free", "pro", "enterprise", "gold"), anything),
      overrides: fc.oneof(
        fc.record(
          {
            limits: fc.array(
              fc.record(
                {
                  window: fc.oneof(
                    fc.constantFrom("minute", "hour", "day", "fortnight", "1h", "0s"),
                    anything,
                  ),
                  limit: fc.oneof(fc.integer(), fc.double(), anything),
                  mode: fc.oneof(fc.constantFrom("enforce", "shadow", "off"), anything),
                  dimension: fc.oneof(fc.constantFrom("requests", "tokens", ""), anything),
                },
                { requiredKeys: [] },
              ),
              { maxLength: 3 },
            ),
            failure: fc.oneof(fc.constantFrom("open", "closed"), anything),
          },
          { requiredKeys: [] },
        ),
        anything,
      ),
      extra: anything,
    },
    { requiredKeys: [] },
  );
  return fc.oneof(
    { weight: 4, arbitrary: nearValid.map((v) => JSON.stringify(v)) },
    { weight: 3, arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)) },
    { weight: 2, arbitrary: fc.string({ maxLength: 100 }) },
    { weight: 1, arbitrary: fc.uint8Array({ maxLength: 256 }) },
    { weight: 1, arbitrary: fc.constantFrom("", " ", "{", "[1,", "null", '{"tenant_id":') },
    { weight: 1, arbitrary: fc.constant(`{"tenant_ids":["${"x".repeat(300 * 1024)}"]}`) },
  );
}

/** A request to an admin route: mostly POST/PUT with a body, with or without the admin token. */
export function adminRequestArb(s: FuzzSecrets): fc.Arbitrary<FuzzRequest> {
  const id = fc.oneof(
    fc.constantFrom("fuzz-a", "fuzz-b", "x".repeat(129), "%20", "a%2Fb", "..", "%2e%2e"),
    headerText(16).map(encodeURIComponent),
  );
  const credentials = fc.oneof(
    {
      weight: 3,
      arbitrary: fc.constant<Record<string, string>>({ authorization: `Bearer ${s.adminToken}` }),
    },
    { weight: 3, arbitrary: fc.constant<Record<string, string>>({ "x-admin-key": s.adminToken }) },
    { weight: 1, arbitrary: fc.constant<Record<string, string>>({}) },
    { weight: 1, arbitrary: headerText(40).map((t) => ({ authorization: `Bearer ${t}` })) },
    { weight: 1, arbitrary: headerText(40).map((t) => ({ "x-admin-key": t })) },
  );
  // Mostly the routes that take a body, with their method; now and then any route with any method.
  const route = fc.oneof(
    { weight: 6, arbitrary: fc.constantFrom(...BODY_ROUTES) },
    { weight: 1, arbitrary: fc.tuple(fc.constantFrom(...METHODS), fc.constantFrom(...ADMIN_PATHS)) },
  );
  return fc
    .record({
      route: fc.tuple(route, id).map(([[method, p], i]) => ({ method, path: p.replace(":id", i) })),
      credentials,
      contentType: fc.option(
        fc.constantFrom("application/json", "text/plain", "application/x-www-form-urlencoded"),
      ),
      body: fc.option(adminBodyArb(), { nil: undefined, freq: 8 }),
    })
    .map(({ credentials: c, contentType, route: { method, path }, body }) => {
      const headers = { ...c, ...(contentType ? { "content-type": contentType } : {}) };
      const request: FuzzRequest = {
        kind: "admin",
        method,
        path,
        headers,
        ...(body === undefined ? {} : { body }),
      };
      return withoutBodyOnGet(request);
    });
}

/** GET and HEAD requests carry no body (a client cannot send one through fetch). */
function withoutBodyOnGet<R extends { method: string; body?: string | Uint8Array }>(r: R): R {
  if (!/^(GET|HEAD)$/i.test(r.method)) return r;
  const { body: _body, ...rest } = r;
  return rest as R;
}

const b64url = (text: string) => btoa(text).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");

/** The Authorization value of `spec` (a JWT is signed now, or left unsigned for alg none). */
export async function authorizationOf(spec: AuthSpec, s: FuzzSecrets): Promise<string> {
  if ("raw" in spec) return spec.raw;
  const { claims, key, alg } = spec.jwt;
  if (alg === "none")
    return `Bearer ${b64url('{"alg":"none","typ":"JWT"}')}.${b64url(JSON.stringify(claims))}.`;
  return `Bearer ${await sign(claims, key === "right" ? s.jwtSecret : `${s.jwtSecret}-wrong`)}`;
}

/** The RequestInit of a fuzz request. */
export async function initOf(r: FuzzRequest, s: FuzzSecrets): Promise<RequestInit> {
  const headers = new Headers(r.headers);
  if (r.authorization) headers.set("authorization", await authorizationOf(r.authorization, s));
  return { method: r.method, headers, ...(r.body === undefined ? {} : { body: r.body }) };
}

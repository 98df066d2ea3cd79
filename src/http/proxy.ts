// Reverse proxy to the origin: bodies streamed both ways, redirects passed back (never followed) with the origin's
// address rewritten to the gateway's, hop-by-hop headers stripped both ways (RFC 9110 §7.6.1), client address
// forwarded from CF-Connecting-IP only, the gateway's admin credential never forwarded, the origin's address never
// in an error a client sees.
import { digestsEqual } from "./admin/auth.ts";
import { problem } from "./problem.ts";

const HOP_BY_HOP = [
  "connection",
  "keep-alive",
  "proxy-authenticate",
  "proxy-authorization",
  "proxy-connection",
  "te",
  "trailer",
  "transfer-encoding",
  "upgrade",
];

/** An HTTP field name (RFC 9110 §5.1: a token). */
const FIELD_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

export function stripHopByHop(headers: Headers): Headers {
  // A listed value that is not a field name names no header (and Headers.delete would throw on it): it is ignored.
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter((s) => FIELD_NAME.test(s));
  for (const h of [...HOP_BY_HOP, ...named]) headers.delete(h);
  return headers;
}

export function originUrl(origin: URL, incoming: URL, path = incoming.pathname): URL {
  // Set the path, never resolve it against the origin: a path like `//evil.example/x` would resolve as a
  // scheme-relative URL and send the request (credentials included) to another host.
  const target = new URL(origin);
  target.pathname = `${origin.pathname.replace(/\/$/, "")}${path}`;
  target.search = incoming.search;
  return target;
}

const sha256 = async (text: string) =>
  new Uint8Array(await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text)));

/** SHA-256 of the admin token, computed on first use (Workers restrict what runs at global scope). */
let adminDigest: { token: string; digest: Promise<Uint8Array> } | undefined;

/** Removes the admin credential: X-Admin-Key always, Authorization when its bearer token is the admin token (compared
 * in constant time). Any other Authorization (a tenant's JWT, Basic credentials for the origin) passes. */
export async function dropAdminCredentials(headers: Headers, adminToken: string | null): Promise<void> {
  headers.delete("x-admin-key");
  const auth = headers.get("authorization");
  if (adminToken === null || auth === null) return;
  const bearer = /^Bearer(?:\s+(.*))?$/i.exec(auth.trim());
  if (!bearer) return;
  if (adminDigest?.token !== adminToken) adminDigest = { token: adminToken, digest: sha256(adminToken) };
  if (digestsEqual(await sha256((bearer[1] ?? "").trim()), await adminDigest.digest))
    headers.delete("authorization");
}

/** A Location or Content-Location naming the origin, rewritten to name the gateway the client addressed (the origin's
 * path prefix removed); relative values and other hosts' URLs are left as they are. */
export function rewriteOriginLocation(value: string, origin: URL, gateway: URL): string {
  if (!/^([a-z][a-z0-9+.-]*:)?\/\//i.test(value.trim())) return value;
  let url: URL;
  try {
    url = new URL(value.trim(), origin);
  } catch {
    return value;
  }
  if (url.origin !== origin.origin) return value;
  const prefix = origin.pathname.replace(/\/$/, "");
  const path =
    prefix && (url.pathname === prefix || url.pathname.startsWith(`${prefix}/`))
      ? url.pathname.slice(prefix.length) || "/"
      : url.pathname;
  return `${gateway.origin}${path}${url.search}${url.hash}`;
}

/** The 502 a client gets: what failed, never where the origin is (that goes to the worker's log). */
function originFailure(detail: string, logged: string, instance: string): Response {
  console.error(`quotagate: ${logged}`);
  return problem("origin_unreachable", detail, { instance });
}

export interface ProxyContext {
  /** The path to ask the origin for (the normalised path the request was priced by); default: as received. */
  path?: string;
  tenant?: string;
  /** Headers of this gateway that must not reach the origin. */
  dropHeaders?: string[];
  /** The admin token (ADMIN_TOKEN): an Authorization bearing it is removed, like X-Admin-Key. */
  adminToken?: string | null;
  /** The request body to send, when the gateway already read the request's own (the same bytes). */
  body?: BodyInit | null;
}

export async function proxyToOrigin(req: Request, origin: URL, ctx: ProxyContext = {}): Promise<Response> {
  const incoming = new URL(req.url);
  const target = originUrl(origin, incoming, ctx.path);
  const headers = stripHopByHop(new Headers(req.headers));
  headers.delete("host");
  for (const h of ctx.dropHeaders ?? []) headers.delete(h);
  await dropAdminCredentials(headers, ctx.adminToken ?? null);
  for (const [k] of [...headers]) if (k.startsWith("x-quotagate-")) headers.delete(k);
  const clientIp = req.headers.get("cf-connecting-ip");
  // Client-supplied X-Forwarded-For can be forged; the edge's CF-Connecting-IP cannot.
  headers.delete("x-forwarded-for");
  headers.delete("x-real-ip");
  if (clientIp) {
    headers.set("x-forwarded-for", clientIp);
    headers.set("x-real-ip", clientIp);
  }
  headers.set("x-forwarded-proto", incoming.protocol.replace(":", ""));
  headers.set("x-forwarded-host", incoming.host);
  if (ctx.tenant) headers.set("x-quotagate-tenant", ctx.tenant);

  let res: Response;
  try {
    res = await fetch(target, {
      method: req.method,
      headers,
      body:
        req.method === "GET" || req.method === "HEAD" ? null : ctx.body !== undefined ? ctx.body : req.body,
      redirect: "manual",
    });
  } catch (err) {
    return originFailure(
      "the origin could not be reached",
      `origin ${origin.host} unreachable: ${(err as Error).message}`,
      incoming.pathname,
    );
  }
  if (res.status < 200 || res.status > 599) {
    // A Workers Response cannot carry this status (it throws a RangeError): an invalid answer, so 502 (RFC 9110 §15.6.3).
    await res.body?.cancel();
    return originFailure(
      `the origin answered with status ${res.status}, which cannot be relayed`,
      `origin ${origin.host} answered with status ${res.status}`,
      incoming.pathname,
    );
  }
  const out = stripHopByHop(new Headers(res.headers));
  for (const name of ["location", "content-location"]) {
    const value = out.get(name);
    if (value !== null) out.set(name, rewriteOriginLocation(value, origin, incoming));
  }
  return new Response(res.body, { status: res.status, statusText: res.statusText, headers: out });
}

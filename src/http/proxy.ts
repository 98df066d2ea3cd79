// Reverse proxy to the origin: bodies streamed both ways, redirects passed back (never followed), hop-by-hop headers
// stripped both ways (RFC 9110 §7.6.1), client address forwarded from CF-Connecting-IP only, the gateway's admin
// credential never forwarded.
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

export function stripHopByHop(headers: Headers): Headers {
  const named = (headers.get("connection") ?? "")
    .split(",")
    .map((s) => s.trim().toLowerCase())
    .filter(Boolean);
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

export interface ProxyContext {
  /** The path to ask the origin for (the normalised path the request was priced by); default: as received. */
  path?: string;
  tenant?: string;
  /** Headers of this gateway that must not reach the origin. */
  dropHeaders?: string[];
  /** The admin token (ADMIN_TOKEN): an Authorization bearing it is removed, like X-Admin-Key. */
  adminToken?: string | null;
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
      body: req.method === "GET" || req.method === "HEAD" ? null : req.body,
      redirect: "manual",
    });
  } catch (err) {
    return problem(
      "origin_unreachable",
      `the origin ${origin.host} could not be reached: ${(err as Error).message}`,
      {
        instance: incoming.pathname,
      },
    );
  }
  if (res.status < 200 || res.status > 599) {
    // A Workers Response cannot carry this status (it throws a RangeError): an invalid answer, so 502 (RFC 9110 §15.6.3).
    await res.body?.cancel();
    return problem(
      "origin_unreachable",
      `the origin ${origin.host} answered with status ${res.status}, which cannot be relayed`,
      { instance: incoming.pathname },
    );
  }
  return new Response(res.body, {
    status: res.status,
    statusText: res.statusText,
    headers: stripHopByHop(new Headers(res.headers)),
  });
}

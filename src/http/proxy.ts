// Reverse proxy to the origin: bodies streamed both ways, redirects passed back (never followed), hop-by-hop headers
// stripped both ways (RFC 9110 §7.6.1), client address forwarded from CF-Connecting-IP only.
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

export function originUrl(origin: URL, incoming: URL): URL {
  // Set the path, never resolve it against the origin: a path like `//evil.example/x` would resolve as a
  // scheme-relative URL and send the request (credentials included) to another host.
  const target = new URL(origin);
  target.pathname = `${origin.pathname.replace(/\/$/, "")}${incoming.pathname}`;
  target.search = incoming.search;
  return target;
}

export interface ProxyContext {
  tenant?: string;
  /** Headers of this gateway that must not reach the origin (admin credentials). */
  dropHeaders?: string[];
  /** Called when the origin could not be reached or answered what cannot be relayed. */
  onFailure?: () => void;
}

export async function proxyToOrigin(req: Request, origin: URL, ctx: ProxyContext = {}): Promise<Response> {
  const incoming = new URL(req.url);
  const target = originUrl(origin, incoming);
  const headers = stripHopByHop(new Headers(req.headers));
  headers.delete("host");
  for (const h of ctx.dropHeaders ?? []) headers.delete(h);
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
    ctx.onFailure?.();
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
    ctx.onFailure?.();
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

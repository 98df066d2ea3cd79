// Admin authentication: `Authorization: Bearer <ADMIN_TOKEN>` or `X-Admin-Key: <ADMIN_TOKEN>`, compared
// in constant time over SHA-256 digests (equal lengths whatever was sent). Without ADMIN_TOKEN the API is closed.
import type { MiddlewareHandler } from "hono";
import { problem } from "../problem.ts";

const encoder = new TextEncoder();

async function digest(text: string): Promise<Uint8Array> {
  return new Uint8Array(await crypto.subtle.digest("SHA-256", encoder.encode(text)));
}

/** Constant-time equality of two SHA-256 digests: workerd's timingSafeEqual, else a full XOR fold. */
export function digestsEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.byteLength !== b.byteLength) return false;
  const subtle = crypto.subtle as SubtleCrypto & {
    timingSafeEqual?: (x: ArrayBufferView, y: ArrayBufferView) => boolean;
  };
  if (typeof subtle.timingSafeEqual === "function") return subtle.timingSafeEqual(a, b);
  let diff = 0;
  for (let i = 0; i < a.byteLength; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/** The admin credentials a request presents (a non-Bearer Authorization header is not one). */
export function presentedTokens(req: Request): string[] {
  const out: string[] = [];
  const auth = req.headers.get("authorization");
  const bearer = auth === null ? null : /^Bearer(?:\s+(.*))?$/i.exec(auth.trim());
  if (bearer) out.push((bearer[1] ?? "").trim());
  const key = req.headers.get("x-admin-key");
  if (key !== null) out.push(key.trim());
  return out;
}

/** True when the request presents the admin token (for routes that show more to the admin, not admin-only ones). */
export async function presentsAdminToken(req: Request, adminToken: string | null): Promise<boolean> {
  if (adminToken === null) return false;
  const tokens = presentedTokens(req);
  if (tokens.length === 0) return false;
  const want = await digest(adminToken);
  let ok = false;
  for (const t of tokens) ok = digestsEqual(await digest(t), want) || ok;
  return ok;
}

const CHALLENGE = { "www-authenticate": 'Bearer realm="quotagate-admin"' };

export function adminAuth(adminToken: string | null): MiddlewareHandler {
  // Hashed on first use: the app is built at global scope, where Workers restrict what may run.
  let expected: Promise<Uint8Array> | undefined;
  return async (c, next) => {
    const instance = new URL(c.req.url).pathname;
    if (adminToken === null) {
      return problem("unauthenticated", "admin API disabled: set ADMIN_TOKEN", {
        instance,
        headers: CHALLENGE,
      });
    }
    const tokens = presentedTokens(c.req.raw);
    if (tokens.length === 0) {
      return problem(
        "unauthenticated",
        "admin credentials missing: send Authorization: Bearer <ADMIN_TOKEN> or X-Admin-Key: <ADMIN_TOKEN>",
        { instance, headers: CHALLENGE },
      );
    }
    expected ??= digest(adminToken);
    const want = await expected;
    let ok = false;
    // Every presented credential is compared (no short circuit), each in constant time.
    for (const t of tokens) ok = digestsEqual(await digest(t), want) || ok;
    if (!ok) return problem("unauthenticated", "invalid admin token", { instance, headers: CHALLENGE });
    await next();
    c.header("cache-control", "no-store");
  };
}

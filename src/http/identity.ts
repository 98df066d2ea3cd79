// Tenant identification: API key, JWT claim, trusted header or client IP, in the order the policy gives. The first
// credential present decides; a present but invalid credential is refused (never silently downgraded to the IP).
// Tenant ids starting with `ip:` are the IP mode's: no other credential may name one.
import { systemClock } from "../core/clock.ts";
import { QuotaGateError } from "../core/errors.ts";
import { type Policy, RESERVED_TENANT_PREFIX } from "../policy/policy-schema.ts";
import { verifyJwt } from "./jwt.ts";

export interface Identity {
  tenant: string;
  via: "apiKey" | "jwt" | "header" | "ip";
  /** Tier named by the credential (API key entry or JWT tier claim). */
  tierHint?: string;
  /** SHA-256 (lower-case hex) of the API key that identified the tenant (the deny list blocks keys by it). */
  keyHash?: string;
}

/** Tenant ids are printable ASCII without spaces (they appear in headers, logs and Redis fields). */
export function validateTenantId(id: string, source: string, maxLength: number): string {
  if (id.length === 0) throw new QuotaGateError("tenant_invalid", `${source} is empty`);
  if (id.length > maxLength) {
    throw new QuotaGateError(
      "tenant_invalid",
      `${source} is ${id.length} characters long; the limit is ${maxLength}`,
    );
  }
  for (let i = 0; i < id.length; i++) {
    const c = id.charCodeAt(i);
    if (c < 0x21 || c > 0x7e) {
      throw new QuotaGateError(
        "tenant_invalid",
        `${source} contains a control, space or non-printable character (code 0x${c.toString(16).padStart(2, "0")}) at position ${i}; use printable ASCII`,
      );
    }
  }
  return id;
}

/** A tenant id a client's credential names (JWT claim or trusted header): valid, and not in the IP namespace, where
 * it would spend another client's per-address quota. */
function namedTenantId(id: string, source: string, maxLength: number): string {
  validateTenantId(id, source, maxLength);
  if (RESERVED_TENANT_PREFIX.test(id)) {
    throw new QuotaGateError(
      "tenant_invalid",
      `${source} names "${id.slice(0, 3)}…": the "ip:" prefix is reserved for tenants identified by client IP`,
    );
  }
  return id;
}

async function sha256Hex(text: string): Promise<string> {
  const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(text));
  return [...new Uint8Array(digest)].map((b) => b.toString(16).padStart(2, "0")).join("");
}

async function byApiKey(key: string, apiKey: Policy["identity"]["apiKey"]): Promise<Identity> {
  const keyHash = await sha256Hex(key);
  const entry = apiKey.keys[keyHash];
  if (!entry) throw new QuotaGateError("unauthenticated", `unknown API key in ${apiKey.header}`);
  return {
    tenant: entry.tenant,
    via: "apiKey",
    keyHash,
    ...(entry.tier ? { tierHint: entry.tier } : {}),
  };
}

async function byJwt(
  token: string,
  secret: string,
  jwt: Policy["identity"]["jwt"],
  max: number,
  nowMs: number,
): Promise<Identity> {
  const payload = await verifyJwt(token, secret, jwt, nowMs);
  const claim = payload[jwt.claim];
  if (typeof claim !== "string" && typeof claim !== "number") {
    throw new QuotaGateError("unauthenticated", `JWT has no string "${jwt.claim}" claim naming the tenant`);
  }
  const tier = jwt.tierClaim ? payload[jwt.tierClaim] : undefined;
  return {
    tenant: namedTenantId(String(claim), `JWT claim "${jwt.claim}"`, max),
    via: "jwt",
    ...(typeof tier === "string" ? { tierHint: tier } : {}),
  };
}

/** The tenant a request is identified as. An API key or a JWT is checked asynchronously (hashing, signature); a
 * trusted header or the client IP is read at once and not wrapped in a promise, which would cost the request an
 * await. Throws (or rejects with) a 4xx QuotaGateError. */
export function identify(
  req: Request,
  identity: Policy["identity"],
  jwtSecret: string | null,
  nowMs: number = systemClock.now(),
): Identity | Promise<Identity> {
  const max = identity.maxIdLength;
  for (const mode of identity.order) {
    if (mode === "apiKey" && identity.apiKey.enabled) {
      const key = req.headers.get(identity.apiKey.header);
      if (key === null) continue;
      if (key.length === 0 || key.length > 512)
        throw new QuotaGateError("unauthenticated", `${identity.apiKey.header} is empty or too long`);
      return byApiKey(key, identity.apiKey);
    }
    if (mode === "jwt" && identity.jwt.enabled && jwtSecret) {
      const auth = req.headers.get("authorization");
      // `Bearer` with nothing after it (runtimes trim the trailing space) is a credential too: an empty one.
      const bearer = auth === null ? null : /^bearer(?:[ \t]+(.*))?$/is.exec(auth.trim());
      if (bearer === null) continue;
      const token = (bearer[1] ?? "").trim();
      if (token === "") throw new QuotaGateError("unauthenticated", "empty bearer token in Authorization");
      if (!/^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/.test(token)) {
        throw new QuotaGateError("unauthenticated", "malformed JWT: expected three base64url segments");
      }
      return byJwt(token, jwtSecret, identity.jwt, max, nowMs);
    }
    if (mode === "header" && identity.header.enabled) {
      const id = req.headers.get(identity.header.name);
      if (id === null) continue;
      return { tenant: namedTenantId(id.trim(), identity.header.name, max), via: "header" };
    }
    if (mode === "ip" && identity.ip.enabled) {
      const ip = req.headers.get("cf-connecting-ip");
      if (!ip) continue;
      return {
        tenant: validateTenantId(`ip:${ip}`, "CF-Connecting-IP", max),
        via: "ip",
        tierHint: identity.ip.tier,
      };
    }
  }
  const accepted = [
    identity.apiKey.enabled && `an API key in ${identity.apiKey.header}`,
    identity.jwt.enabled && "a JWT bearer token",
    identity.header.enabled && `a tenant id in ${identity.header.name}`,
    identity.ip.enabled && "a client IP (CF-Connecting-IP)",
  ].filter(Boolean);
  throw new QuotaGateError(
    "tenant_missing",
    accepted.length
      ? `no tenant identified: send ${accepted.join(" or ")}`
      : "no tenant identification mode is enabled in the policy",
  );
}

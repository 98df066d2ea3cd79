// JWT verification for tenant identification: the HS256 signature first (hono's verify, no claim checks), then the
// registered claims (exp, nbf, iat, iss, aud) with a clock tolerance. Written here rather than left to hono's verify
// because it checks claims before the signature (a forged token learns which claim the gateway expects), quotes the
// token and the expected issuer and audience in its errors, and has no clock tolerance.
import { verify } from "hono/jwt";
import { QuotaGateError } from "../core/errors.ts";

export interface JwtChecks {
  issuer?: string | undefined;
  audience?: string | undefined;
  clockToleranceSec: number;
}

const reject = (why: string): never => {
  throw new QuotaGateError("unauthenticated", `JWT rejected: ${why}`);
};

/** Why hono refused a token, in words that quote nothing from it. */
const SIGNATURE_ERRORS: Record<string, string> = {
  JwtTokenSignatureMismatched: "signature does not match",
  JwtAlgorithmMismatch: "only HS256 is accepted",
  JwtHeaderInvalid: "invalid header (alg HS256, typ JWT, no crit)",
  JwtTokenInvalid: "malformed token",
};

function numericClaim(payload: Record<string, unknown>, name: string): number | undefined {
  const v = payload[name];
  if (v === undefined) return undefined;
  if (typeof v !== "number" || !Number.isFinite(v)) reject(`"${name}" is not a number`);
  return v as number;
}

/** The verified payload of an HS256 token; throws a 401 QuotaGateError saying which check failed. */
export async function verifyJwt(
  token: string,
  secret: string,
  checks: JwtChecks,
  nowMs: number,
): Promise<Record<string, unknown>> {
  let payload: Record<string, unknown>;
  try {
    payload = await verify(token, secret, { alg: "HS256", nbf: false, exp: false, iat: false });
  } catch (err) {
    return reject(SIGNATURE_ERRORS[(err as Error).name] ?? "invalid token");
  }
  const now = Math.floor(nowMs / 1000);
  const skew = checks.clockToleranceSec;
  const exp = numericClaim(payload, "exp");
  if (exp !== undefined && now >= exp + skew) reject("expired (exp)");
  const nbf = numericClaim(payload, "nbf");
  if (nbf !== undefined && now + skew < nbf) reject("not valid before its nbf time");
  const iat = numericClaim(payload, "iat");
  if (iat !== undefined && now + skew < iat) reject("issued in the future (iat)");
  if (checks.issuer !== undefined && payload.iss !== checks.issuer) reject("issuer (iss) not accepted");
  if (checks.audience !== undefined) {
    const aud = payload.aud;
    const list = Array.isArray(aud) ? aud : [aud];
    if (!list.includes(checks.audience)) reject("audience (aud) not accepted");
  }
  return payload;
}

// Deny-list values and matching: what a valid entry is (tenant id, SHA-256 hex of an API key, IPv4/IPv6 CIDR range),
// its one normal form, and the compiled set a request is checked against with no I/O. Addresses are parsed by
// ipaddr.js (RFC 4291/5952 handling, IPv4-mapped IPv6), held to dotted-quad IPv4 and zone-less IPv6 notation.
import ipaddr from "ipaddr.js";
import type { DenyEntry, DenyKind } from "../core/deny.ts";

export type Normalised = { ok: true; value: string } | { ok: false; message: string };

const TENANT = /^[\x21-\x7e]+$/;
const SHA256 = /^[0-9a-fA-F]{64}$/;
const PREFIX = /^(0|[1-9]\d{0,2})$/;
/** Longest operator note kept with an entry. */
export const DENY_REASON_MAX = 200;

function normaliseTenant(raw: string, maxIdLength: number): Normalised {
  if (raw.length === 0 || raw.length > maxIdLength)
    return { ok: false, message: `a tenant id is 1-${maxIdLength} characters` };
  if (!TENANT.test(raw)) return { ok: false, message: "a tenant id is printable ASCII without spaces" };
  return { ok: true, value: raw };
}

function parseAddress(raw: string): ipaddr.IPv4 | ipaddr.IPv6 | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(raw)) return ipaddr.IPv4.parse(raw);
  if (!raw.includes(":") || raw.includes("%") || !ipaddr.IPv6.isValid(raw)) return null;
  return ipaddr.IPv6.parse(raw);
}

/** `a.b.c.d/n`, `x::/n`, or a single address (a /32 or /128); the network address is kept (host bits cleared). */
export function normaliseCidr(raw: string): Normalised {
  const [addr = "", prefix, ...rest] = raw.trim().split("/");
  const ip = rest.length === 0 ? parseAddress(addr) : null;
  if (!ip) return { ok: false, message: "not an IPv4 (dotted quad) or IPv6 address or CIDR range" };
  const max = ip.kind() === "ipv4" ? 32 : 128;
  if (ip.kind() === "ipv6" && (ip as ipaddr.IPv6).isIPv4MappedAddress())
    return { ok: false, message: "write an IPv4-mapped range in IPv4 notation" };
  if (prefix !== undefined && (!PREFIX.test(prefix) || Number(prefix) > max))
    return { ok: false, message: `the prefix length is 0-${max}` };
  const bits = prefix === undefined ? max : Number(prefix);
  const network =
    ip.kind() === "ipv4"
      ? ipaddr.IPv4.networkAddressFromCIDR(`${ip.toString()}/${bits}`)
      : ipaddr.IPv6.networkAddressFromCIDR(`${ip.toString()}/${bits}`);
  return { ok: true, value: `${network.toString()}/${bits}` };
}

/** The normal form of a deny-list value, or why it is not one. */
export function normaliseDenyValue(kind: DenyKind, raw: string, maxIdLength: number): Normalised {
  if (kind === "tenant") return normaliseTenant(raw, maxIdLength);
  if (kind === "key")
    return SHA256.test(raw)
      ? { ok: true, value: raw.toLowerCase() }
      : { ok: false, message: 'the SHA-256 of the API key: 64 hex digits (printf %s "$KEY" | sha256sum)' };
  return normaliseCidr(raw);
}

/** What a request is checked against: the entry that refuses it, or null. */
export interface DenyRules {
  readonly size: number;
  /** The entries in force (those that compiled). */
  readonly entries: readonly DenyEntry[];
  /** The range entry holding this client address (unparsable addresses match nothing). */
  matchIp(ip: string | null): DenyEntry | null;
  matchTenant(tenant: string): DenyEntry | null;
  matchKey(sha256Hex: string | undefined): DenyEntry | null;
}

type Range = { entry: DenyEntry; range: [ipaddr.IPv4 | ipaddr.IPv6, number] };

/** Compiles entries (as stored: already normal) for lookups: sets for tenants and keys, parsed ranges for IPs. */
export function compileDenyRules(entries: DenyEntry[]): DenyRules {
  const tenants = new Map<string, DenyEntry>();
  const keys = new Map<string, DenyEntry>();
  const v4: Range[] = [];
  const v6: Range[] = [];
  const kept: DenyEntry[] = [];
  for (const e of entries) {
    if (e.kind === "tenant") tenants.set(e.value, e);
    else if (e.kind === "key") keys.set(e.value, e);
    else {
      // Stored values are normal already; one that is not (written by hand) is skipped rather than thrown on.
      const n = normaliseCidr(e.value);
      if (!n.ok) {
        console.error(`quotagate: deny-list range "${e.value}" is not a CIDR range; it is ignored`);
        continue;
      }
      const range = ipaddr.parseCIDR(n.value);
      (range[0].kind() === "ipv4" ? v4 : v6).push({ entry: e, range });
    }
    kept.push(e);
  }
  return {
    size: kept.length,
    entries: kept,
    matchIp(ip) {
      if (!ip || (v4.length === 0 && v6.length === 0) || !ipaddr.isValid(ip)) return null;
      // An IPv4-mapped IPv6 address (::ffff:a.b.c.d) is the IPv4 client it stands for.
      const addr = ipaddr.process(ip);
      for (const r of addr.kind() === "ipv4" ? v4 : v6) if (addr.match(r.range)) return r.entry;
      return null;
    },
    matchTenant: (tenant) => tenants.get(tenant) ?? null,
    matchKey: (hash) => (hash === undefined ? null : (keys.get(hash) ?? null)),
  };
}

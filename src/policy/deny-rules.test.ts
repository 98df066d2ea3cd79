// Deny-list values: every kind's valid and invalid forms, the one normal form of a range, and matching of client
// addresses (IPv4, IPv6, IPv4-mapped IPv6) against ranges.
import { describe, expect, it } from "vitest";
import type { DenyEntry } from "../core/deny.ts";
import { compileDenyRules, normaliseCidr, normaliseDenyValue } from "./deny-rules.ts";

const ok = (value: string) => ({ ok: true, value });
const entry = (kind: DenyEntry["kind"], value: string): DenyEntry => ({ kind, value, createdAtMs: 0 });

describe("normaliseCidr", () => {
  it.each([
    ["10.0.0.0/8", "10.0.0.0/8"],
    ["10.1.2.3/8", "10.0.0.0/8"],
    ["192.168.1.7", "192.168.1.7/32"],
    ["0.0.0.0/0", "0.0.0.0/0"],
    ["2001:db8::/32", "2001:db8::/32"],
    ["2001:0DB8:0:0:1::/48", "2001:db8::/48"],
    ["2001:db8::1", "2001:db8::1/128"],
    [" 10.0.0.0/16 ", "10.0.0.0/16"],
  ])("%s -> %s", (raw, want) => {
    expect(normaliseCidr(raw)).toEqual(ok(want));
  });

  it.each([
    "10.0.0.0/33",
    "10.0.0/8",
    "010.0.0.1",
    "0x0a.0.0.1",
    "10.0.0.256",
    "10.0.0.0/08",
    "10.0.0.0/",
    "10.0.0.0/8/9",
    "2001:db8::/129",
    "fe80::1%eth0",
    "::ffff:10.0.0.0/104",
    "example.com",
    "",
  ])("refuses %j", (raw) => {
    expect(normaliseCidr(raw).ok).toBe(false);
  });
});

describe("normaliseDenyValue", () => {
  it("takes tenant ids as the gateway identifies them", () => {
    expect(normaliseDenyValue("tenant", "acme", 128)).toEqual(ok("acme"));
    expect(normaliseDenyValue("tenant", "ip:1.2.3.4", 128)).toEqual(ok("ip:1.2.3.4"));
    expect(normaliseDenyValue("tenant", "has space", 128).ok).toBe(false);
    expect(normaliseDenyValue("tenant", "", 128).ok).toBe(false);
    expect(normaliseDenyValue("tenant", "x".repeat(9), 8).ok).toBe(false);
  });

  it("takes a key's SHA-256 in hex, stored in lower case", () => {
    expect(normaliseDenyValue("key", "AB".repeat(32), 128)).toEqual(ok("ab".repeat(32)));
    expect(normaliseDenyValue("key", "ab".repeat(31), 128).ok).toBe(false);
    expect(normaliseDenyValue("key", "zz".repeat(32), 128).ok).toBe(false);
  });
});

describe("compileDenyRules", () => {
  const rules = compileDenyRules([
    entry("ip", "10.0.0.0/8"),
    entry("ip", "192.168.1.7/32"),
    entry("ip", "2001:db8::/32"),
    entry("tenant", "bad-tenant"),
    entry("key", "ab".repeat(32)),
  ]);

  it("matches client addresses inside a range, and only those", () => {
    expect(rules.matchIp("10.255.3.4")?.value).toBe("10.0.0.0/8");
    expect(rules.matchIp("11.0.0.1")).toBeNull();
    expect(rules.matchIp("192.168.1.7")?.value).toBe("192.168.1.7/32");
    expect(rules.matchIp("192.168.1.8")).toBeNull();
    expect(rules.matchIp("2001:db8:ffff::1")?.value).toBe("2001:db8::/32");
    expect(rules.matchIp("2001:db9::1")).toBeNull();
    expect(rules.matchIp("::ffff:10.1.1.1")?.value).toBe("10.0.0.0/8");
    expect(rules.matchIp("not an ip")).toBeNull();
    expect(rules.matchIp(null)).toBeNull();
  });

  it("matches tenants and key hashes exactly", () => {
    expect(rules.matchTenant("bad-tenant")?.kind).toBe("tenant");
    expect(rules.matchTenant("bad-tenant2")).toBeNull();
    expect(rules.matchKey("ab".repeat(32))?.kind).toBe("key");
    expect(rules.matchKey(undefined)).toBeNull();
    expect(rules.size).toBe(5);
  });
});

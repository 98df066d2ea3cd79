// The path normaliser: unreserved escapes decoded, slashes collapsed, dot segments removed, `;params` and case for
// matching, refused paths, the admin-path check and pattern validation.
import { describe, expect, it } from "vitest";
import { QuotaGateError } from "../core/errors.ts";
import { isAdminPath, normalisePath, type PathOptions, patternProblem } from "./path.ts";

const INSENSITIVE: PathOptions = { caseSensitive: false, encodedSlashes: "refuse" };
const SENSITIVE: PathOptions = { caseSensitive: true, encodedSlashes: "refuse" };

describe("normalisePath", () => {
  it.each([
    ["/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/%63hat/completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/%7euser/%2d%5f%2E", "/v1/~user/-_.", "/v1/~user/-_."],
    ["/V1/Chat/Completions", "/V1/Chat/Completions", "/v1/chat/completions"],
    ["/v1/chat//completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["//v1///chat/completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/x/../chat/./completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/%2e%2e/v1/chat/completions", "/v1/chat/completions", "/v1/chat/completions"],
    ["/v1/chat/completions;x", "/v1/chat/completions;x", "/v1/chat/completions"],
    [
      "/v1;a=1/chat;b/completions;jsessionid=9",
      "/v1;a=1/chat;b/completions;jsessionid=9",
      "/v1/chat/completions",
    ],
    ["/v1/;x/chat/completions", "/v1/;x/chat/completions", "/v1/chat/completions"],
    ["/v1/chat/completions/", "/v1/chat/completions/", "/v1/chat/completions"],
    ["/v1/chat/completions/.", "/v1/chat/completions/", "/v1/chat/completions"],
    ["/v1/chat/x/..", "/v1/chat/", "/v1/chat"],
    ["/../..", "/", "/"],
    ["/", "/", "/"],
    ["/caf%c3%a9", "/caf%C3%A9", "/caf%c3%a9"],
  ])("%s -> forward %s, match %s", (raw, forward, match) => {
    expect(normalisePath(raw, INSENSITIVE)).toEqual({ forward, match });
  });

  it("keeps case for matching when the policy is case-sensitive", () => {
    expect(normalisePath("/V1/%63hat", SENSITIVE)).toEqual({ forward: "/V1/chat", match: "/V1/chat" });
  });

  it.each([
    ["/v1/chat%2Fcompletions", /encoded slash/],
    ["/v1/chat%2fcompletions", /encoded slash/],
    ["/v1/chat%5Ccompletions", /encoded slash/],
    ["/v1/chat%00", /NUL/],
    ["/v1/..;/admin", /dot segment with parameters/],
    ["/v1/.;x/chat", /dot segment with parameters/],
    ["/v1/%2e%2e;x/chat", /dot segment with parameters/],
    ["v1/chat", /start with/],
  ])("refuses %s with a 400", (raw, why) => {
    let err: unknown;
    try {
      normalisePath(raw, INSENSITIVE);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(QuotaGateError);
    expect((err as QuotaGateError).code).toBe("bad_request");
    expect((err as Error).message).toMatch(why);
  });

  it("keeps encoded slashes encoded when the policy says so", () => {
    expect(normalisePath("/v1/a%2fb", { ...INSENSITIVE, encodedSlashes: "keep" })).toEqual({
      forward: "/v1/a%2Fb",
      match: "/v1/a%2fb",
    });
  });

  it("is idempotent: the forwarded path normalises to itself and matches the same", () => {
    for (const raw of ["/v1/%63hat//x/../y;p/", "/A//b/./c;d/..", "/%7e/%41%42/", "/v1/;x//;y/z"]) {
      const once = normalisePath(raw, INSENSITIVE);
      expect(normalisePath(once.forward, INSENSITIVE)).toEqual(once);
      expect(normalisePath(once.match, INSENSITIVE).match).toBe(once.match);
    }
  });
});

describe("isAdminPath", () => {
  it.each([
    ["/admin", true],
    ["/admin/quota/stats", true],
    ["//admin/quota/stats", true],
    ["/ADMIN/quota/stats", true],
    ["/%61dmin/quota/stats", true],
    ["/admin;x/quota/stats", true],
    ["/x/../admin/", true],
    ["/administrator", false],
    ["/v1/admin", false],
  ])("%s -> %s", (raw, admin) => {
    expect(isAdminPath(normalisePath(raw, SENSITIVE))).toBe(admin);
  });
});

describe("patternProblem", () => {
  it("accepts patterns written as normalised paths", () => {
    for (const p of ["/", "/health", "/v1/chat/*", "/v1/*/items", "/V1/Mixed"])
      expect(patternProblem(p)).toBeNull();
  });

  it("names the form a pattern must take", () => {
    expect(patternProblem("/v1//chat/")).toMatch(/"\/v1\/chat"/);
    expect(patternProblem("/v1/./chat")).toMatch(/"\/v1\/chat"/);
    expect(patternProblem("/v1;x/chat")).toMatch(/"\/v1\/chat"/);
    expect(patternProblem("/%63hat")).toMatch(/"\/chat"/);
    expect(patternProblem("/a%00")).toMatch(/NUL/);
  });
});

// Unit tests for the Lua shebang rewriting and the original -> rewritten SHA-1 translation.

import { describe, expect, it } from "vitest";
import { createScriptRewriter, sha1Hex, stripUpstashFlags } from "./script-rewriter.ts";

describe("stripUpstashFlags", () => {
  it("removes allow-key-locking and keeps every other flag and the body", () => {
    expect(stripUpstashFlags("#!lua flags=allow-key-locking\nreturn 1")).toBe("#!lua flags=\nreturn 1");
    expect(stripUpstashFlags("#!lua flags=no-writes,allow-key-locking\nreturn 1")).toBe(
      "#!lua flags=no-writes\nreturn 1",
    );
    expect(stripUpstashFlags("#!lua  name=x flags=allow-key-locking,allow-oom")).toBe(
      "#!lua name=x flags=allow-oom",
    );
  });

  it("leaves scripts without the flag untouched", () => {
    expect(stripUpstashFlags("return 1")).toBeUndefined();
    expect(stripUpstashFlags("#!lua flags=no-writes\nreturn 1")).toBeUndefined();
    // Only the shebang line counts; the same text later in the body is Lua, not a flag.
    expect(stripUpstashFlags("#!lua\n-- flags=allow-key-locking\nreturn 1")).toBeUndefined();
  });
});

describe("createScriptRewriter", () => {
  const source = "#!lua flags=allow-key-locking\nreturn redis.call('incr', KEYS[1])";
  const rewritten = "#!lua flags=\nreturn redis.call('incr', KEYS[1])";

  it("rewrites EVAL and translates EVALSHA of the original SHA-1 afterwards", () => {
    const scripts = createScriptRewriter();
    // Unknown original: passes through so Redis answers NOSCRIPT and the client falls back to EVAL.
    expect(scripts.prepare(["evalsha", sha1Hex(source), "1", "k"]).command).toEqual([
      "evalsha",
      sha1Hex(source),
      "1",
      "k",
    ]);
    expect(scripts.prepare(["EVAL", source, "1", "k"]).command).toEqual(["EVAL", rewritten, "1", "k"]);
    expect(scripts.prepare(["evalsha", sha1Hex(source).toUpperCase(), "1", "k"]).command).toEqual([
      "evalsha",
      sha1Hex(rewritten),
      "1",
      "k",
    ]);
    expect(scripts.prepare(["script", "exists", sha1Hex(source), "abc"]).command).toEqual([
      "script",
      "exists",
      sha1Hex(rewritten),
      "abc",
    ]);
  });

  it("answers SCRIPT LOAD with the SHA-1 of the text the client sent", () => {
    const scripts = createScriptRewriter();
    const prepared = scripts.prepare(["script", "load", source]);
    expect(prepared.command).toEqual(["script", "load", rewritten]);
    expect(String(prepared.fixReply(Buffer.from(sha1Hex(rewritten))))).toBe(sha1Hex(source));
    expect(scripts.prepare(["evalsha_ro", sha1Hex(source), "0"]).command[1]).toBe(sha1Hex(rewritten));
  });

  it("does not touch ordinary scripts or other commands", () => {
    const scripts = createScriptRewriter();
    const plain = ["eval", "return 1", "0"] as const;
    expect(scripts.prepare(plain).command).toBe(plain);
    const set = ["set", "k", "v"] as const;
    expect(scripts.prepare(set).command).toBe(set);
  });
});

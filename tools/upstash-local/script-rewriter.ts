// Drops Upstash-only Lua shebang flags before scripts reach redis-server, keeping the client's SHA-1s valid.

import { createHash } from "node:crypto";
import { isBuffer, type RedisReply } from "./reply-json.ts";
import type { CommandArgs } from "./request-body.ts";

/**
 * Shebang flags Upstash accepts and stock Redis rejects ("ERR Unexpected flag in script shebang").
 * @upstash/ratelimit 2.2 starts every script with `#!lua flags=allow-key-locking`.
 */
const UPSTASH_ONLY_FLAGS = new Set(["allow-key-locking"]);

export function sha1Hex(text: string): string {
  return createHash("sha1").update(text, "utf8").digest("hex");
}

/**
 * The script with Upstash-only flags removed from its `#!lua flags=...` line, or undefined when it
 * needs no change. Other flags stay, and an emptied list stays as `flags=` so the script keeps
 * shebang semantics (Redis accepts an empty list; without any shebang it would treat the script as
 * an old-style one with different defaults).
 */
export function stripUpstashFlags(script: string): string | undefined {
  if (!script.startsWith("#!")) return undefined;
  const lineEnd = script.indexOf("\n");
  const shebang = lineEnd === -1 ? script : script.slice(0, lineEnd);
  let changed = false;
  const parts = shebang.split(/[ \t]+/).map((part) => {
    if (!part.startsWith("flags=")) return part;
    const flags = part.slice("flags=".length).split(",");
    const kept = flags.filter((flag) => !UPSTASH_ONLY_FLAGS.has(flag));
    if (kept.length === flags.length) return part;
    changed = true;
    return `flags=${kept.filter((flag) => flag !== "").join(",")}`;
  });
  if (!changed) return undefined;
  return parts.join(" ") + (lineEnd === -1 ? "" : script.slice(lineEnd));
}

/** A command ready for Redis plus the fix-up its reply needs (SCRIPT LOAD must answer the original SHA). */
export type PreparedCommand = { command: CommandArgs; fixReply: (reply: RedisReply) => RedisReply };

export type ScriptRewriter = {
  /** Rewrites EVAL/EVAL_RO/SCRIPT LOAD bodies and translates EVALSHA/EVALSHA_RO/SCRIPT EXISTS SHA-1s. */
  prepare(command: CommandArgs): PreparedCommand;
};

const keepReply = (reply: RedisReply): RedisReply => reply;

/**
 * The client computes SHA-1 over the text it holds and sends EVALSHA with that; Redis only knows
 * the SHA-1 of the rewritten text. Every rewritten script seen through EVAL or SCRIPT LOAD records
 * original -> rewritten, and EVALSHA of a recorded original runs the rewritten one. An original never
 * seen passes through unchanged, Redis answers NOSCRIPT, and the client falls back to EVAL, which
 * records it. The map outlives SCRIPT FLUSH on purpose: a flushed rewritten SHA also yields NOSCRIPT.
 */
export function createScriptRewriter(): ScriptRewriter {
  const rewrittenSha = new Map<string, string>();

  const rewrite = (script: string): { text: string; originalSha: string } | undefined => {
    const text = stripUpstashFlags(script);
    if (text === undefined) return undefined;
    const originalSha = sha1Hex(script);
    rewrittenSha.set(originalSha, sha1Hex(text));
    return { text, originalSha };
  };
  const translate = (sha: string): string => rewrittenSha.get(sha.toLowerCase()) ?? sha;

  return {
    prepare(command) {
      const [rawName, ...args] = command;
      const name = rawName.toLowerCase();
      const first = args[0];
      if (first === undefined) return { command, fixReply: keepReply };
      if (name === "eval" || name === "eval_ro") {
        const rewritten = rewrite(first);
        if (rewritten === undefined) return { command, fixReply: keepReply };
        return { command: [rawName, rewritten.text, ...args.slice(1)], fixReply: keepReply };
      }
      if (name === "evalsha" || name === "evalsha_ro") {
        return { command: [rawName, translate(first), ...args.slice(1)], fixReply: keepReply };
      }
      if (name === "script") {
        const sub = first.toLowerCase();
        const script = args[1];
        if (sub === "load" && script !== undefined && args.length === 2) {
          const rewritten = rewrite(script);
          if (rewritten === undefined) return { command, fixReply: keepReply };
          const originalSha = Buffer.from(rewritten.originalSha);
          return {
            command: [rawName, first, rewritten.text],
            fixReply: (reply) => (isBuffer(reply) ? originalSha : reply),
          };
        }
        if (sub === "exists") {
          return { command: [rawName, first, ...args.slice(1).map(translate)], fixReply: keepReply };
        }
      }
      return { command, fixReply: keepReply };
    },
  };
}

// Decides which commands the REST bridge refuses because they would change or block a shared Redis connection.

import type { CommandArgs } from "./request-body.ts";

/**
 * Commands that change per-connection state or block it. Requests share pooled connections, so one
 * client's SELECT or SUBSCRIBE would leak into every other request, and a BLPOP would stall them all.
 * Upstash's REST API does not offer them either (DOCS: only PING/ECHO among connection commands, no
 * blocking commands). MULTI/EXEC live behind POST /multi-exec instead.
 */
const UNAVAILABLE = new Set([
  "multi",
  "exec",
  "discard",
  "watch",
  "unwatch",
  "select",
  "subscribe",
  "psubscribe",
  "ssubscribe",
  "unsubscribe",
  "punsubscribe",
  "sunsubscribe",
  "monitor",
  "blpop",
  "brpop",
  "brpoplpush",
  "blmove",
  "blmpop",
  "bzpopmin",
  "bzpopmax",
  "bzmpop",
  "wait",
  "waitaof",
  "auth",
  "hello",
  "reset",
  "quit",
  "readonly",
  "readwrite",
  "sync",
  "psync",
  "replconf",
]);

/** CLIENT subcommands that only read or label the connection; the client library sends CLIENT SETINFO. */
const CLIENT_SUBCOMMANDS_ALLOWED = new Set(["setinfo", "id", "info", "list", "getname", "help"]);

/**
 * The `ERR Command is not available: <CMD>` message for a refused command (the wording upstashdis
 * tests expect from Upstash), or undefined when the command may run.
 */
export function unavailableReason(command: CommandArgs): string | undefined {
  const [rawName, ...args] = command;
  const name = rawName.toLowerCase();
  if (UNAVAILABLE.has(name)) return `ERR Command is not available: ${name.toUpperCase()}`;
  if (name === "client") {
    const sub = args[0]?.toLowerCase();
    if (sub !== undefined && !CLIENT_SUBCOMMANDS_ALLOWED.has(sub)) {
      return `ERR Command is not available: CLIENT ${sub.toUpperCase()}`;
    }
  }
  if ((name === "xread" || name === "xreadgroup") && hasBlockOption(args)) {
    return `ERR Command is not available: ${name.toUpperCase()} BLOCK`;
  }
  return undefined;
}

/** XREAD/XREADGROUP options come before STREAMS; after it every argument is a key or an id. */
function hasBlockOption(args: readonly string[]): boolean {
  for (const arg of args) {
    const lower = arg.toLowerCase();
    if (lower === "streams") return false;
    if (lower === "block") return true;
  }
  return false;
}

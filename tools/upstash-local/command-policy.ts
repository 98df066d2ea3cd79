// Decides which commands the REST bridge refuses: what Upstash does not offer, and what would change or block a shared connection.

import type { CommandArgs } from "./request-body.ts";

/**
 * Commands that change per-connection state or block it. Requests share pooled connections, so one
 * client's SELECT or SUBSCRIBE would leak into every other request, and a BLPOP would stall them all.
 * Upstash's REST API does not offer them either: among connection commands it has only PING and
 * ECHO, and no blocking commands. MULTI/EXEC live behind POST /multi-exec instead.
 */
const CONNECTION_STATE = [
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
  "asking",
];

/**
 * Server administration. Upstash runs the server for its users, so its command list has none of
 * these: no configuration, persistence, replication, cluster, module, ACL or debugging commands
 * (its Server group is DBSIZE, FLUSHALL, FLUSHDB, TIME and its own ACL RESTTOKEN; upstash-local has
 * no users, so ACL is refused whole). On a bridge they would let any token holder reconfigure,
 * stop or empty other databases of the redis-server. The list holds every command the Redis 7
 * command table flags `admin` (test/upstash-local-http.int.test.ts checks that against the
 * running redis-server), plus SWAPDB, MIGRATE and RESTORE-ASKING, which move data between databases
 * or servers.
 */
const SERVER_ADMIN = [
  "acl",
  "bgrewriteaof",
  "bgsave",
  "cluster",
  "config",
  "debug",
  "failover",
  "latency",
  "migrate",
  "module",
  "monitor",
  "pfdebug",
  "pfselftest",
  "psync",
  "replconf",
  "replicaof",
  "restore-asking",
  "save",
  "shutdown",
  "slaveof",
  "slowlog",
  "swapdb",
  "sync",
];

const UNAVAILABLE: ReadonlySet<string> = new Set([...CONNECTION_STATE, ...SERVER_ADMIN]);

/**
 * CLIENT subcommands that only read or label the caller's own connection; the client library sends
 * CLIENT SETINFO. The others kill, pause or list other clients (Redis flags them admin) or change
 * how the shared connection replies (REPLY, TRACKING, NO-EVICT).
 */
const CLIENT_SUBCOMMANDS_ALLOWED: ReadonlySet<string> = new Set(["setinfo", "id", "info", "getname", "help"]);

/**
 * The `ERR Command is not available: <CMD>` message for a refused command (the wording real
 * Upstash answers for a command it does not offer), or undefined when the command may run.
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

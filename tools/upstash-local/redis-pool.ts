// Owns the redis-server connections: one shared pipelined connection plus a pool of exclusive ones for transactions.

import { Command, Redis, type RedisOptions, ReplyError } from "ioredis";

/**
 * Every connection speaks RESP2 and hands replies over as Buffers (sendRaw) with integers as
 * decimal strings, so values stay binary-safe and 64-bit integers keep their digits. No INFO ready
 * check and no CLIENT SETINFO on connect: the benchmark counts Redis commands, and those would be
 * noise. Unfulfilled commands are never re-sent after a reconnect, because running a write twice is
 * worse than failing the request.
 */
const BASE_OPTIONS: RedisOptions = {
  lazyConnect: true,
  stringNumbers: true,
  enableReadyCheck: false,
  disableClientInfo: true,
  autoResendUnfulfilledCommands: false,
  maxRetriesPerRequest: 1,
};

/**
 * A connection of its own for one user (a transaction, a subscription), connected by the caller. A
 * dropped one is not revived: its MULTI or SUBSCRIBE state is gone, so the caller replaces or ends it.
 */
export function openDedicatedConnection(redisUrl: string): Redis {
  const connection = new Redis(redisUrl, { ...BASE_OPTIONS, retryStrategy: () => null });
  // Without a listener ioredis prints every error; the caller sees failures through its promises.
  connection.on("error", () => {});
  return connection;
}

/** A reply error from Redis itself (WRONGTYPE, NOSCRIPT, EXECABORT...), as opposed to a transport failure. */
export function isReplyError(error: unknown): error is Error {
  return error instanceof (ReplyError as typeof Error);
}

/**
 * A command whose reply reaches the caller exactly as Redis sent it. ioredis reshapes the replies
 * of some commands by name (`Command.transformReply` looks the name up in a table of reply
 * transformers; `hgetall` turns the flat field/value array into an object, which the REST JSON
 * would then carry as "[object Object]"). callBuffer only switches off the string decoding, not the
 * transformers, and they match the name as given, so a lower-case name from the REST body got
 * reshaped and an upper-case one did not. Overriding transformReply turns them off for every name
 * and case. ioredis's argument transformers (HSET, HMSET, MSET, MSETNX) only flatten an object or
 * Map argument; the bridge only ever passes strings, so they never apply.
 */
class RawCommand extends Command {
  override transformReply(result: Buffer | Buffer[]): Buffer | Buffer[] {
    return result;
  }
}

/** Sends one command on `connection`; resolves with the untransformed reply (Buffers, decimal-string integers). */
export function sendRaw(connection: Redis, name: string, args: readonly string[] = []): Promise<unknown> {
  const command = new RawCommand(name, [...args], { replyEncoding: null });
  connection.sendCommand(command);
  return command.promise;
}

export type RedisPool = {
  /**
   * The connection every non-transactional request uses. ioredis writes commands in call order and
   * Redis answers one connection in order, so a request's commands, issued synchronously, run in
   * sequence; other requests may interleave between them, which Upstash pipelines allow too.
   */
  shared: Redis;
  /** Runs `fn` with a connection nobody else uses meanwhile (MULTI..EXEC). A throw discards the connection. */
  withExclusive<T>(fn: (connection: Redis) => Promise<T>): Promise<T>;
  close(): Promise<void>;
};

export async function createRedisPool(
  redisUrl: string,
  opts: { maxExclusive?: number; maxIdle?: number } = {},
): Promise<RedisPool> {
  const maxExclusive = opts.maxExclusive ?? 64;
  const maxIdle = opts.maxIdle ?? 8;
  const shared = new Redis(redisUrl, BASE_OPTIONS);
  // Without a listener ioredis prints every reconnect error; failures surface as 500 responses instead.
  shared.on("error", () => {});
  await shared.connect();
  await sendRaw(shared, "ping");

  const idle: Redis[] = [];
  const all = new Set<Redis>();
  const waiters: Array<() => void> = [];
  let inUse = 0;
  let closed = false;

  const open = async (): Promise<Redis> => {
    const connection = openDedicatedConnection(redisUrl);
    all.add(connection);
    try {
      await connection.connect();
    } catch (error) {
      all.delete(connection);
      connection.disconnect();
      throw error;
    }
    return connection;
  };
  const discard = (connection: Redis): void => {
    all.delete(connection);
    connection.disconnect();
  };

  return {
    shared,
    async withExclusive(fn) {
      if (closed) throw new Error("upstash-local is closing");
      while (inUse >= maxExclusive) {
        await new Promise<void>((resolve) => waiters.push(resolve));
      }
      inUse += 1;
      let connection: Redis | undefined;
      try {
        connection = idle.pop();
        // An idle connection may have died since (Redis restarted); it never reconnects, so drop it.
        while (connection !== undefined && connection.status !== "ready") {
          discard(connection);
          connection = idle.pop();
        }
        connection ??= await open();
        const result = await fn(connection);
        if (!closed && connection.status === "ready" && idle.length < maxIdle) idle.push(connection);
        else discard(connection);
        return result;
      } catch (error) {
        if (connection !== undefined) discard(connection);
        throw error;
      } finally {
        inUse -= 1;
        waiters.shift()?.();
      }
    },
    async close() {
      closed = true;
      for (const connection of all) connection.disconnect();
      all.clear();
      idle.length = 0;
      if (shared.status === "ready") await shared.quit().catch(() => shared.disconnect());
      else shared.disconnect();
    },
  };
}

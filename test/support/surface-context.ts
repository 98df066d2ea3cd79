// What each case of the @upstash/redis command-surface suite gets, and the wrappers for commands a stock redis-server may lack.
import { errors, type Redis } from "@upstash/redis";
import type { Redis as IORedis } from "ioredis";
import { expect } from "vitest";

export type SurfaceContext = {
  /** The unmodified client, pointed at the suite's private upstash-local. */
  redis: Redis;
  /** The same client without auto-pipelining: every call is its own request. */
  single: Redis;
  /** A fresh key name under this case's own prefix. */
  key: (name: string) => string;
  /** A plain connection to the same redis-server, for setting up or checking state the client cannot. */
  direct: IORedis;
  /** Whether this redis-server knows a command or subcommand (`hexpire`, `client|setinfo`, `json.get`). */
  has: (command: string) => boolean;
};

/** One representative call of a client method, with its result checked against the client's documented shape. */
export type SurfaceCase = (ctx: SurfaceContext) => Promise<unknown>;

/** Reads redis-server's command table: every command and `container|subcommand` name it knows. */
export async function commandNames(direct: IORedis): Promise<Set<string>> {
  type Entry = [name: string, arity: number, flags: string[], ...rest: unknown[]];
  const table = (await direct.call("COMMAND")) as Entry[];
  const names = new Set<string>();
  for (const [name, , , ...rest] of table) {
    names.add(name.toLowerCase());
    for (const [sub] of (rest[6] ?? []) as Entry[]) names.add(sub.toLowerCase());
  }
  return names;
}

/** Runs `run` and expects the clean error a REST answer carries when redis-server does not know `command`. */
async function expectUnknownCommand(run: Promise<unknown>, command: string): Promise<void> {
  const error = await run.then(
    () => undefined,
    (caught: unknown) => caught,
  );
  // An UpstashError from a JSON {"error"} answer, not a JSON parse failure or a crash in the client.
  expect(error, `${command} should fail cleanly`).toBeInstanceOf(errors.UpstashError);
  expect(error).not.toBeInstanceOf(errors.UpstashJSONParseError);
  const word = command.split("|").pop() ?? command;
  expect((error as Error).message).toMatch(
    new RegExp(`unknown (sub)?command '${word.replace(".", "\\.")}'`, "i"),
  );
}

/**
 * A command Upstash offers that an older redis-server lacks (hash field expiry is Redis 7.4, HGETDEL,
 * HGETEX and HSETEX 8.0, XACKDEL and XDELEX 8.2, CLIENT SETINFO 7.2; JSON.* needs RedisJSON, built
 * into Redis 8 and absent from Debian's 7.0). Where redis-server has it, the case runs and checks
 * the result; where it does not, the same calls must end in Redis's clean "unknown command" error.
 */
export function gated(command: string, run: SurfaceCase): SurfaceCase {
  return async (ctx) => {
    if (ctx.has(command)) await run(ctx);
    else await expectUnknownCommand(run(withoutAutoPipelining(ctx)), command);
  };
}

/**
 * The context for checking a command's failure. The client's auto-pipeline runs each command's
 * reply parser on a failed entry's missing result, and the parsers of HGETDEL, HGETEX and some AR*
 * commands then throw a TypeError of their own, whatever the server answered. One request per
 * command reaches the server's error as is.
 */
function withoutAutoPipelining(ctx: SurfaceContext): SurfaceContext {
  return { ...ctx, redis: ctx.single };
}

/**
 * A command only Upstash has (the AR* array type, SEARCH.*, VECTOR.*): no redis-server build has it,
 * so upstash-local can only pass Redis's "unknown command" error through, cleanly.
 */
export function upstashOnly(command: string, run: SurfaceCase): SurfaceCase {
  return async (ctx) => {
    expect(ctx.has(command), `${command} exists in this redis-server: give it a real case`).toBe(false);
    await expectUnknownCommand(run(withoutAutoPipelining(ctx)), command);
  };
}

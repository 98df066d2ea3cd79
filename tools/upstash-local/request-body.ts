// Parses Upstash REST request bodies (one command, or a list of commands) into Redis argument lists.

/** One Redis command as sent to redis-server: the name first, every argument already a string. */
export type CommandArgs = readonly [name: string, ...args: string[]];

/** A request body the server refuses as a whole (answered with 400 and this message). */
export class BodyError extends Error {
  override name = "BodyError";
}

type Parsed = { ok: true; value: unknown } | { ok: false; message: string };

/**
 * JSON.parse, but every number comes back as its literal source text ("1e+21", "1.50"), so the
 * argument Redis receives is exactly what the client wrote. The @upstash/redis client sends numbers
 * as JSON numbers, and round-tripping them through a double would change "1.50" or lose digits of
 * large integers. The reviver's third parameter is JSON.parse source text access (V8 >= 11.4, so
 * Node >= 21); older runtimes fall back to String(n).
 */
function parseJson(text: string): Parsed {
  try {
    const value: unknown = JSON.parse(text, (_key: string, v: unknown, context?: { source?: string }) =>
      typeof v === "number" ? (context?.source ?? String(v)) : v,
    );
    return { ok: true, value };
  } catch (error) {
    return { ok: false, message: error instanceof Error ? error.message : String(error) };
  }
}

/** Turns one JSON command array into Redis arguments; booleans become "true"/"false" and null "" (as SRH does). */
function toCommand(value: unknown, where: string): CommandArgs {
  if (!Array.isArray(value)) {
    throw new BodyError(`ERR ${where} must be a JSON array of command arguments`);
  }
  const args: string[] = [];
  for (const [i, arg] of value.entries()) {
    if (typeof arg === "string") args.push(arg);
    else if (typeof arg === "boolean") args.push(arg ? "true" : "false");
    else if (arg === null) args.push("");
    else {
      throw new BodyError(
        `ERR ${where}: argument ${i} is not a string, number, boolean or null (objects must be JSON-encoded strings)`,
      );
    }
  }
  const [name, ...rest] = args;
  if (name === undefined || name === "") {
    throw new BodyError(`ERR ${where}: empty command`);
  }
  return [name, ...rest];
}

/** Body of `POST /`: `["set","k","v"]`. Throws BodyError when the body is not a usable command. */
export function parseCommandBody(text: string): CommandArgs {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new BodyError(`ERR invalid JSON request body: ${parsed.message}`);
  return toCommand(parsed.value, "request body");
}

/** Body of `POST /pipeline` and `POST /multi-exec`: `[["set","k","v"],["get","k"]]`. */
export function parseCommandListBody(text: string): CommandArgs[] {
  const parsed = parseJson(text);
  if (!parsed.ok) throw new BodyError(`ERR invalid JSON request body: ${parsed.message}`);
  if (!Array.isArray(parsed.value)) {
    throw new BodyError("ERR request body must be a JSON array of commands");
  }
  // The client never sends an empty list (it throws "Pipeline is empty" itself); upstashdis answers the same way.
  if (parsed.value.length === 0) throw new BodyError("ERR empty pipeline request");
  return parsed.value.map((command, i) => toCommand(command, `command ${i}`));
}

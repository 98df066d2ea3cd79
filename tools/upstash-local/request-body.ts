// Parses Upstash REST request bodies (one command, or a list of commands) into Redis argument lists.

/** One Redis command as sent to redis-server: the name first, every argument already a string. */
export type CommandArgs = readonly [name: string, ...args: string[]];

/**
 * Most commands one POST /pipeline or /multi-exec may carry. Upstash documents a request size
 * limit (10 MB on Free and Pay-as-you-go) but no command count, and its client sends at most 1,000
 * commands per auto-pipelined batch. A bridge runs a request's commands back to back on the
 * connection every request shares, so without a count limit one body of tiny commands (600,000
 * PINGs fit in 10 MB) stalls every other client for seconds and buffers every reply at once.
 * 10,000 is ten client batches, and what Redis's pipelining guide suggests as a batch size.
 */
export const MAX_COMMANDS_PER_REQUEST = 10_000;

/** A request body the server refuses as a whole (answered with `status`, 400 unless said, and this message). */
export class BodyError extends Error {
  override name = "BodyError";
  readonly status: 400 | 413;
  constructor(message: string, status: 400 | 413 = 400) {
    super(message);
    this.status = status;
  }
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
  // Checked before any command is converted, let alone run: the whole request is refused.
  if (parsed.value.length > MAX_COMMANDS_PER_REQUEST) {
    throw new BodyError(
      `ERR too many commands in one request: ${parsed.value.length}, the limit is ${MAX_COMMANDS_PER_REQUEST} (split the pipeline)`,
      413,
    );
  }
  return parsed.value.map((command, i) => toCommand(command, `command ${i}`));
}

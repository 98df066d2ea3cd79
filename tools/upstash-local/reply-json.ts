// Serialises RESP2 replies (as sendRaw returns them, with stringNumbers) into Upstash REST JSON text.

/**
 * How ioredis hands replies over when the connection uses `stringNumbers: true` and `sendRaw`:
 * bulk and simple strings are Buffers, integers are decimal strings (so 2^63-1 keeps every digit),
 * nil is null, arrays nest, and errors nested inside arrays (EXEC entries, Lua tables) are Error objects.
 */
export type RedisReply = Buffer | string | number | null | Error | readonly RedisReply[];

/** A typed guard: with this project's mix of Node and Workers types, Buffer.isBuffer alone does not narrow. */
export function isBuffer(value: unknown): value is Buffer {
  return Buffer.isBuffer(value);
}

/**
 * JSON text for a successful reply. With `base64`, every string at every depth is standard padded
 * base64 of the reply bytes, including "OK": @upstash/redis 1.39 decodes every string inside arrays
 * and would turn a raw "OK" at depth 1 into "8" (its base64 decoding of "OK"). Integers stay bare JSON
 * numbers written from their decimal text, so large ones are not rounded on this side.
 */
export function replyJson(reply: unknown, base64: boolean): string {
  if (reply === null || reply === undefined) return "null";
  if (isBuffer(reply)) return JSON.stringify(reply.toString(base64 ? "base64" : "utf8"));
  if (typeof reply === "string") {
    if (/^-?\d+$/.test(reply)) return reply;
    // Not produced by ioredis with stringNumbers; treat as text rather than emit invalid JSON.
    return stringJson(reply, base64);
  }
  if (typeof reply === "number") return Number.isFinite(reply) ? String(reply) : "null";
  if (Array.isArray(reply)) return `[${reply.map((item: unknown) => replyJson(item, base64)).join(",")}]`;
  if (reply instanceof Error) {
    // An error nested in an array outside EXEC (a Lua table holding redis.error_reply). Upstash's
    // behaviour is unknown; a string keeps the message and cannot crash the client's decoder
    // (an object would decode to null, a boolean to undefined).
    return stringJson(reply.message, base64);
  }
  return stringJson(String(reply), base64);
}

function stringJson(text: string, base64: boolean): string {
  return JSON.stringify(base64 ? Buffer.from(text, "utf8").toString("base64") : text);
}

/** `{"result": ...}`, the success shape for a single command and for each pipeline entry. */
export function resultJson(reply: unknown, base64: boolean): string {
  return `{"result":${replyJson(reply, base64)}}`;
}

/** `{"error": "..."}`; errors are never base64-encoded (the client does not decode them). */
export function errorJson(message: string): string {
  return JSON.stringify({ error: message });
}

// Serves POST /subscribe/<channel> and /psubscribe/<pattern> as Server-Sent Events, each on a Redis connection of its own.

import type { ServerResponse } from "node:http";
import type { Redis } from "ioredis";
import { openDedicatedConnection } from "./redis-pool.ts";
import { errorJson } from "./reply-json.ts";

export type SubscriptionTarget = { kind: "subscribe" | "psubscribe"; name: string };

/**
 * The channel or pattern of a subscribe path. The client puts it into the path as it is, without
 * URL-encoding (`/psubscribe/news:*`), so everything after the first segment is the name; escapes
 * other clients may send are decoded.
 */
export function subscriptionTarget(pathname: string): SubscriptionTarget | undefined {
  const match = /^\/(subscribe|psubscribe)\/(.+)$/.exec(pathname);
  if (match?.[1] === undefined || match[2] === undefined) return undefined;
  let name = match[2];
  try {
    name = decodeURIComponent(name);
  } catch {
    // Not an escape sequence after all: keep the text as sent.
  }
  return { kind: match[1] === "subscribe" ? "subscribe" : "psubscribe", name };
}

/**
 * One SSE line, `data: <fields joined by commas>`, the format the client parses: `subscribe,<ch>,<n>`,
 * `message,<ch>,<payload>`, `psubscribe,<pattern>,<n>`, `pmessage,<pattern>,<ch>,<payload>`. A
 * payload goes out as its UTF-8 text; the client splits the stream on newlines, so a payload that
 * holds one arrives cut there (how Upstash frames such payloads is not documented).
 */
function event(...fields: Array<string | number>): string {
  return `data: ${fields.join(",")}\n\n`;
}

export type Subscriptions = {
  /** Subscribes, then streams events until the client goes away; answers 500 JSON if Redis refuses. */
  serve(target: SubscriptionTarget, res: ServerResponse, headers: Record<string, string>): void;
  /** Ends every open stream and drops its connection (server shutdown). */
  closeAll(): void;
};

export function createSubscriptions(redisUrl: string): Subscriptions {
  const open = new Map<ServerResponse, Redis>();

  const stop = (res: ServerResponse): void => {
    const connection = open.get(res);
    if (connection === undefined) return;
    open.delete(res);
    connection.disconnect();
    if (!res.writableEnded) res.end();
  };

  const start = async (target: SubscriptionTarget, res: ServerResponse, headers: Record<string, string>) => {
    const connection = openDedicatedConnection(redisUrl);
    open.set(res, connection);
    connection.on("messageBuffer", (channel: Buffer, message: Buffer) => {
      res.write(event("message", channel.toString("utf8"), message.toString("utf8")));
    });
    connection.on("pmessageBuffer", (pattern: Buffer, channel: Buffer, message: Buffer) => {
      res.write(
        event("pmessage", pattern.toString("utf8"), channel.toString("utf8"), message.toString("utf8")),
      );
    });
    // A dropped Redis connection ends the stream; the client sees the end and may subscribe again.
    connection.on("end", () => stop(res));
    try {
      await connection.connect();
      const count = await (target.kind === "subscribe"
        ? connection.subscribe(target.name)
        : connection.psubscribe(target.name));
      if (!open.has(res)) return;
      res.writeHead(200, { ...headers, "content-type": "text/event-stream", "cache-control": "no-cache" });
      res.write(event(target.kind, target.name, Number(count)));
    } catch (error) {
      if (!open.has(res)) return;
      open.delete(res);
      connection.disconnect();
      const message = error instanceof Error ? error.message : String(error);
      const body = errorJson(`ERR upstash-local: redis request failed: ${message}`);
      res.writeHead(500, {
        ...headers,
        "content-type": "application/json",
        "content-length": Buffer.byteLength(body),
      });
      res.end(body);
    }
  };

  return {
    serve(target, res, headers) {
      // The client unsubscribes by aborting the request, which closes the response.
      res.on("close", () => stop(res));
      void start(target, res, headers);
    },
    closeAll() {
      for (const res of [...open.keys()]) stop(res);
    },
  };
}

// The local Upstash REST server: HTTP routing, auth, body limits and the single / pipeline / multi-exec handlers.

import { createHash, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { Redis } from "ioredis";
import { unavailableReason } from "./command-policy.ts";
import { createDelay, parseDelayBody } from "./delay.ts";
import { createRedisPool, isReplyError, sendRaw } from "./redis-pool.ts";
import { errorJson, type RedisReply, resultJson } from "./reply-json.ts";
import { BodyError, parseCommandBody, parseCommandListBody } from "./request-body.ts";
import { createScriptRewriter, type PreparedCommand } from "./script-rewriter.ts";
import { createStatsRecorder, type UpstashLocalSnapshot, type UpstashLocalStats } from "./stats.ts";
import { createSubscriptions, type SubscriptionTarget, subscriptionTarget } from "./subscribe.ts";

export type { UpstashLocalSnapshot, UpstashLocalStats } from "./stats.ts";

export type UpstashLocalOptions = {
  /** redis-server to forward to, e.g. redis://127.0.0.1:6390 */
  redisUrl: string;
  /** Bearer token clients must present (Authorization header or `?_token=`). */
  token: string;
  /** 0 or absent picks a free port. */
  port?: number;
  /** Defaults to 127.0.0.1: this is a development tool and must not listen publicly by accident. */
  host?: string;
  /** Milliseconds every command request waits before it runs (a slow store, for outage drills); 0 or absent: off. */
  delayMs?: number;
  /** The timer behind the delay; tests inject one to decide when a delayed request goes on. */
  wait?: (ms: number) => Promise<void>;
};

export type UpstashLocal = {
  url: string;
  port: number;
  /** The server's own counters, synchronously. */
  stats(): UpstashLocalStats;
  /** Counters plus Redis-side command counts, the same object GET /__stats returns. */
  snapshot(): Promise<UpstashLocalSnapshot>;
  /** Zeroes the counters and takes a new Redis baseline (POST /__stats/reset). */
  resetStats(): void;
  /** Sets the delay before each command request (POST /__delay); 0 turns it off. */
  setDelay(ms: number): void;
  close(): Promise<void>;
};

/** Upstash's request size limit on Free and Pay-as-you-go plans. The command count is capped in request-body.ts. */
const MAX_BODY_BYTES = 10 * 1024 * 1024;
/** Past this, stop draining an oversized body and drop the connection instead. */
const DRAIN_LIMIT_BYTES = 4 * MAX_BODY_BYTES;

type Route = "command" | "pipeline" | "multi-exec" | "subscribe" | "stats" | "stats-reset" | "delay";
type Target = { route: Route; method: "GET" | "POST" };
/** POST /subscribe/<channel> and /psubscribe/<pattern>, matched by prefix (subscribe.ts). */
const SUBSCRIBE_TARGET: Target = { route: "subscribe", method: "POST" };
const ROUTES: ReadonlyMap<string, Target> = new Map([
  ["/", { route: "command", method: "POST" }],
  ["/pipeline", { route: "pipeline", method: "POST" }],
  ["/multi-exec", { route: "multi-exec", method: "POST" }],
  ["/__stats", { route: "stats", method: "GET" }],
  ["/__stats/reset", { route: "stats-reset", method: "POST" }],
  ["/__delay", { route: "delay", method: "POST" }],
]);

/** A JSON answer, or (`stream`) the go-ahead to answer with a subscription's event stream. */
type Reply = { status: number; body: string; headers?: Record<string, string>; stream?: SubscriptionTarget };
type Settled = { ok: true; value: RedisReply } | { ok: false; error: unknown };

const settle = (promise: Promise<unknown>): Promise<Settled> =>
  promise.then(
    (value) => ({ ok: true, value: value as RedisReply }),
    (error: unknown) => ({ ok: false, error }),
  );

/** A transport failure (Redis down, connection dropped): the outcome is unknown, so the whole request fails. */
class RedisUnavailable extends Error {
  override name = "RedisUnavailable";
}

function transportFailure(error: unknown): Reply {
  const message = error instanceof Error ? error.message : String(error);
  return { status: 500, body: errorJson(`ERR upstash-local: redis request failed: ${message}`) };
}

function digest(text: string): Buffer {
  return createHash("sha256").update(text, "utf8").digest();
}

function presentedToken(req: IncomingMessage, url: URL): string | undefined {
  const header = req.headers.authorization;
  if (header !== undefined) {
    const match = /^Bearer\s+(.+)$/i.exec(header.trim());
    return match?.[1];
  }
  return url.searchParams.get("_token") ?? undefined;
}

type Body = { kind: "ok"; text: string } | { kind: "too-large"; drained: boolean } | { kind: "aborted" };

/**
 * Reads the whole body up to MAX_BODY_BYTES. An oversized body is drained (up to DRAIN_LIMIT_BYTES)
 * before answering 413, so the client reads the answer instead of hitting a reset mid-upload.
 */
function readBody(req: IncomingMessage): Promise<Body> {
  return new Promise((resolve) => {
    const declared = Number(req.headers["content-length"] ?? "0");
    if (declared > DRAIN_LIMIT_BYTES) {
      resolve({ kind: "too-large", drained: false });
      return;
    }
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const finish = (body: Body): void => {
      if (settled) return;
      settled = true;
      resolve(body);
    };
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > DRAIN_LIMIT_BYTES) finish({ kind: "too-large", drained: false });
      else if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on("end", () => {
      if (size > MAX_BODY_BYTES) finish({ kind: "too-large", drained: true });
      else finish({ kind: "ok", text: Buffer.concat(chunks, size).toString("utf8") });
    });
    req.on("close", () => {
      if (!req.complete) finish({ kind: "aborted" });
    });
    req.on("error", () => finish({ kind: "aborted" }));
  });
}

export async function startUpstashLocal(opts: UpstashLocalOptions): Promise<UpstashLocal> {
  const host = opts.host ?? "127.0.0.1";
  const expectedToken = digest(opts.token);
  const pool = await createRedisPool(opts.redisUrl);
  const stats = createStatsRecorder(pool.shared);
  const scripts = createScriptRewriter();
  const subscriptions = createSubscriptions(opts.redisUrl);
  const counters = stats.counters;
  const delay = createDelay(opts.delayMs ?? 0, opts.wait);
  // Read-your-writes: the client echoes this header back; RJS tests expect it to change after writes.
  const syncEpoch = Date.now().toString(36);
  let syncSequence = 0;
  let closing = false;

  const send = (connection: Redis, prepared: PreparedCommand): Promise<Settled> => {
    const [name, ...args] = prepared.command;
    return settle(sendRaw(connection, name, args));
  };

  const runCommand = async (text: string, base64: boolean): Promise<Reply> => {
    const command = parseCommandBody(text);
    counters.commands += 1;
    const refusal = unavailableReason(command);
    if (refusal !== undefined) return { status: 400, body: errorJson(refusal) };
    const prepared = scripts.prepare(command);
    const outcome = await send(pool.shared, prepared);
    if (outcome.ok) return { status: 200, body: resultJson(prepared.fixReply(outcome.value), base64) };
    if (isReplyError(outcome.error)) return { status: 400, body: errorJson(outcome.error.message) };
    return transportFailure(outcome.error);
  };

  const runPipeline = async (text: string, base64: boolean): Promise<Reply> => {
    const commands = parseCommandListBody(text);
    counters.pipelines += 1;
    counters.commands += commands.length;
    // Issued in one synchronous loop so they reach the shared connection back to back, in order.
    const pending = commands.map((command): Promise<{ entry: string; failed: boolean }> => {
      const refusal = unavailableReason(command);
      if (refusal !== undefined) return Promise.resolve({ entry: errorJson(refusal), failed: true });
      const prepared = scripts.prepare(command);
      return send(pool.shared, prepared).then((outcome) => {
        if (outcome.ok) return { entry: resultJson(prepared.fixReply(outcome.value), base64), failed: false };
        if (isReplyError(outcome.error)) return { entry: errorJson(outcome.error.message), failed: true };
        throw new RedisUnavailable(outcome.error instanceof Error ? outcome.error.message : "unknown");
      });
    });
    const settledEntries = await Promise.allSettled(pending);
    const entries: string[] = [];
    for (const item of settledEntries) {
      if (item.status === "rejected") return transportFailure(item.reason);
      if (item.value.failed) counters.errors += 1;
      entries.push(item.value.entry);
    }
    return { status: 200, body: `[${entries.join(",")}]` };
  };

  const runTransaction = async (text: string, base64: boolean): Promise<Reply> => {
    const commands = parseCommandListBody(text);
    counters.transactions += 1;
    counters.commands += commands.length;
    // A refused command discards the whole transaction before Redis sees any of it, like a queue-time error.
    for (const command of commands) {
      const refusal = unavailableReason(command);
      if (refusal !== undefined) return { status: 400, body: errorJson(refusal) };
    }
    const prepared = commands.map((command) => scripts.prepare(command));
    let exec: Settled;
    try {
      exec = await pool.withExclusive(async (connection) => {
        const multi = settle(sendRaw(connection, "multi"));
        const queued = prepared.map((command) => send(connection, command));
        const result = settle(sendRaw(connection, "exec"));
        const [multiOutcome, ...queuedOutcomes] = await Promise.all([multi, ...queued]);
        const execOutcome = await result;
        // Queue-time reply errors are expected (Redis then aborts EXEC); transport errors are not.
        for (const outcome of [multiOutcome, ...queuedOutcomes, execOutcome]) {
          if (outcome !== undefined && !outcome.ok && !isReplyError(outcome.error)) throw outcome.error;
        }
        if (multiOutcome !== undefined && !multiOutcome.ok) throw multiOutcome.error;
        return execOutcome;
      });
    } catch (error) {
      return transportFailure(error);
    }
    if (!exec.ok) {
      // EXECABORT: the transaction was discarded. 400, never 200: the client maps a 200 object to a crash.
      const message = exec.error instanceof Error ? exec.error.message : String(exec.error);
      return { status: 400, body: errorJson(message) };
    }
    if (!Array.isArray(exec.value)) {
      return { status: 400, body: errorJson("EXECABORT Transaction discarded") };
    }
    const entries = exec.value.map((value: RedisReply, i: number) => {
      if (value instanceof Error) {
        counters.errors += 1;
        return errorJson(value.message);
      }
      const fix = prepared[i]?.fixReply ?? ((reply: RedisReply) => reply);
      return resultJson(fix(value), base64);
    });
    return { status: 200, body: `[${entries.join(",")}]` };
  };

  const route = async (req: IncomingMessage): Promise<Reply> => {
    const url = new URL(req.url ?? "/", "http://upstash-local");
    const path = url.pathname.length > 1 ? url.pathname.replace(/\/+$/, "") : url.pathname;
    // The raw path: a channel name keeps trailing slashes and dots that URL parsing would rewrite.
    const subscription = subscriptionTarget((req.url ?? "/").split("?")[0] ?? "/");
    const target = subscription === undefined ? ROUTES.get(path) : SUBSCRIBE_TARGET;
    // The control endpoints are not traffic: they stay out of the counters.
    const isControl =
      target?.route === "stats" || target?.route === "stats-reset" || target?.route === "delay";
    if (!isControl) counters.http_requests += 1;
    if (target === undefined) {
      return {
        status: 404,
        body: errorJson(
          `ERR upstash-local: no endpoint ${path} (supported: POST /, /pipeline, /multi-exec, /subscribe/<channel>, /psubscribe/<pattern>; path-style commands are not implemented)`,
        ),
      };
    }
    if (req.method !== target.method) {
      return {
        status: 405,
        body: errorJson(
          `ERR upstash-local: method ${req.method ?? "?"} not allowed on ${path}, use ${target.method}`,
        ),
        headers: { allow: target.method },
      };
    }
    const token = presentedToken(req, url);
    if (token === undefined || !timingSafeEqual(digest(token), expectedToken)) {
      return { status: 401, body: errorJson("Unauthorized") };
    }
    if (target.route === "stats") return { status: 200, body: JSON.stringify(await stats.snapshot()) };

    const body = await readBody(req);
    if (body.kind === "aborted") return { status: 400, body: errorJson("ERR request aborted") };
    if (body.kind === "too-large") {
      return {
        status: 413,
        body: errorJson(`ERR max request size exceeded: the limit is ${MAX_BODY_BYTES} bytes`),
        headers: body.drained ? {} : { connection: "close" },
      };
    }
    if (target.route === "stats-reset") {
      stats.reset();
      await stats.ready();
      return { status: 200, body: resultJson(Buffer.from("OK"), false) };
    }
    if (subscription !== undefined) {
      counters.commands += 1;
      return { status: 200, body: "", stream: subscription };
    }
    if (target.route === "delay") {
      try {
        delay.set(parseDelayBody(body.text));
      } catch (error) {
        if (error instanceof BodyError) return { status: error.status, body: errorJson(error.message) };
        throw error;
      }
      return { status: 200, body: JSON.stringify({ result: delay.ms }) };
    }
    // A slow store: the request waits, then runs whether or not its client is still there (as a slow server would).
    await delay.before();
    const encoding = req.headers["upstash-encoding"];
    const base64 = typeof encoding === "string" && encoding.trim().toLowerCase() === "base64";
    syncSequence += 1;
    try {
      if (target.route === "command") return await runCommand(body.text, base64);
      if (target.route === "pipeline") return await runPipeline(body.text, base64);
      return await runTransaction(body.text, base64);
    } catch (error) {
      if (error instanceof BodyError) return { status: error.status, body: errorJson(error.message) };
      throw error;
    }
  };

  const respond = (req: IncomingMessage, res: ServerResponse, reply: Reply): void => {
    const path = req.url ?? "/";
    if (reply.status >= 400 && !path.startsWith("/__stats") && !path.startsWith("/__delay"))
      counters.errors += 1;
    if (res.headersSent || res.destroyed) return;
    const syncToken = { "upstash-sync-token": `${syncEpoch}-${syncSequence}` };
    if (reply.stream !== undefined) {
      subscriptions.serve(reply.stream, res, syncToken);
      return;
    }
    res.writeHead(reply.status, {
      "content-type": "application/json",
      "content-length": Buffer.byteLength(reply.body),
      ...syncToken,
      ...(closing ? { connection: "close" } : {}),
      ...reply.headers,
    });
    res.end(reply.body);
    if (reply.headers?.connection === "close") res.on("finish", () => req.socket.destroy());
  };

  const server = createServer((req, res) => {
    route(req)
      .then((reply) => respond(req, res, reply))
      .catch((error: unknown) => {
        const message = error instanceof Error ? error.message : String(error);
        respond(req, res, { status: 500, body: errorJson(`ERR upstash-local: internal error: ${message}`) });
      });
  });
  // Longer than undici's keep-alive so pooled client sockets are not closed under an in-flight request.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(opts.port ?? 0, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (error) {
    await pool.close();
    throw error;
  }
  const { port } = server.address() as AddressInfo;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    stats: () => ({ ...counters }),
    snapshot: () => stats.snapshot(),
    resetStats: () => stats.reset(),
    setDelay: (ms) => delay.set(ms),
    async close() {
      closing = true;
      subscriptions.closeAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeIdleConnections();
      // In-flight requests get a moment to finish; stragglers (stalled uploads) are cut off.
      const cutoff = setTimeout(() => server.closeAllConnections(), 2_000);
      await closed;
      clearTimeout(cutoff);
      await stats.ready();
      await pool.close();
    },
  };
}

// Helpers the upstash-local suites share: a private redis-server behind its own server, raw HTTP calls, per-test key prefixes.
import { randomUUID } from "node:crypto";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, expect } from "vitest";
import { startUpstashLocal, type UpstashLocal } from "../../tools/upstash-local/server.ts";
import { type RedisServer, startRedisServer } from "./redis-server.ts";

/** Every test works under its own prefix, so suites sharing a redis-server never see each other's keys. */
export const keyspace = (): ((name: string) => string) => {
  const prefix = `compat:${randomUUID()}:`;
  return (name) => prefix + name;
};

export type RawAnswer = { status: number; body: unknown; headers: Headers };

/** Raw HTTP against the server; every answer must be JSON, whatever the status. */
export async function call(
  baseUrl: string,
  path: string,
  init: { token?: string | undefined; body?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<RawAnswer> {
  const headers: Record<string, string> = { "content-type": "application/json", ...init.headers };
  if (init.token !== undefined) headers.authorization = `Bearer ${init.token}`;
  const response = await fetch(baseUrl + path, {
    method: init.method ?? "POST",
    headers,
    ...(init.body === undefined ? {} : { body: init.body }),
  });
  expect(response.headers.get("content-type")).toBe("application/json");
  const text = await response.text();
  return { status: response.status, body: JSON.parse(text) as unknown, headers: response.headers };
}

export type PrivateUpstash = {
  server: UpstashLocal;
  /** A plain connection to the same redis-server, to check what Redis itself holds. */
  direct: IORedis;
  redisUrl: string;
  token: string;
  /** POST `body` (JSON-encoded) to `path` with the token. */
  post(path: string, body: unknown, headers?: Record<string, string>): Promise<RawAnswer>;
};

/**
 * Starts a redis-server and an upstash-local of the calling suite's own (beforeAll) and stops them
 * (afterAll): for suites that count commands, flush databases or change server-wide state, which
 * must not disturb the run's shared server. Call inside a describe; read the result inside tests.
 */
export function usePrivateUpstash(token: string): () => PrivateUpstash {
  let redisServer: RedisServer | undefined;
  let ready: PrivateUpstash | undefined;
  beforeAll(async () => {
    redisServer = await startRedisServer();
    const server = await startUpstashLocal({ redisUrl: redisServer.url, token });
    const direct = new IORedis(redisServer.url, { lazyConnect: true });
    await direct.connect();
    ready = {
      server,
      direct,
      redisUrl: redisServer.url,
      token,
      post: (path, body, headers = {}) =>
        call(server.url, path, { token, body: JSON.stringify(body), headers }),
    };
  });
  afterAll(async () => {
    await ready?.direct.quit();
    await ready?.server.close();
    await redisServer?.stop();
  });
  return () => {
    if (ready === undefined) throw new Error("usePrivateUpstash: the servers are not started yet");
    return ready;
  };
}

// Every command method of the unmodified @upstash/redis 1.39 client, once each, against upstash-local on a private redis-server.
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { beforeAll, describe, expect, it } from "vitest";
import { keyspace, usePrivateUpstash } from "./support/private-upstash.ts";
import { describeWithRedis } from "./support/redis-suite.ts";
import { HASH_CASES, LIST_CASES, SET_CASES, SORTED_SET_CASES } from "./support/surface-cases-collections.ts";
import {
  BIT_CASES,
  FUNCTION_CASES,
  KEY_CASES,
  SCRIPT_CASES,
  SERVER_CASES,
  STRING_CASES,
} from "./support/surface-cases-keys.ts";
import { ARRAY_CASES, INDEX_CASES, JSON_CASES } from "./support/surface-cases-modules.ts";
import {
  BATCH_CASES,
  GEO_CASES,
  HYPERLOGLOG_CASES,
  PUBSUB_CASES,
  STREAM_CASES,
} from "./support/surface-cases-streams.ts";
import { commandNames, type SurfaceCase, type SurfaceContext } from "./support/surface-context.ts";

const CASES: Record<string, SurfaceCase> = {
  ...STRING_CASES,
  ...BIT_CASES,
  ...KEY_CASES,
  ...SERVER_CASES,
  ...SCRIPT_CASES,
  ...FUNCTION_CASES,
  ...HASH_CASES,
  ...LIST_CASES,
  ...SET_CASES,
  ...SORTED_SET_CASES,
  ...STREAM_CASES,
  ...GEO_CASES,
  ...HYPERLOGLOG_CASES,
  ...PUBSUB_CASES,
  ...BATCH_CASES,
  ...JSON_CASES,
  ...ARRAY_CASES,
  ...INDEX_CASES,
};

/** Methods of the client that send no command of their own, and why they have no case. */
const NOT_COMMANDS: Record<string, string> = {
  use: "wraps the HTTP requester in a middleware; sends nothing",
  addTelemetry: "merges telemetry headers into later requests (protected); sends nothing",
  autoPipeline: "returns the auto-pipelining proxy every case already goes through (protected)",
};

/**
 * Every method a client instance exposes: its own function properties (the command methods are
 * arrow-function fields), its prototype's methods, and the methods of the namespaces its getters
 * return (`json.get`, `functions.call`, `search.alias.list`...).
 */
function clientMethods(redis: Redis): string[] {
  const names = new Set<string>();
  const collect = (prefix: string, target: object, depth: number): void => {
    for (const [name, value] of Object.entries(target)) {
      if (typeof value === "function") names.add(prefix + name);
      else if (depth > 0 && value !== null && typeof value === "object")
        collect(`${prefix}${name}.`, value, depth - 1);
    }
  };
  collect("", redis, 0);
  for (
    let proto = Object.getPrototypeOf(redis);
    proto !== Object.prototype;
    proto = Object.getPrototypeOf(proto)
  ) {
    for (const [name, descriptor] of Object.entries(Object.getOwnPropertyDescriptors(proto))) {
      if (name === "constructor") continue;
      if (typeof descriptor.value === "function") names.add(name);
      const namespace: unknown = descriptor.get?.call(redis);
      if (namespace !== null && typeof namespace === "object") collect(`${name}.`, namespace, 1);
    }
  }
  return [...names].sort();
}

describe("the command-surface table", () => {
  it("has a case for every method of the client, so a client upgrade that adds one fails here", () => {
    const client = new Redis({ url: "http://127.0.0.1:9", token: "unused", enableAutoPipelining: false });
    const exposed = clientMethods(client);
    expect(exposed.length).toBeGreaterThan(200);
    expect(exposed).toEqual([...Object.keys(CASES), ...Object.keys(NOT_COMMANDS)].sort());
  });
});

describeWithRedis("@upstash/redis 1.39: every command method against upstash-local", () => {
  // Private: the cases flush databases, scripts and functions.
  const server = usePrivateUpstash("surface-token");
  let known: Set<string>;
  beforeAll(async () => {
    known = await commandNames(server().direct);
  });

  describe.each<{ label: string; options: Partial<RedisConfigNodejs> }>([
    { label: "client defaults (base64 responses, auto-pipelining)", options: {} },
    {
      label: "plain JSON responses, one request per command",
      options: { responseEncoding: false, enableAutoPipelining: false },
    },
  ])("$label", ({ options }) => {
    const context = (): SurfaceContext => {
      const { server: upstash, token, direct } = server();
      const config = { url: upstash.url, token, enableTelemetry: false, ...options };
      return {
        redis: new Redis(config),
        single: new Redis({ ...config, enableAutoPipelining: false }),
        key: keyspace(),
        direct,
        has: (command) => known.has(command.toLowerCase()),
      };
    };
    for (const [name, run] of Object.entries(CASES)) {
      it(name, () => run(context()));
    }
  });
});

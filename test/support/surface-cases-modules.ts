// Command-surface cases for what a stock redis-server lacks: JSON.* (a module) and Upstash's own AR*, SEARCH.* and VECTOR.* commands.
import { expect } from "vitest";
import { gated, type SurfaceCase, type SurfaceContext, upstashOnly } from "./surface-context.ts";

const DOC = { a: 1, s: "x", arr: [1, 2], o: { x: 1 }, b: true };

/**
 * One JSON.* method. JSON.* needs the RedisJSON module: built into Redis 8, absent from Debian's
 * redis-server 7.0. With it, the case writes DOC at `doc` and checks the call's documented result
 * (JSONPath `$` answers are arrays, one entry per match); without it, the call alone must fail with
 * Redis's clean "unknown command" error.
 */
function jsonCase(
  command: string,
  call: (ctx: SurfaceContext, doc: string) => Promise<unknown>,
  expected: unknown,
): SurfaceCase {
  return gated(command, async (ctx) => {
    const doc = ctx.key("doc");
    if (ctx.has("json.set")) await ctx.redis.json.set(doc, "$", DOC);
    expect(await call(ctx, doc)).toEqual(expected);
  });
}

export const JSON_CASES = {
  "json.arrappend": jsonCase(
    "json.arrappend",
    ({ redis }, doc) => redis.json.arrappend(doc, "$.arr", 3),
    [3],
  ),
  "json.arrindex": jsonCase("json.arrindex", ({ redis }, doc) => redis.json.arrindex(doc, "$.arr", 2), [1]),
  "json.arrinsert": jsonCase(
    "json.arrinsert",
    ({ redis }, doc) => redis.json.arrinsert(doc, "$.arr", 0, 0),
    [3],
  ),
  "json.arrlen": jsonCase("json.arrlen", ({ redis }, doc) => redis.json.arrlen(doc, "$.arr"), [2]),
  "json.arrpop": jsonCase("json.arrpop", ({ redis }, doc) => redis.json.arrpop(doc, "$.arr"), [2]),
  "json.arrtrim": jsonCase("json.arrtrim", ({ redis }, doc) => redis.json.arrtrim(doc, "$.arr", 0, 0), [1]),
  "json.clear": jsonCase("json.clear", ({ redis }, doc) => redis.json.clear(doc, "$.o"), 1),
  "json.del": jsonCase("json.del", ({ redis }, doc) => redis.json.del(doc, "$.b"), 1),
  "json.forget": jsonCase("json.forget", ({ redis }, doc) => redis.json.forget(doc, "$.s"), 1),
  "json.get": jsonCase("json.get", ({ redis }, doc) => redis.json.get(doc, "$.o"), [{ x: 1 }]),
  "json.merge": jsonCase("json.merge", ({ redis }, doc) => redis.json.merge(doc, "$", { c: 2 }), "OK"),
  "json.mget": jsonCase("json.mget", ({ redis }, doc) => redis.json.mget([doc, doc], "$.a"), [[1], [1]]),
  "json.mset": jsonCase(
    "json.mset",
    ({ redis, key }) =>
      redis.json.mset(
        { key: key("m1"), path: "$", value: { a: 1 } },
        { key: key("m2"), path: "$", value: 2 },
      ),
    "OK",
  ),
  "json.numincrby": jsonCase("json.numincrby", ({ redis }, doc) => redis.json.numincrby(doc, "$.a", 2), [3]),
  "json.nummultby": jsonCase("json.nummultby", ({ redis }, doc) => redis.json.nummultby(doc, "$.a", 3), [3]),
  "json.objkeys": jsonCase("json.objkeys", ({ redis }, doc) => redis.json.objkeys(doc, "$.o"), [["x"]]),
  "json.objlen": jsonCase("json.objlen", ({ redis }, doc) => redis.json.objlen(doc, "$.o"), [1]),
  "json.resp": jsonCase("json.resp", ({ redis }, doc) => redis.json.resp(doc, "$.a"), [1]),
  "json.set": jsonCase("json.set", ({ redis, key }) => redis.json.set(key("other"), "$", { z: [1] }), "OK"),
  "json.strappend": jsonCase(
    "json.strappend",
    ({ redis }, doc) => redis.json.strappend(doc, "$.s", '"y"'),
    [2],
  ),
  "json.strlen": jsonCase("json.strlen", ({ redis }, doc) => redis.json.strlen(doc, "$.s"), [1]),
  "json.toggle": jsonCase("json.toggle", ({ redis }, doc) => redis.json.toggle(doc, "$.b"), [0]),
  "json.type": jsonCase("json.type", ({ redis }, doc) => redis.json.type(doc, "$.a"), ["integer"]),
} satisfies Record<string, SurfaceCase>;

/** Upstash's array type (AR*): a sparse array of values under one key. No redis-server has it. */
export const ARRAY_CASES = {
  arcount: upstashOnly("arcount", ({ redis, key }) => redis.arcount(key("a"))),
  ardel: upstashOnly("ardel", ({ redis, key }) => redis.ardel(key("a"), 0)),
  ardelrange: upstashOnly("ardelrange", ({ redis, key }) => redis.ardelrange(key("a"), [0, 1])),
  arget: upstashOnly("arget", ({ redis, key }) => redis.arget(key("a"), 0)),
  argetrange: upstashOnly("argetrange", ({ redis, key }) => redis.argetrange(key("a"), 0, 1)),
  argrep: upstashOnly("argrep", ({ redis, key }) =>
    redis.argrep(key("a"), 0, 9, { predicates: [{ exact: "x" }] }),
  ),
  arinfo: upstashOnly("arinfo", ({ redis, key }) => redis.arinfo(key("a"))),
  arinsert: upstashOnly("arinsert", ({ redis, key }) => redis.arinsert(key("a"), "x")),
  arlastitems: upstashOnly("arlastitems", ({ redis, key }) => redis.arlastitems(key("a"), 2)),
  arlen: upstashOnly("arlen", ({ redis, key }) => redis.arlen(key("a"))),
  armget: upstashOnly("armget", ({ redis, key }) => redis.armget(key("a"), 0, 1)),
  armset: upstashOnly("armset", ({ redis, key }) => redis.armset(key("a"), { 0: "x", 1: "y" })),
  arnext: upstashOnly("arnext", ({ redis, key }) => redis.arnext(key("a"))),
  arop: upstashOnly("arop", ({ redis, key }) => redis.arop(key("a"), 0, 9, "SUM")),
  arring: upstashOnly("arring", ({ redis, key }) => redis.arring(key("a"), 4, "x")),
  arscan: upstashOnly("arscan", ({ redis, key }) => redis.arscan(key("a"), 0, 9)),
  arseek: upstashOnly("arseek", ({ redis, key }) => redis.arseek(key("a"), 0)),
  arset: upstashOnly("arset", ({ redis, key }) => redis.arset(key("a"), 0, "x")),
} satisfies Record<string, SurfaceCase>;

const indexName = (key: (name: string) => string): string => key("index").replace(/[^A-Za-z0-9]/g, "_");

/** Upstash's search (SEARCH.*) and vector (VECTOR.*) indexes. No redis-server has them. */
export const INDEX_CASES = {
  "search.createIndex": upstashOnly("search.create", ({ redis, key }) =>
    redis.search.createIndex({
      name: indexName(key),
      dataType: "hash",
      prefix: key(""),
      schema: { title: "TEXT" },
    }),
  ),
  // index() only builds a handle; its first command is the one that reaches the server.
  "search.index": upstashOnly("search.describe", ({ redis, key }) =>
    redis.search.index({ name: indexName(key), schema: { title: "TEXT" } }).describe(),
  ),
  "search.alias.list": upstashOnly("search.listaliases", ({ redis }) => redis.search.alias.list()),
  "search.alias.add": upstashOnly("search.aliasadd", ({ redis, key }) =>
    redis.search.alias.add({ indexName: indexName(key), alias: `${indexName(key)}_alias` }),
  ),
  "search.alias.delete": upstashOnly("search.aliasdel", ({ redis, key }) =>
    redis.search.alias.delete({ alias: `${indexName(key)}_alias` }),
  ),
  "vector.createIndex": upstashOnly("vector.create", ({ redis, key }) =>
    redis.vector.createIndex({ name: indexName(key), dimension: 3, metric: "COSINE" }),
  ),
  "vector.index": upstashOnly("vector.count", ({ redis, key }) => redis.vector.index(indexName(key)).count()),
} satisfies Record<string, SurfaceCase>;

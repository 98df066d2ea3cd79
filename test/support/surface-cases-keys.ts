// Command-surface cases: strings, bits, generic key commands, server and connection commands, scripts and functions.
import { createHash } from "node:crypto";
import { expect } from "vitest";
import { gated, type SurfaceCase } from "./surface-context.ts";

const sha1 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");
const nowSeconds = (): number => Math.floor(Date.now() / 1000);

export const STRING_CASES = {
  append: async ({ redis, key }) => {
    await redis.set(key("s"), "a");
    expect(await redis.append(key("s"), "bc")).toBe(3);
    expect(await redis.get(key("s"))).toBe("abc");
  },
  decr: async ({ redis, key }) => {
    await redis.set(key("n"), 5);
    expect(await redis.decr(key("n"))).toBe(4);
  },
  decrby: async ({ redis, key }) => {
    expect(await redis.decrby(key("n"), 3)).toBe(-3);
  },
  get: async ({ redis, key }) => {
    await redis.set(key("s"), "text");
    await redis.set(key("o"), { a: [1, "x"] });
    expect(await redis.get(key("s"))).toBe("text");
    // The client stores objects as JSON and parses them back.
    expect(await redis.get(key("o"))).toEqual({ a: [1, "x"] });
    expect(await redis.get(key("absent"))).toBeNull();
  },
  getdel: async ({ redis, key }) => {
    await redis.set(key("s"), "v");
    expect(await redis.getdel(key("s"))).toBe("v");
    expect(await redis.getdel(key("s"))).toBeNull();
  },
  getex: async ({ redis, key }) => {
    await redis.set(key("s"), "v");
    expect(await redis.getex(key("s"), { ex: 100 })).toBe("v");
    expect(await redis.ttl(key("s"))).toBe(100);
  },
  getrange: async ({ redis, key }) => {
    await redis.set(key("s"), "hello");
    expect(await redis.getrange(key("s"), 1, 3)).toBe("ell");
  },
  getset: async ({ redis, key }) => {
    await redis.set(key("s"), "old");
    expect(await redis.getset(key("s"), "new")).toBe("old");
    expect(await redis.get(key("s"))).toBe("new");
  },
  incr: async ({ redis, key }) => {
    expect(await redis.incr(key("n"))).toBe(1);
  },
  incrby: async ({ redis, key }) => {
    expect(await redis.incrby(key("n"), 41)).toBe(41);
  },
  incrbyfloat: async ({ redis, key }) => {
    expect(await redis.incrbyfloat(key("n"), 1.5)).toBe(1.5);
  },
  mget: async ({ redis, key }) => {
    await redis.set(key("a"), "x");
    await redis.set(key("b"), 2);
    expect(await redis.mget(key("a"), key("b"), key("absent"))).toEqual(["x", 2, null]);
    expect(await redis.mget([key("a"), key("b")])).toEqual(["x", 2]);
  },
  mset: async ({ redis, key }) => {
    expect(await redis.mset({ [key("a")]: "x", [key("b")]: 2 })).toBe("OK");
    expect(await redis.get(key("b"))).toBe(2);
  },
  msetnx: async ({ redis, key }) => {
    expect(await redis.msetnx({ [key("a")]: "x", [key("b")]: "y" })).toBe(1);
    expect(await redis.msetnx({ [key("b")]: "z", [key("c")]: "w" })).toBe(0);
  },
  psetex: async ({ redis, key }) => {
    expect(await redis.psetex(key("s"), 100_000, "v")).toBe("OK");
    expect(await redis.pttl(key("s"))).toBeGreaterThan(90_000);
  },
  set: async ({ redis, key }) => {
    expect(await redis.set(key("s"), "v", { nx: true })).toBe("OK");
    expect(await redis.set(key("s"), "w", { nx: true })).toBeNull();
    expect(await redis.set(key("s"), "w", { get: true })).toBe("v");
    expect(await redis.set(key("s"), "x", { xx: true, ex: 100 })).toBe("OK");
    expect(await redis.ttl(key("s"))).toBe(100);
  },
  setex: async ({ redis, key }) => {
    expect(await redis.setex(key("s"), 100, "v")).toBe("OK");
    expect(await redis.ttl(key("s"))).toBe(100);
  },
  setnx: async ({ redis, key }) => {
    expect(await redis.setnx(key("s"), "v")).toBe(1);
    expect(await redis.setnx(key("s"), "w")).toBe(0);
  },
  setrange: async ({ redis, key }) => {
    await redis.set(key("s"), "hello");
    expect(await redis.setrange(key("s"), 1, "ipp")).toBe(5);
    expect(await redis.get(key("s"))).toBe("hippo");
  },
  strlen: async ({ redis, key }) => {
    await redis.set(key("s"), "héllo");
    expect(await redis.strlen(key("s"))).toBe(6);
  },
} satisfies Record<string, SurfaceCase>;

export const BIT_CASES = {
  bitcount: async ({ redis, key }) => {
    await redis.set(key("s"), "foobar");
    expect(await redis.bitcount(key("s"), 0, -1)).toBe(26);
    expect(await redis.bitcount(key("s"), 1, 1)).toBe(6);
  },
  // Through the auto-pipelining proxy bitfield() returns a promise instead of its builder (a client
  // limitation whatever the server), so the builder is used on the client without it.
  bitfield: async ({ single, key }) => {
    expect(await single.bitfield(key("b")).set("u8", 0, 255).get("u8", 0).incrby("u8", 0, 1).exec()).toEqual([
      0, 255, 0,
    ]);
  },
  bitop: async ({ redis, key }) => {
    await redis.set(key("a"), "ab");
    await redis.set(key("b"), "a");
    expect(await redis.bitop("and", key("dest"), key("a"), key("b"))).toBe(2);
  },
  bitpos: async ({ redis, key }) => {
    await redis.setbit(key("b"), 3, 1);
    expect(await redis.bitpos(key("b"), 1)).toBe(3);
  },
  getbit: async ({ redis, key }) => {
    await redis.setbit(key("b"), 7, 1);
    expect(await redis.getbit(key("b"), 7)).toBe(1);
    expect(await redis.getbit(key("b"), 6)).toBe(0);
  },
  setbit: async ({ redis, key }) => {
    expect(await redis.setbit(key("b"), 7, 1)).toBe(0);
    expect(await redis.setbit(key("b"), 7, 0)).toBe(1);
  },
} satisfies Record<string, SurfaceCase>;

export const KEY_CASES = {
  copy: async ({ redis, key }) => {
    await redis.set(key("a"), "v");
    expect(await redis.copy(key("a"), key("b"))).toBe("COPIED");
    expect(await redis.copy(key("a"), key("b"))).toBe("NOT_COPIED");
    expect(await redis.copy(key("a"), key("b"), { replace: true })).toBe("COPIED");
  },
  del: async ({ redis, key }) => {
    await redis.mset({ [key("a")]: 1, [key("b")]: 2 });
    expect(await redis.del(key("a"), key("b"), key("absent"))).toBe(2);
  },
  exists: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.exists(key("a"), key("a"), key("absent"))).toBe(2);
  },
  expire: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.expire(key("a"), 100)).toBe(1);
    expect(await redis.expire(key("a"), 50, "GT")).toBe(0);
    expect(await redis.expire(key("absent"), 100)).toBe(0);
  },
  expireat: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.expireat(key("a"), nowSeconds() + 100)).toBe(1);
    expect(await redis.ttl(key("a"))).toBeGreaterThan(90);
  },
  keys: async ({ redis, key }) => {
    await redis.mset({ [key("a")]: 1, [key("b")]: 2 });
    expect((await redis.keys(key("*"))).sort()).toEqual([key("a"), key("b")]);
  },
  persist: async ({ redis, key }) => {
    await redis.setex(key("a"), 100, "v");
    expect(await redis.persist(key("a"))).toBe(1);
    expect(await redis.ttl(key("a"))).toBe(-1);
  },
  pexpire: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.pexpire(key("a"), 100_000)).toBe(1);
    expect(await redis.pttl(key("a"))).toBeGreaterThan(90_000);
  },
  pexpireat: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.pexpireat(key("a"), Date.now() + 100_000)).toBe(1);
    expect(await redis.pttl(key("a"))).toBeGreaterThan(90_000);
  },
  pttl: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.pttl(key("a"))).toBe(-1);
    expect(await redis.pttl(key("absent"))).toBe(-2);
  },
  randomkey: async ({ redis, key, direct }) => {
    await redis.set(key("a"), 1);
    const picked = await redis.randomkey();
    expect(typeof picked).toBe("string");
    expect(await direct.exists(picked as string)).toBe(1);
  },
  rename: async ({ redis, key }) => {
    await redis.set(key("a"), "v");
    expect(await redis.rename(key("a"), key("b"))).toBe("OK");
    expect(await redis.get(key("b"))).toBe("v");
  },
  renamenx: async ({ redis, key }) => {
    await redis.mset({ [key("a")]: 1, [key("b")]: 2 });
    expect(await redis.renamenx(key("a"), key("b"))).toBe(0);
    expect(await redis.renamenx(key("a"), key("c"))).toBe(1);
  },
  scan: async ({ redis, key }) => {
    await redis.mset({ [key("a")]: 1, [key("b")]: 2 });
    await redis.sadd(key("set"), "m");
    const found: string[] = [];
    let cursor = "0";
    do {
      const [next, keys] = await redis.scan(cursor, { match: key("*"), count: 1_000 });
      expect(typeof next).toBe("string");
      found.push(...keys);
      cursor = next;
    } while (cursor !== "0");
    expect(found.sort()).toEqual([key("a"), key("b"), key("set")]);
    expect(await redis.scan(0, { match: key("*"), count: 100_000, type: "set" })).toEqual([
      "0",
      [key("set")],
    ]);
    // WITHTYPE is an Upstash extension of SCAN; redis-server refuses the option, cleanly.
    await expect(redis.scan(0, { match: key("*"), withType: true })).rejects.toThrow(/ERR syntax error/);
  },
  touch: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    expect(await redis.touch(key("a"), key("absent"))).toBe(1);
  },
  ttl: async ({ redis, key }) => {
    await redis.setex(key("a"), 100, "v");
    expect(await redis.ttl(key("a"))).toBe(100);
    expect(await redis.ttl(key("absent"))).toBe(-2);
  },
  type: async ({ redis, key }) => {
    await redis.set(key("a"), 1);
    await redis.lpush(key("l"), "x");
    expect(await redis.type(key("a"))).toBe("string");
    expect(await redis.type(key("l"))).toBe("list");
    expect(await redis.type(key("absent"))).toBe("none");
  },
  unlink: async ({ redis, key }) => {
    await redis.mset({ [key("a")]: 1, [key("b")]: 2 });
    expect(await redis.unlink(key("a"), key("b"), key("absent"))).toBe(2);
  },
} satisfies Record<string, SurfaceCase>;

export const SERVER_CASES = {
  clientSetinfo: gated("client|setinfo", async ({ redis }) => {
    expect(await redis.clientSetinfo("LIB-NAME", "surface-test")).toBe("OK");
  }),
  dbsize: async ({ redis, key, direct }) => {
    await redis.set(key("a"), 1);
    expect(await redis.dbsize()).toBe(await direct.dbsize());
  },
  echo: async ({ redis }) => {
    expect(await redis.echo("hello")).toBe("hello");
  },
  exec: async ({ redis, key }) => {
    expect(await redis.exec(["SET", key("a"), "v"])).toBe("OK");
    expect(await redis.exec(["GET", key("a")])).toBe("v");
    expect(await redis.exec(["HGETALL", key("absent")])).toEqual([]);
  },
  flushall: async ({ redis, key, direct }) => {
    // The suite's redis-server is private: nothing else lives there.
    await redis.set(key("a"), 1);
    expect(await redis.flushall([{ async: true }])).toBe("OK");
    expect(await redis.flushall()).toBe("OK");
    expect(await direct.dbsize()).toBe(0);
  },
  flushdb: async ({ redis, key, direct }) => {
    await redis.set(key("a"), 1);
    expect(await redis.flushdb({ async: false })).toBe("OK");
    expect(await direct.dbsize()).toBe(0);
  },
  ping: async ({ redis }) => {
    expect(await redis.ping()).toBe("PONG");
    expect(await redis.ping(["hello"])).toBe("hello");
  },
  time: async ({ redis }) => {
    const [seconds, micros] = await redis.time();
    expect(Math.abs(seconds - nowSeconds())).toBeLessThan(60);
    expect(micros).toBeGreaterThanOrEqual(0);
    expect(micros).toBeLessThan(1_000_000);
  },
} satisfies Record<string, SurfaceCase>;

const SCRIPT = "return {KEYS[1], ARGV[1]}";

export const SCRIPT_CASES = {
  createScript: async ({ redis, key }) => {
    await redis.scriptFlush();
    const script = redis.createScript<string[]>(`${SCRIPT} -- createScript`);
    expect(await script.exec([key("k")], ["a"])).toEqual([key("k"), "a"]);
    expect(await script.exec([key("k")], ["b"])).toEqual([key("k"), "b"]);
  },
  eval: async ({ redis, key }) => {
    expect(await redis.eval(SCRIPT, [key("k")], ["x"])).toEqual([key("k"), "x"]);
  },
  evalRo: async ({ redis, key }) => {
    await redis.set(key("k"), "v");
    expect(await redis.evalRo(`return redis.call("get", KEYS[1])`, [key("k")], [])).toBe("v");
  },
  evalsha: async ({ redis, key }) => {
    const sha = await redis.scriptLoad(SCRIPT);
    expect(await redis.evalsha(sha, [key("k")], ["y"])).toEqual([key("k"), "y"]);
  },
  evalshaRo: async ({ redis, key }) => {
    const source = `return redis.call("exists", KEYS[1])`;
    const sha = await redis.scriptLoad(source);
    expect(await redis.evalshaRo(sha, [key("absent")], [])).toBe(0);
  },
  scriptExists: async ({ redis }) => {
    await redis.scriptLoad(SCRIPT);
    expect(await redis.scriptExists(sha1(SCRIPT), sha1("return 'never loaded'"))).toEqual([1, 0]);
  },
  scriptFlush: async ({ redis }) => {
    await redis.scriptLoad(SCRIPT);
    expect(await redis.scriptFlush({ sync: true })).toBe("OK");
    expect(await redis.scriptExists(sha1(SCRIPT))).toEqual([0]);
  },
  scriptLoad: async ({ redis }) => {
    expect(await redis.scriptLoad(SCRIPT)).toBe(sha1(SCRIPT));
  },
} satisfies Record<string, SurfaceCase>;

/** A Lua library of two functions, one of them read-only, under a name of the calling case. */
function library(name: string): string {
  return [
    `#!lua name=${name}`,
    `redis.register_function("${name}_echo", function(keys, args) return args[1] end)`,
    `redis.register_function{function_name="${name}_ro", callback=function(keys, args) return redis.call("exists", keys[1]) end, flags={"no-writes"}}`,
  ].join("\n");
}
const libraryName = (key: (name: string) => string): string => `lib_${key("").replace(/[^A-Za-z0-9]/g, "")}`;

export const FUNCTION_CASES = {
  "functions.load": async ({ redis, key }) => {
    const name = libraryName(key);
    expect(await redis.functions.load({ code: library(name) })).toBe(name);
    expect(await redis.functions.load({ code: library(name), replace: true })).toBe(name);
  },
  "functions.list": async ({ redis, key }) => {
    const name = libraryName(key);
    await redis.functions.load({ code: library(name) });
    const [lib] = await redis.functions.list({ libraryName: name });
    expect(lib).toMatchObject({ libraryName: name, engine: "LUA" });
    expect(lib?.functions.map((f) => f.name).sort()).toEqual([`${name}_echo`, `${name}_ro`]);
    expect(lib?.functions.find((f) => f.name === `${name}_ro`)?.flags).toEqual(["no-writes"]);
  },
  "functions.call": async ({ redis, key }) => {
    const name = libraryName(key);
    await redis.functions.load({ code: library(name) });
    expect(await redis.functions.call(`${name}_echo`, [], ["hello"])).toBe("hello");
  },
  "functions.callRo": async ({ redis, key }) => {
    const name = libraryName(key);
    await redis.functions.load({ code: library(name) });
    expect(await redis.functions.callRo(`${name}_ro`, [key("absent")], [])).toBe(0);
  },
  "functions.stats": async ({ redis, key }) => {
    await redis.functions.flush();
    await redis.functions.load({ code: library(libraryName(key)) });
    expect(await redis.functions.stats()).toEqual({
      engines: { LUA: { librariesCount: 1, functionsCount: 2 } },
    });
  },
  "functions.delete": async ({ redis, key }) => {
    const name = libraryName(key);
    await redis.functions.load({ code: library(name) });
    expect(await redis.functions.delete(name)).toBe("OK");
    expect(await redis.functions.list({ libraryName: name })).toEqual([]);
  },
  "functions.flush": async ({ redis, key }) => {
    await redis.functions.load({ code: library(libraryName(key)) });
    expect(await redis.functions.flush()).toBe("OK");
    expect(await redis.functions.list()).toEqual([]);
  },
} satisfies Record<string, SurfaceCase>;

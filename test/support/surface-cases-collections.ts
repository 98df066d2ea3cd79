// Command-surface cases: hashes (field expiry included), lists, sets and sorted sets.
import { expect } from "vitest";
import { gated, type SurfaceCase } from "./surface-context.ts";

const later = (seconds: number): number => Math.floor(Date.now() / 1000) + seconds;

export const HASH_CASES = {
  hdel: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1, b: 2 });
    expect(await redis.hdel(key("h"), "a", "absent")).toBe(1);
  },
  hexists: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hexists(key("h"), "a")).toBe(1);
    expect(await redis.hexists(key("h"), "b")).toBe(0);
  },
  hget: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x", n: 5 });
    expect(await redis.hget(key("h"), "a")).toBe("x");
    expect(await redis.hget(key("h"), "n")).toBe(5);
    expect(await redis.hget(key("h"), "absent")).toBeNull();
  },
  hgetall: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x", n: 5, o: { deep: true } });
    expect(await redis.hgetall(key("h"))).toEqual({ a: "x", n: 5, o: { deep: true } });
    expect(await redis.hgetall(key("absent"))).toBeNull();
  },
  hincrby: async ({ redis, key }) => {
    expect(await redis.hincrby(key("h"), "n", 3)).toBe(3);
  },
  hincrbyfloat: async ({ redis, key }) => {
    expect(await redis.hincrbyfloat(key("h"), "n", 1.25)).toBe(1.25);
  },
  hkeys: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1, b: 2 });
    expect((await redis.hkeys(key("h"))).sort()).toEqual(["a", "b"]);
  },
  hlen: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1, b: 2 });
    expect(await redis.hlen(key("h"))).toBe(2);
  },
  hmget: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x", n: 5 });
    expect(await redis.hmget(key("h"), "a", "n", "absent")).toEqual({ a: "x", n: 5, absent: null });
    expect(await redis.hmget(key("absent"), "a")).toBeNull();
  },
  hmset: async ({ redis, key }) => {
    expect(await redis.hmset(key("h"), { a: 1, b: "y" })).toBe("OK");
    expect(await redis.hgetall(key("h"))).toEqual({ a: 1, b: "y" });
  },
  hrandfield: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1, b: 2 });
    expect(["a", "b"]).toContain(await redis.hrandfield(key("h")));
    expect(((await redis.hrandfield(key("h"), 2)) as string[]).sort()).toEqual(["a", "b"]);
    expect(await redis.hrandfield(key("h"), 2, true)).toEqual({ a: 1, b: 2 });
  },
  hscan: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1, b: "x" });
    const [cursor, flat] = await redis.hscan(key("h"), 0, { match: "*", count: 100 });
    expect(cursor).toBe("0");
    expect(flat).toEqual(["a", 1, "b", "x"]);
  },
  hset: async ({ redis, key }) => {
    expect(await redis.hset(key("h"), { a: 1, b: 2 })).toBe(2);
    expect(await redis.hset(key("h"), { a: 3 })).toBe(0);
  },
  hsetnx: async ({ redis, key }) => {
    expect(await redis.hsetnx(key("h"), "a", 1)).toBe(1);
    expect(await redis.hsetnx(key("h"), "a", 2)).toBe(0);
  },
  hstrlen: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "hello" });
    expect(await redis.hstrlen(key("h"), "a")).toBe(5);
  },
  hvals: async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x", b: 2 });
    expect(await redis.hvals(key("h"))).toEqual(["x", 2]);
  },
  // Hash field expiry: Redis 7.4 and later.
  hexpire: gated("hexpire", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hexpire(key("h"), ["a", "absent"], 100)).toEqual([1, -2]);
  }),
  hexpireat: gated("hexpireat", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hexpireat(key("h"), "a", later(100))).toEqual([1]);
  }),
  // The read-side cases look at fields without expiry, so they need no other 7.4 command first.
  hexpiretime: gated("hexpiretime", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hexpiretime(key("h"), ["a", "absent"])).toEqual([-1, -2]);
  }),
  httl: gated("httl", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.httl(key("h"), ["a", "absent"])).toEqual([-1, -2]);
  }),
  hpexpire: gated("hpexpire", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hpexpire(key("h"), "a", 100_000)).toEqual([1]);
  }),
  hpexpireat: gated("hpexpireat", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hpexpireat(key("h"), "a", Date.now() + 100_000)).toEqual([1]);
  }),
  hpexpiretime: gated("hpexpiretime", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hpexpiretime(key("h"), "a")).toEqual([-1]);
  }),
  hpttl: gated("hpttl", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hpttl(key("h"), ["a", "absent"])).toEqual([-1, -2]);
  }),
  hpersist: gated("hpersist", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: 1 });
    expect(await redis.hpersist(key("h"), ["a", "absent"])).toEqual([-1, -2]);
  }),
  // HGETDEL, HGETEX and HSETEX: Redis 8.0 and later.
  hgetdel: gated("hgetdel", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x", b: 2 });
    expect(await redis.hgetdel(key("h"), "a", "absent")).toEqual({ a: "x", absent: null });
    expect(await redis.hgetall(key("h"))).toEqual({ b: 2 });
  }),
  hgetex: gated("hgetex", async ({ redis, key }) => {
    await redis.hset(key("h"), { a: "x" });
    expect(await redis.hgetex(key("h"), { ex: 100 }, "a")).toEqual({ a: "x" });
    expect(await redis.httl(key("h"), "a")).toEqual([100]);
  }),
  hsetex: gated("hsetex", async ({ redis, key }) => {
    expect(await redis.hsetex(key("h"), { expiration: { ex: 100 } }, { a: 1, b: 2 })).toBe(1);
    expect(await redis.hgetall(key("h"))).toEqual({ a: 1, b: 2 });
  }),
} satisfies Record<string, SurfaceCase>;

export const LIST_CASES = {
  lindex: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b");
    expect(await redis.lindex(key("l"), 1)).toBe("b");
    expect(await redis.lindex(key("l"), 5)).toBeNull();
  },
  linsert: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "c");
    expect(await redis.linsert(key("l"), "before", "c", "b")).toBe(3);
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["a", "b", "c"]);
  },
  llen: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b");
    expect(await redis.llen(key("l"))).toBe(2);
  },
  lmove: async ({ redis, key }) => {
    await redis.rpush(key("src"), "a", "b");
    expect(await redis.lmove(key("src"), key("dst"), "left", "right")).toBe("a");
    expect(await redis.lrange(key("dst"), 0, -1)).toEqual(["a"]);
  },
  lmpop: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "c");
    expect(await redis.lmpop(2, [key("absent"), key("l")], "LEFT", 2)).toEqual([key("l"), ["a", "b"]]);
    expect(await redis.lmpop(1, [key("absent")], "RIGHT")).toBeNull();
  },
  lpop: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "c");
    expect(await redis.lpop(key("l"))).toBe("a");
    expect(await redis.lpop(key("l"), 2)).toEqual(["b", "c"]);
    expect(await redis.lpop(key("l"))).toBeNull();
  },
  lpos: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "a");
    expect(await redis.lpos(key("l"), "b")).toBe(1);
    expect(await redis.lpos(key("l"), "a", { rank: 2 })).toBe(2);
    expect(await redis.lpos(key("l"), "a", { count: 0 })).toEqual([0, 2]);
  },
  lpush: async ({ redis, key }) => {
    expect(await redis.lpush(key("l"), "a", "b")).toBe(2);
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["b", "a"]);
  },
  lpushx: async ({ redis, key }) => {
    expect(await redis.lpushx(key("l"), "a")).toBe(0);
    await redis.lpush(key("l"), "a");
    expect(await redis.lpushx(key("l"), "b")).toBe(2);
  },
  lrange: async ({ redis, key }) => {
    // The client parses "2" back into a number.
    await redis.rpush(key("l"), "a", "2", "c");
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["a", 2, "c"]);
    expect(await redis.lrange(key("absent"), 0, -1)).toEqual([]);
  },
  lrem: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "a");
    expect(await redis.lrem(key("l"), 0, "a")).toBe(2);
  },
  lset: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b");
    expect(await redis.lset(key("l"), 1, "c")).toBe("OK");
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["a", "c"]);
  },
  ltrim: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "c");
    expect(await redis.ltrim(key("l"), 1, -1)).toBe("OK");
    expect(await redis.lrange(key("l"), 0, -1)).toEqual(["b", "c"]);
  },
  rpop: async ({ redis, key }) => {
    await redis.rpush(key("l"), "a", "b", "c");
    expect(await redis.rpop(key("l"))).toBe("c");
    expect(await redis.rpop(key("l"), 2)).toEqual(["b", "a"]);
  },
  rpush: async ({ redis, key }) => {
    expect(await redis.rpush(key("l"), "a", "b")).toBe(2);
  },
  rpushx: async ({ redis, key }) => {
    expect(await redis.rpushx(key("l"), "a")).toBe(0);
    await redis.rpush(key("l"), "a");
    expect(await redis.rpushx(key("l"), "b")).toBe(2);
  },
} satisfies Record<string, SurfaceCase>;

export const SET_CASES = {
  sadd: async ({ redis, key }) => {
    expect(await redis.sadd(key("s"), "a", "b", "a")).toBe(2);
  },
  scard: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a", "b");
    expect(await redis.scard(key("s"))).toBe(2);
  },
  sdiff: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x", "y");
    await redis.sadd(key("b"), "y");
    expect(await redis.sdiff(key("a"), key("b"))).toEqual(["x"]);
  },
  sdiffstore: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x", "y");
    await redis.sadd(key("b"), "y");
    expect(await redis.sdiffstore(key("d"), key("a"), key("b"))).toBe(1);
  },
  sinter: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x", "y");
    await redis.sadd(key("b"), "y", "z");
    expect(await redis.sinter(key("a"), key("b"))).toEqual(["y"]);
  },
  sintercard: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x", "y", "z");
    await redis.sadd(key("b"), "y", "z");
    expect(await redis.sintercard([key("a"), key("b")])).toBe(2);
    expect(await redis.sintercard([key("a"), key("b")], { limit: 1 })).toBe(1);
  },
  sinterstore: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x", "y");
    await redis.sadd(key("b"), "y");
    expect(await redis.sinterstore(key("d"), key("a"), key("b"))).toBe(1);
  },
  sismember: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a");
    expect(await redis.sismember(key("s"), "a")).toBe(1);
    expect(await redis.sismember(key("s"), "b")).toBe(0);
  },
  smembers: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a", "b");
    expect((await redis.smembers(key("s"))).sort()).toEqual(["a", "b"]);
  },
  smismember: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a");
    expect(await redis.smismember(key("s"), ["a", "b"])).toEqual([1, 0]);
  },
  smove: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x");
    expect(await redis.smove(key("a"), key("b"), "x")).toBe(1);
    expect(await redis.smove(key("a"), key("b"), "x")).toBe(0);
  },
  spop: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a");
    expect(await redis.spop(key("s"))).toBe("a");
    expect(await redis.spop(key("s"))).toBeNull();
  },
  srandmember: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a");
    expect(await redis.srandmember(key("s"))).toBe("a");
    expect(await redis.srandmember(key("s"), 2)).toEqual(["a"]);
  },
  srem: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a", "b");
    expect(await redis.srem(key("s"), "a", "absent")).toBe(1);
  },
  sscan: async ({ redis, key }) => {
    await redis.sadd(key("s"), "a");
    expect(await redis.sscan(key("s"), 0)).toEqual(["0", ["a"]]);
  },
  sunion: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x");
    await redis.sadd(key("b"), "y");
    expect((await redis.sunion(key("a"), key("b"))).sort()).toEqual(["x", "y"]);
  },
  sunionstore: async ({ redis, key }) => {
    await redis.sadd(key("a"), "x");
    await redis.sadd(key("b"), "y");
    expect(await redis.sunionstore(key("d"), key("a"), key("b"))).toBe(2);
  },
} satisfies Record<string, SurfaceCase>;

export const SORTED_SET_CASES = {
  zadd: async ({ redis, key }) => {
    expect(await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" })).toBe(2);
    expect(await redis.zadd(key("z"), { nx: true }, { score: 5, member: "a" })).toBe(0);
    expect(await redis.zadd(key("z"), { incr: true }, { score: 1.5, member: "a" })).toBe(2.5);
  },
  zcard: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" });
    expect(await redis.zcard(key("z"))).toBe(1);
  },
  zcount: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zcount(key("z"), 2, "+inf")).toBe(1);
  },
  zdiffstore: async ({ redis, key }) => {
    await redis.zadd(key("a"), { score: 1, member: "x" }, { score: 2, member: "y" });
    await redis.zadd(key("b"), { score: 1, member: "y" });
    expect(await redis.zdiffstore(key("d"), 2, key("a"), key("b"))).toBe(1);
  },
  zincrby: async ({ redis, key }) => {
    expect(await redis.zincrby(key("z"), 2.5, "a")).toBe(2.5);
  },
  zinterstore: async ({ redis, key }) => {
    await redis.zadd(key("a"), { score: 1, member: "x" }, { score: 2, member: "y" });
    await redis.zadd(key("b"), { score: 3, member: "y" });
    expect(await redis.zinterstore(key("d"), 2, [key("a"), key("b")], { aggregate: "sum" })).toBe(1);
    expect(await redis.zscore(key("d"), "y")).toBe(5);
  },
  zlexcount: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 0, member: "a" }, { score: 0, member: "b" });
    expect(await redis.zlexcount(key("z"), "[b", "+")).toBe(1);
  },
  zmscore: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1.5, member: "a" });
    expect(await redis.zmscore(key("z"), ["a", "absent"])).toEqual([1.5, null]);
  },
  zpopmax: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zpopmax(key("z"))).toEqual(["b", 2]);
  },
  zpopmin: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zpopmin(key("z"), 2)).toEqual(["a", 1, "b", 2]);
  },
  zrange: async ({ redis, key }) => {
    await redis.zadd(
      key("z"),
      { score: 1, member: "a" },
      { score: 2, member: "b" },
      { score: 3, member: "c" },
    );
    expect(await redis.zrange(key("z"), 0, -1)).toEqual(["a", "b", "c"]);
    expect(await redis.zrange(key("z"), 0, 0, { withScores: true })).toEqual(["a", 1]);
    expect(await redis.zrange(key("z"), 2, "+inf", { byScore: true, offset: 0, count: 1 })).toEqual(["b"]);
    expect(await redis.zrange(key("z"), 0, 0, { rev: true })).toEqual(["c"]);
  },
  zrank: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zrank(key("z"), "b")).toBe(1);
    expect(await redis.zrank(key("z"), "absent")).toBeNull();
  },
  zrem: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" });
    expect(await redis.zrem(key("z"), "a", "absent")).toBe(1);
  },
  zremrangebylex: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 0, member: "a" }, { score: 0, member: "b" });
    expect(await redis.zremrangebylex(key("z"), "[a", "[a")).toBe(1);
  },
  zremrangebyrank: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zremrangebyrank(key("z"), 0, 0)).toBe(1);
  },
  zremrangebyscore: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zremrangebyscore(key("z"), "-inf", "(2")).toBe(1);
  },
  zrevrank: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" }, { score: 2, member: "b" });
    expect(await redis.zrevrank(key("z"), "b")).toBe(0);
  },
  zscan: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1, member: "a" });
    expect(await redis.zscan(key("z"), 0)).toEqual(["0", ["a", 1]]);
  },
  zscore: async ({ redis, key }) => {
    await redis.zadd(key("z"), { score: 1.25, member: "a" });
    expect(await redis.zscore(key("z"), "a")).toBe(1.25);
    expect(await redis.zscore(key("z"), "absent")).toBeNull();
  },
  zunion: async ({ redis, key }) => {
    await redis.zadd(key("a"), { score: 1, member: "x" });
    await redis.zadd(key("b"), { score: 2, member: "x" }, { score: 1, member: "y" });
    expect(await redis.zunion(2, [key("a"), key("b")], { withScores: true })).toEqual(["y", 1, "x", 3]);
  },
  zunionstore: async ({ redis, key }) => {
    await redis.zadd(key("a"), { score: 1, member: "x" });
    await redis.zadd(key("b"), { score: 1, member: "y" });
    expect(await redis.zunionstore(key("d"), 2, [key("a"), key("b")])).toBe(2);
  },
} satisfies Record<string, SurfaceCase>;

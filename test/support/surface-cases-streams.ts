// Command-surface cases: streams, geo, HyperLogLog, pub/sub, pipelines and transactions.
import { expect } from "vitest";
import { gated, type SurfaceCase, type SurfaceContext } from "./surface-context.ts";

const ID = /^\d+-\d+$/;

/** A stream with one entry `{ f: "v" }` and a group `g` that consumer `c` has read it into. */
async function pendingEntry({ redis, key }: SurfaceContext): Promise<string> {
  const id = await redis.xadd(key("s"), "*", { f: "v" });
  await redis.xgroup(key("s"), { type: "CREATE", group: "g", id: "0" });
  await redis.xreadgroup("g", "c", key("s"), ">");
  return id;
}

export const STREAM_CASES = {
  xadd: async ({ redis, key }) => {
    const id = await redis.xadd(key("s"), "*", { f: "v", n: 1 });
    expect(id).toMatch(ID);
    const capped = await redis.xadd(
      key("s"),
      "*",
      { f: "w" },
      { trim: { type: "MAXLEN", comparison: "=", threshold: 1 } },
    );
    expect(capped).toMatch(ID);
    expect(await redis.xlen(key("s"))).toBe(1);
  },
  xack: async (ctx) => {
    const id = await pendingEntry(ctx);
    expect(await ctx.redis.xack(ctx.key("s"), "g", id)).toBe(1);
    expect(await ctx.redis.xack(ctx.key("s"), "g", id)).toBe(0);
  },
  xautoclaim: async (ctx) => {
    const id = await pendingEntry(ctx);
    // Next cursor, claimed entries, and (Redis 7) the ids of entries deleted meanwhile.
    expect(await ctx.redis.xautoclaim(ctx.key("s"), "g", "c2", 0, "0-0")).toEqual([
      "0-0",
      [[id, ["f", "v"]]],
      [],
    ]);
  },
  xclaim: async (ctx) => {
    const id = await pendingEntry(ctx);
    expect(await ctx.redis.xclaim(ctx.key("s"), "g", "c2", 0, id)).toEqual([[id, ["f", "v"]]]);
  },
  xdel: async ({ redis, key }) => {
    const id = await redis.xadd(key("s"), "*", { f: "v" });
    expect(await redis.xdel(key("s"), id)).toBe(1);
    expect(await redis.xdel(key("s"), [id])).toBe(0);
  },
  xgroup: async ({ redis, key }) => {
    await redis.xadd(key("s"), "*", { f: "v" });
    expect(await redis.xgroup(key("s"), { type: "CREATE", group: "g", id: "$" })).toBe("OK");
    expect(await redis.xgroup(key("s"), { type: "CREATECONSUMER", group: "g", consumer: "c" })).toBe(1);
    expect(await redis.xgroup(key("s"), { type: "DELCONSUMER", group: "g", consumer: "c" })).toBe(0);
    expect(await redis.xgroup(key("s"), { type: "SETID", group: "g", id: "0" })).toBe("OK");
    expect(await redis.xgroup(key("s"), { type: "DESTROY", group: "g" })).toBe(1);
  },
  xinfo: async (ctx) => {
    await pendingEntry(ctx);
    const [group] = (await ctx.redis.xinfo(ctx.key("s"), { type: "GROUPS" })) as unknown[][];
    expect(group).toEqual(expect.arrayContaining(["name", "g", "consumers", 1, "pending", 1]));
    const [consumer] = (await ctx.redis.xinfo(ctx.key("s"), {
      type: "CONSUMERS",
      group: "g",
    })) as unknown[][];
    expect(consumer).toEqual(expect.arrayContaining(["name", "c", "pending", 1]));
  },
  xlen: async ({ redis, key }) => {
    await redis.xadd(key("s"), "*", { f: "v" });
    expect(await redis.xlen(key("s"))).toBe(1);
  },
  xpending: async (ctx) => {
    const id = await pendingEntry(ctx);
    expect(await ctx.redis.xpending(ctx.key("s"), "g", "-", "+", 10)).toEqual([
      [id, "c", expect.any(Number), 1],
    ]);
    expect(await ctx.redis.xpending(ctx.key("s"), "g", "-", "+", 10, { consumer: "other" })).toEqual([]);
  },
  xrange: async ({ redis, key }) => {
    const a = await redis.xadd(key("s"), "*", { f: "v", n: 1 });
    const b = await redis.xadd(key("s"), "*", { f: "w" });
    expect(await redis.xrange(key("s"), "-", "+")).toEqual({ [a]: { f: "v", n: 1 }, [b]: { f: "w" } });
    expect(Object.keys(await redis.xrange(key("s"), "-", "+", 1))).toEqual([a]);
  },
  xread: async ({ redis, key }) => {
    const id = await redis.xadd(key("s"), "*", { f: "v" });
    expect(await redis.xread(key("s"), "0")).toEqual([[key("s"), [[id, ["f", "v"]]]]]);
    expect(await redis.xread(key("s"), id)).toBeNull();
  },
  xreadgroup: async ({ redis, key }) => {
    const id = await redis.xadd(key("s"), "*", { f: "v" });
    await redis.xgroup(key("s"), { type: "CREATE", group: "g", id: "0" });
    expect(await redis.xreadgroup("g", "c", key("s"), ">", { count: 10 })).toEqual([
      [key("s"), [[id, ["f", "v"]]]],
    ]);
  },
  xrevrange: async ({ redis, key }) => {
    const a = await redis.xadd(key("s"), "*", { f: "v" });
    const b = await redis.xadd(key("s"), "*", { f: "w" });
    expect(Object.keys(await redis.xrevrange(key("s"), "+", "-"))).toEqual([b, a]);
  },
  xtrim: async ({ redis, key }) => {
    await redis.xadd(key("s"), "*", { f: "v" });
    await redis.xadd(key("s"), "*", { f: "w" });
    expect(await redis.xtrim(key("s"), { strategy: "MAXLEN", threshold: 1, exactness: "=" })).toBe(1);
  },
  // XACKDEL and XDELEX: Redis 8.2 and later.
  xackdel: gated("xackdel", async (ctx) => {
    const id = await pendingEntry(ctx);
    expect(await ctx.redis.xackdel(ctx.key("s"), "g", "KEEPREF", id)).toEqual([1]);
  }),
  xdelex: gated("xdelex", async ({ redis, key }) => {
    const id = await redis.xadd(key("s"), "*", { f: "v" });
    expect(await redis.xdelex(key("s"), "KEEPREF", id)).toEqual([1]);
  }),
} satisfies Record<string, SurfaceCase>;

/** Redis's own GEO examples: Palermo and Catania. */
async function sicily({ redis, key }: SurfaceContext): Promise<number | null> {
  return await redis.geoadd(
    key("g"),
    { longitude: 13.361389, latitude: 38.115556, member: "Palermo" },
    { longitude: 15.087269, latitude: 37.502669, member: "Catania" },
  );
}

export const GEO_CASES = {
  geoadd: async (ctx) => {
    expect(await sicily(ctx)).toBe(2);
    expect(
      await ctx.redis.geoadd(ctx.key("g"), { nx: true }, { longitude: 1, latitude: 1, member: "Palermo" }),
    ).toBe(0);
  },
  geodist: async (ctx) => {
    await sicily(ctx);
    expect(await ctx.redis.geodist(ctx.key("g"), "Palermo", "Catania", "KM")).toBe(166.2742);
    expect(await ctx.redis.geodist(ctx.key("g"), "Palermo", "Nowhere")).toBeNull();
  },
  geohash: async (ctx) => {
    await sicily(ctx);
    expect(await ctx.redis.geohash(ctx.key("g"), "Palermo", "Nowhere")).toEqual(["sqc8b49rny0", null]);
  },
  geopos: async (ctx) => {
    await sicily(ctx);
    const [palermo] = await ctx.redis.geopos(ctx.key("g"), "Palermo");
    expect(palermo?.lng).toBeCloseTo(13.361389, 5);
    expect(palermo?.lat).toBeCloseTo(38.115556, 5);
  },
  geosearch: async (ctx) => {
    await sicily(ctx);
    const from = { type: "FROMLONLAT", coordinate: { lon: 15, lat: 37 } } as const;
    const within = { type: "BYRADIUS", radius: 200, radiusType: "KM" } as const;
    expect(await ctx.redis.geosearch(ctx.key("g"), from, within, "ASC")).toEqual([
      { member: "Catania" },
      { member: "Palermo" },
    ]);
    const [nearest] = await ctx.redis.geosearch(ctx.key("g"), from, within, "ASC", { withDist: true });
    expect(nearest?.member).toBe("Catania");
    expect(nearest?.dist).toBeCloseTo(56.4413, 3);
  },
  geosearchstore: async (ctx) => {
    await sicily(ctx);
    const from = { type: "FROMMEMBER", member: "Palermo" } as const;
    const within = { type: "BYRADIUS", radius: 200, radiusType: "KM" } as const;
    expect(await ctx.redis.geosearchstore(ctx.key("d"), ctx.key("g"), from, within, "ASC")).toBe(2);
  },
} satisfies Record<string, SurfaceCase>;

export const HYPERLOGLOG_CASES = {
  pfadd: async ({ redis, key }) => {
    expect(await redis.pfadd(key("h"), "a", "b")).toBe(1);
    expect(await redis.pfadd(key("h"), "a")).toBe(0);
  },
  pfcount: async ({ redis, key }) => {
    await redis.pfadd(key("h"), "a", "b", "c");
    expect(await redis.pfcount(key("h"))).toBe(3);
  },
  pfmerge: async ({ redis, key }) => {
    await redis.pfadd(key("a"), "x", "y");
    await redis.pfadd(key("b"), "y", "z");
    expect(await redis.pfmerge(key("d"), key("a"), key("b"))).toBe("OK");
    expect(await redis.pfcount(key("d"))).toBe(3);
  },
} satisfies Record<string, SurfaceCase>;

/** The next `type` event of a subscriber (an error event rejects). */
function nextEvent(
  subscriber: { on(type: string, listener: (data: unknown) => void): void },
  type: string,
): Promise<unknown> {
  return new Promise((resolve, reject) => {
    subscriber.on(type, resolve);
    subscriber.on("error", reject);
  });
}

export const PUBSUB_CASES = {
  publish: async ({ redis, key }) => {
    expect(await redis.publish(key("channel"), "nobody listens")).toBe(0);
  },
  subscribe: async ({ redis, key }) => {
    const subscriber = redis.subscribe<string>(key("channel"));
    try {
      expect(await nextEvent(subscriber, "subscribe")).toBe(1);
      const message = nextEvent(subscriber, "message");
      expect(await redis.publish(key("channel"), "hello")).toBe(1);
      expect(await message).toEqual({ channel: key("channel"), message: "hello" });
    } finally {
      await subscriber.unsubscribe();
    }
  },
  psubscribe: async ({ redis, key }) => {
    const subscriber = redis.psubscribe<{ n: number }>(key("ch:*"));
    try {
      expect(await nextEvent(subscriber, "psubscribe")).toBe(1);
      const message = nextEvent(subscriber, "pmessage");
      expect(await redis.publish(key("ch:1"), { n: 1 })).toBe(1);
      expect(await message).toEqual({ pattern: key("ch:*"), channel: key("ch:1"), message: { n: 1 } });
    } finally {
      await subscriber.unsubscribe();
    }
  },
} satisfies Record<string, SurfaceCase>;

export const BATCH_CASES = {
  pipeline: async ({ redis, key }) => {
    expect(await redis.pipeline().set(key("a"), "v").get(key("a")).hgetall(key("absent")).exec()).toEqual([
      "OK",
      "v",
      null,
    ]);
  },
  multi: async ({ redis, key }) => {
    expect(await redis.multi().incr(key("n")).incr(key("n")).get(key("n")).exec()).toEqual([1, 2, 2]);
  },
} satisfies Record<string, SurfaceCase>;

// Client compatibility suite: the unmodified @upstash/redis 1.39 client against tools/upstash-local on a real redis-server.

import { createHash } from "node:crypto";
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { keyspace } from "./support/private-upstash.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const sha1 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");

describeWithRedis("@upstash/redis 1.39 against upstash-local", () => {
  const url = inject("upstashUrl");
  const token = inject("upstashToken");
  let direct: IORedis;

  beforeAll(async () => {
    // A plain Redis connection for writing raw bytes and checking what redis-server itself does.
    direct = new IORedis(inject("redisUrl"), { lazyConnect: true });
    await direct.connect();
  });
  afterAll(async () => {
    await direct.quit();
  });

  describe.each([
    { label: "base64 responses (the client default)", encoding: true },
    { label: "responseEncoding: false", encoding: false },
  ])("$label", ({ encoding }) => {
    const client = (extra: Partial<RedisConfigNodejs> = {}): Redis =>
      new Redis({
        url,
        token,
        enableTelemetry: false,
        ...(encoding ? {} : { responseEncoding: false }),
        ...extra,
      });

    it("round-trips strings, status replies and simple strings", async () => {
      const key = keyspace();
      const redis = client();
      expect(await redis.set(key("s"), "hello")).toBe("OK");
      expect(await redis.get(key("s"))).toBe("hello");
      expect(await redis.getrange(key("s"), 0, 1)).toBe("he");
      // "PONG" and "string" are valid base64: sent raw under base64 they would decode to garbage.
      expect(await redis.ping()).toBe("PONG");
      expect(await redis.type(key("s"))).toBe("string");
      expect(await redis.append(key("s"), " world")).toBe(11);
    });

    it("returns integers as numbers and passes numeric arguments through literally", async () => {
      const key = keyspace();
      const redis = client();
      expect(await redis.incr(key("n"))).toBe(1);
      expect(await redis.incrby(key("n"), 41)).toBe(42);
      expect(await redis.incrbyfloat(key("n"), 0.5)).toBe(42.5);
      expect(await redis.decrby(key("m"), 7)).toBe(-7);
      // The client sends 1e21 as the JSON number 1e+21; Redis must receive that text.
      await redis.set(key("big"), 1e21);
      expect(await client({ automaticDeserialization: false }).get(key("big"))).toBe("1e+21");
      expect(await redis.exists(key("n"), key("m"), key("absent"))).toBe(2);
    });

    it("returns null for nil at the top level and inside arrays", async () => {
      const key = keyspace();
      const redis = client();
      expect(await redis.get(key("absent"))).toBeNull();
      expect(await redis.hget(key("absent-hash"), "f")).toBeNull();
      await redis.set(key("a"), "x");
      expect(await redis.mget(key("a"), key("absent"))).toEqual(["x", null]);
      expect(await redis.eval("return nil", [], [])).toBeNull();
    });

    it("decodes nested arrays: Lua tables, status replies at depth, HSCAN and LRANGE", async () => {
      const key = keyspace();
      const redis = client();
      const nested = await redis.eval(
        `return {1, "two", {3, "four", {"five"}}, redis.call("set", KEYS[1], "v"), false, "six"}`,
        [key("k")],
        [],
      );
      // Lua false becomes nil; the SET status reply arrives as "OK" one level down.
      expect(nested).toEqual([1, "two", [3, "four", ["five"]], "OK", null, "six"]);

      await redis.hset(key("h"), { a: "1", b: "x" });
      const [cursor, fields] = await redis.hscan(key("h"), 0);
      expect(String(cursor)).toBe("0");
      expect(fields).toEqual(["a", 1, "b", "x"]);

      await redis.rpush(key("l"), "p", "q", "r");
      expect(await redis.lrange(key("l"), 0, -1)).toEqual(["p", "q", "r"]);
    });

    it("returns HGETALL as the client's object, alone, in a pipeline and in a transaction", async () => {
      const key = keyspace();
      const redis = client();
      await redis.hset(key("h"), { name: "ada", visits: 3, "": "empty field" });
      const expected = { name: "ada", visits: 3, "": "empty field" };
      // The client sends the name in lower case; the server must pass Redis's flat array through as it is.
      expect(await redis.hgetall(key("h"))).toEqual(expected);
      expect(await client({ enableAutoPipelining: false }).hgetall(key("h"))).toEqual(expected);
      expect(await redis.pipeline().hgetall(key("h")).hlen(key("h")).exec()).toEqual([expected, 3]);
      expect(await redis.multi().hgetall(key("h")).hgetall(key("absent")).exec()).toEqual([expected, null]);
      expect(await redis.hgetall(key("absent"))).toBeNull();
    });

    it("keeps unicode and binary-ish values byte-exact", async () => {
      const key = keyspace();
      const raw = client({ automaticDeserialization: false });
      const values = [
        "héllo wörld",
        "你好，世界",
        "emoji 🚀👩‍💻",
        "control \u0000\u0001\u001f\t\r\n end",
        'quote " backslash \\ slash /',
        '{"looks":"like json"}',
        "T0s=",
        "PONG",
        "",
      ];
      for (const [i, value] of values.entries()) {
        expect(await raw.set(key(`u${i}`), value)).toBe("OK");
        expect(await raw.get(key(`u${i}`))).toBe(value);
        // Redis holds the UTF-8 bytes of the JSON string, nothing re-encoded on the way.
        expect(await raw.strlen(key(`u${i}`))).toBe(Buffer.byteLength(value, "utf8"));
      }
      // Bytes that are not UTF-8 come back replaced by U+FFFD (the client decodes UTF-8 either way).
      await direct.set(key("bin"), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
      expect(await raw.get(key("bin"))).toBe("\uFFFD\uFFFD\u0000A");
    });

    it("stores and reads a 1 MB value", async () => {
      const key = keyspace();
      const redis = client({ automaticDeserialization: false });
      const value = `${"0123456789abcdef".repeat(65_536)}✓`;
      expect(await redis.set(key("big"), value)).toBe("OK");
      expect(await redis.strlen(key("big"))).toBe(1024 * 1024 + 3);
      expect(await redis.get(key("big"))).toBe(value);
    });

    it("runs a pipeline past a failing command and reports the failure in place", async () => {
      const key = keyspace();
      const redis = client();
      const failing = redis
        .pipeline()
        .set(key("k"), "v")
        .incr(key("k"))
        .set(key("after"), "ran")
        .get(key("k"));
      await expect(failing.exec()).rejects.toThrow(
        "Command 2 [ incr ] failed: ERR value is not an integer or out of range",
      );
      // The server ran the commands after the failure anyway.
      expect(await redis.get(key("after"))).toBe("ran");

      const kept = await redis
        .pipeline()
        .set(key("k2"), "v")
        .incr(key("k2"))
        .get(key("k2"))
        .exec({ keepErrors: true });
      expect(kept).toEqual([
        { error: undefined, result: "OK" },
        { error: "ERR value is not an integer or out of range", result: undefined },
        { error: undefined, result: "v" },
      ]);
    });

    it("runs multi-exec atomically, with runtime errors per entry and discarded transactions rejected", async () => {
      const key = keyspace();
      const redis = client();
      expect(await redis.multi().set(key("n"), 1).incr(key("n")).get(key("n")).exec()).toEqual(["OK", 2, 2]);

      const runtime = await redis
        .multi()
        .set(key("s"), "text")
        .incr(key("s"))
        .set(key("later"), "ran")
        .exec({ keepErrors: true });
      expect(runtime.map((entry) => entry.error)).toEqual([
        undefined,
        "ERR value is not an integer or out of range",
        undefined,
      ]);
      expect(await redis.get(key("later"))).toBe("ran");

      // HSET with no field/value pairs fails at queue time, so Redis discards the whole transaction.
      const discarded = redis.multi().set(key("never"), "x").hset(key("h"), {});
      await expect(discarded.exec()).rejects.toThrow(/EXECABORT Transaction discarded/);
      expect(await redis.get(key("never"))).toBeNull();
    });

    it("never interleaves concurrent transactions with each other or with plain commands", async () => {
      const key = keyspace();
      const redis = client();
      const transactions = Array.from({ length: 50 }, () =>
        redis.multi().incr(key("n")).incr(key("n")).exec<[number, number]>(),
      );
      const singles = Array.from({ length: 50 }, () => redis.incrby(key("other"), 1));
      const results = await Promise.all(transactions);
      await Promise.all(singles);
      for (const [first, second] of results) expect(second).toBe(first + 1);
      expect(new Set(results.map(([first]) => first)).size).toBe(50);
      expect(await redis.get(key("n"))).toBe(100);
      expect(await redis.get(key("other"))).toBe(50);
    });

    it("falls back from EVALSHA to EVAL on NOSCRIPT for createScript", async () => {
      const key = keyspace();
      const redis = client();
      await redis.scriptFlush();
      const source = `return ARGV[1] .. ":" .. redis.call("incr", KEYS[1])`;
      const script = redis.createScript<string>(source);
      // The NOSCRIPT text must arrive verbatim: the client's fallback looks for "noscript" in it.
      await expect(redis.evalsha(sha1(source), [key("n")], ["x"])).rejects.toThrow(
        "NOSCRIPT No matching script. Please use EVAL.",
      );
      expect(await redis.scriptExists(sha1(source))).toEqual([0]);
      expect(await script.exec([key("n")], ["a"])).toBe("a:1");
      expect(await redis.scriptExists(sha1(source))).toEqual([1]);
      expect(await script.exec([key("n")], ["b"])).toBe("b:2");
    });

    it("runs scripts with the Upstash-only allow-key-locking shebang flag", async () => {
      const key = keyspace();
      const redis = client();
      const source = `#!lua flags=allow-key-locking\nreturn redis.call("incr", KEYS[1])`;
      // Stock Redis rejects the flag; this is what the server works around.
      await expect(direct.eval(source, 0)).rejects.toThrow(
        /Unexpected flag in script shebang: allow-key-locking/,
      );

      await redis.scriptFlush();
      const script = redis.createScript<number>(source);
      expect(await script.exec([key("n")], [])).toBe(1);
      expect(await script.exec([key("n")], [])).toBe(2);
      // SCRIPT LOAD answers the SHA-1 of the text the client sent, and EVALSHA accepts it.
      expect(await redis.scriptLoad(source)).toBe(sha1(source));
      expect(await redis.evalsha(sha1(source), [key("n")], [])).toBe(3);
      expect(await redis.scriptExists(sha1(source), sha1("return 'never loaded'"))).toEqual([1, 0]);

      // The other flags survive: no-writes still makes Redis refuse a write.
      const readOnly = `#!lua flags=allow-key-locking,no-writes\nreturn redis.call("get", KEYS[1])`;
      const reader = redis.createScript<number, true>(readOnly, { readonly: true });
      expect(await reader.exec([key("n")], [])).toBe(3);
      const writer = `#!lua flags=no-writes,allow-key-locking\nreturn redis.call("set", KEYS[1], "x")`;
      await expect(redis.eval(writer, [key("w")], [])).rejects.toThrow(/not allowed from read-only scripts/i);
    });

    it("rejects a wrong token with Unauthorized", async () => {
      const key = keyspace();
      await expect(client({ token: "wrong-token" }).get(key("k"))).rejects.toThrow(/Unauthorized/);
      await expect(
        client({ token: "wrong-token", enableAutoPipelining: false }).get(key("k")),
      ).rejects.toThrow(/Unauthorized/);
    });

    it("serves 200 concurrent requests", async () => {
      const key = keyspace();
      // Without auto-pipelining every call is its own HTTP request.
      const redis = client({ enableAutoPipelining: false });
      const counts = await Promise.all(Array.from({ length: 200 }, () => redis.incr(key("n"))));
      expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
      const values = await Promise.all(
        Array.from({ length: 200 }, async (_, i) => {
          await redis.set(key(`v${i}`), `value-${i}`);
          return await redis.get(key(`v${i}`));
        }),
      );
      expect(values).toEqual(Array.from({ length: 200 }, (_, i) => `value-${i}`));
    });
  });
});

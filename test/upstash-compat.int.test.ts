// Client compatibility suite: the unmodified @upstash/redis 1.39 client, and raw HTTP, against tools/upstash-local on a real redis-server.

import { createHash, randomUUID } from "node:crypto";
import { Redis, type RedisConfigNodejs } from "@upstash/redis";
import { Redis as IORedis } from "ioredis";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startUpstashLocal, type UpstashLocal } from "../tools/upstash-local/server.ts";
import { type RedisServer, startRedisServer } from "./support/redis-server.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

const sha1 = (text: string): string => createHash("sha1").update(text, "utf8").digest("hex");
/** Every test works under its own prefix, so suites sharing the redis-server never see each other's keys. */
const keyspace = (): ((name: string) => string) => {
  const prefix = `compat:${randomUUID()}:`;
  return (name) => prefix + name;
};

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

/** Raw HTTP against the server; every answer must be JSON, whatever the status. */
async function call(
  baseUrl: string,
  path: string,
  init: { token?: string | undefined; body?: string; method?: string; headers?: Record<string, string> } = {},
): Promise<{ status: number; body: unknown; headers: Headers }> {
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

describeWithRedis("upstash-local server edges (raw HTTP)", () => {
  // A private redis-server and server, so the stats below count only this suite's traffic.
  let redisServer: RedisServer;
  let server: UpstashLocal;
  let direct: IORedis;
  const token = "edge-token";
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    call(server.url, path, { token, body: JSON.stringify(body), headers });

  beforeAll(async () => {
    redisServer = await startRedisServer();
    server = await startUpstashLocal({ redisUrl: redisServer.url, token });
    direct = new IORedis(redisServer.url, { lazyConnect: true });
    await direct.connect();
  });
  afterAll(async () => {
    await direct?.quit();
    await server?.close();
    await redisServer?.stop();
  });

  it("answers 401 JSON without a valid token and accepts ?_token=", async () => {
    const body = JSON.stringify(["ping"]);
    expect(await call(server.url, "/", { body })).toMatchObject({
      status: 401,
      body: { error: "Unauthorized" },
    });
    expect(await call(server.url, "/", { body, token: "nope" })).toMatchObject({
      status: 401,
      body: { error: "Unauthorized" },
    });
    expect(await call(server.url, "/pipeline", { body: "[]", token: "" })).toMatchObject({ status: 401 });
    expect(await call(server.url, `/?_token=${token}`, { body })).toMatchObject({
      status: 200,
      body: { result: "PONG" },
    });
  });

  it("answers 404 and 405 as JSON", async () => {
    const missing = await call(server.url, "/set/foo/bar", { token, body: "[]" });
    expect(missing.status).toBe(404);
    expect(missing.body).toEqual({ error: expect.stringContaining("no endpoint /set/foo/bar") });
    const wrongMethod = await call(server.url, "/", { token, method: "GET" });
    expect(wrongMethod.status).toBe(405);
    expect(wrongMethod.headers.get("allow")).toBe("POST");
    expect(wrongMethod.body).toEqual({ error: expect.stringContaining("method GET not allowed") });
    expect((await call(server.url, "/pipeline", { token, method: "PUT", body: "[]" })).status).toBe(405);
  });

  it("answers 400 JSON for malformed bodies", async () => {
    const bad = async (path: string, body: string): Promise<string> => {
      const response = await call(server.url, path, { token, body });
      expect(response.status).toBe(400);
      const { error } = response.body as { error: string };
      return error;
    };
    expect(await bad("/", "not json")).toMatch(/^ERR invalid JSON request body/);
    expect(await bad("/", '{"command":"get"}')).toMatch(/must be a JSON array/);
    expect(await bad("/", "[]")).toMatch(/empty command/);
    expect(await bad("/", '["set","k",{"x":1}]')).toMatch(/argument 2 is not a string/);
    expect(await bad("/pipeline", '["get","k"]')).toMatch(/command 0 must be a JSON array/);
    expect(await bad("/pipeline", "[]")).toBe("ERR empty pipeline request");
    expect(await bad("/multi-exec", "{}")).toMatch(/must be a JSON array of commands/);
  });

  it("accepts bodies up to 10 MB and answers 413 JSON beyond", async () => {
    const key = keyspace();
    const nearLimit = "x".repeat(10 * 1024 * 1024 - 100);
    expect(await post("/", ["set", key("big"), nearLimit])).toEqual({
      status: 200,
      body: { result: "OK" },
      headers: expect.anything(),
    });
    expect(await direct.strlen(key("big"))).toBe(nearLimit.length);
    const tooBig = await post("/", ["set", key("too-big"), "x".repeat(10 * 1024 * 1024)]);
    expect(tooBig.status).toBe(413);
    expect(tooBig.body).toEqual({ error: expect.stringMatching(/^ERR max request size exceeded/) });
    expect(await direct.exists(key("too-big"))).toBe(0);
  });

  it("passes number literals through and maps booleans and null", async () => {
    const key = keyspace();
    const raw = (text: string) => call(server.url, "/", { token, body: text });
    await raw(`["set","${key("a")}",1e+21]`);
    await raw(`["set","${key("b")}",1.50]`);
    await raw(`["mset","${key("c")}",true,"${key("d")}",false,"${key("e")}",null]`);
    expect(await direct.mget(key("a"), key("b"), key("c"), key("d"), key("e"))).toEqual([
      "1e+21",
      "1.50",
      "true",
      "false",
      "",
    ]);
  });

  it("writes integers with all their digits", async () => {
    const key = keyspace();
    await post("/", ["set", key("n"), "9223372036854775806"]);
    const response = await fetch(`${server.url}/`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}` },
      body: JSON.stringify(["incr", key("n")]),
    });
    expect(await response.text()).toBe('{"result":9223372036854775807}');
  });

  it("base64-encodes every string at every depth only when asked, and never errors", async () => {
    const key = keyspace();
    await direct.set(key("bin"), Buffer.from([0xff, 0xfe, 0x00, 0x41]));
    const base64 = { "upstash-encoding": "base64" };
    expect((await post("/", ["get", key("bin")], base64)).body).toEqual({ result: "//4AQQ==" });
    expect((await post("/", ["get", key("bin")])).body).toEqual({ result: "\uFFFD\uFFFD\u0000A" });
    const script = `return {1, "OK", {redis.status_reply("OK"), false, "é"}, redis.error_reply("boom")}`;
    expect((await post("/", ["eval", script, 0], base64)).body).toEqual({
      result: [1, "T0s=", ["T0s=", null, "w6k="], "RVJSIGJvb20="],
    });
    expect((await post("/", ["eval", script, 0])).body).toEqual({
      result: [1, "OK", ["OK", null, "é"], "ERR boom"],
    });
    expect(
      (
        await post(
          "/pipeline",
          [
            ["set", key("s"), "v"],
            ["incr", key("s")],
          ],
          base64,
        )
      ).body,
    ).toEqual([{ result: "T0s=" }, { error: "ERR value is not an integer or out of range" }]);
    expect((await post("/", ["get", key("absent")], base64)).body).toEqual({ result: null });
  });

  it("passes Redis errors through verbatim as 400", async () => {
    const response = await post("/", ["nosuchcommand", "x"]);
    expect(response.status).toBe(400);
    expect(response.body).toEqual({ error: expect.stringMatching(/^ERR unknown command 'nosuchcommand'/) });
    expect(await post("/", ["evalsha", "0".repeat(40), 0])).toMatchObject({
      status: 400,
      body: { error: "NOSCRIPT No matching script. Please use EVAL." },
    });
  });

  it("refuses connection-state and blocking commands without touching the connection", async () => {
    const key = keyspace();
    const refused: Array<[unknown[], string]> = [
      [["multi"], "MULTI"],
      [["EXEC"], "EXEC"],
      [["watch", key("k")], "WATCH"],
      [["select", 1], "SELECT"],
      [["subscribe", "ch"], "SUBSCRIBE"],
      [["monitor"], "MONITOR"],
      [["blpop", key("l"), 0], "BLPOP"],
      [["bzpopmin", key("z"), 0], "BZPOPMIN"],
      [["xread", "BLOCK", 0, "STREAMS", key("x"), "$"], "XREAD BLOCK"],
      [["auth", "pw"], "AUTH"],
      [["hello", 3], "HELLO"],
      [["reset"], "RESET"],
      [["client", "reply", "off"], "CLIENT REPLY"],
    ];
    for (const [command, name] of refused) {
      expect(await post("/", command)).toMatchObject({
        status: 400,
        body: { error: `ERR Command is not available: ${name}` },
      });
    }
    // Non-blocking XREAD is an ordinary command.
    expect(await post("/", ["xread", "STREAMS", key("x"), "0"])).toMatchObject({
      status: 200,
      body: { result: null },
    });
    // In a pipeline the refusal is that entry's error; in a transaction it discards everything.
    expect(
      (
        await post("/pipeline", [
          ["set", key("p"), "1"],
          ["blpop", key("l"), 0],
          ["get", key("p")],
        ])
      ).body,
    ).toEqual([{ result: "OK" }, { error: "ERR Command is not available: BLPOP" }, { result: "1" }]);
    expect(
      await post("/multi-exec", [
        ["set", key("t"), "1"],
        ["select", 2],
      ]),
    ).toMatchObject({
      status: 400,
      body: { error: "ERR Command is not available: SELECT" },
    });
    expect(await direct.exists(key("t"))).toBe(0);
    // The shared connection is still in its normal state.
    expect((await post("/", ["set", key("after"), "ok"])).body).toEqual({ result: "OK" });
    expect(await direct.get(key("after"))).toBe("ok");
  });

  it("answers pipelines and transactions with exactly one of result or error per entry", async () => {
    const key = keyspace();
    const pipeline = await post("/pipeline", [
      ["set", key("a"), "1"],
      ["incr", key("a")],
      ["lpush", key("a"), "x"],
      ["get", key("missing")],
    ]);
    expect(pipeline.status).toBe(200);
    expect((pipeline.body as object[]).map((entry) => Object.keys(entry))).toEqual([
      ["result"],
      ["result"],
      ["error"],
      ["result"],
    ]);
    const transaction = await post("/multi-exec", [
      ["set", key("b"), "x"],
      ["incr", key("b")],
      ["get", key("b")],
    ]);
    expect(transaction).toMatchObject({
      status: 200,
      body: [{ result: "OK" }, { error: "ERR value is not an integer or out of range" }, { result: "x" }],
    });
    expect((transaction.body as object[]).map((entry) => Object.keys(entry))).toEqual([
      ["result"],
      ["error"],
      ["result"],
    ]);
    expect(await post("/multi-exec", [["set", key("c"), "x"], ["nosuchcommand"]])).toMatchObject({
      status: 400,
      body: { error: "EXECABORT Transaction discarded because of previous errors." },
    });
  });

  it("returns a changing upstash-sync-token", async () => {
    const first = await post("/", ["ping"]);
    const second = await post("/", ["ping"]);
    const a = first.headers.get("upstash-sync-token");
    const b = second.headers.get("upstash-sync-token");
    expect(a).toBeTruthy();
    expect(b).toBeTruthy();
    expect(a).not.toBe(b);
  });

  it("counts requests, commands, pipelines, transactions, errors and Redis-side commands", async () => {
    const key = keyspace();
    expect((await call(server.url, "/__stats", { method: "GET" })).status).toBe(401);
    expect(await post("/__stats/reset", [])).toMatchObject({ status: 200, body: { result: "OK" } });
    // Reading the stats does not count the server's own INFO calls.
    const idle = await call(server.url, "/__stats", { token, method: "GET" });
    expect(idle.body).toEqual({
      http_requests: 0,
      commands: 0,
      pipelines: 0,
      transactions: 0,
      errors: 0,
      redis_commands: 0,
      redis_commandstats: {},
    });

    await post("/", ["set", key("a"), "1"]);
    await post("/pipeline", [
      ["set", key("b"), "x"],
      ["get", key("b")],
      ["incr", key("b")],
    ]);
    await post("/multi-exec", [
      ["incr", key("c")],
      ["incr", key("c")],
    ]);
    await call(server.url, "/", { token, body: "{not json" });
    await post("/", ["eval", `redis.call("incr", KEYS[1]); return redis.call("get", KEYS[1])`, 1, key("d")]);

    const expected = {
      http_requests: 5,
      commands: 7,
      pipelines: 1,
      transactions: 1,
      errors: 2,
      // set 1 + pipeline 3 + MULTI, 2 x INCR, EXEC + EVAL and the 2 commands it ran.
      redis_commands: 11,
      redis_commandstats: { set: 2, get: 2, incr: 4, multi: 1, exec: 1, eval: 1 },
    };
    expect((await call(server.url, "/__stats", { token, method: "GET" })).body).toEqual(expected);
    expect(await server.snapshot()).toEqual(expected);
    expect(server.stats()).toEqual({
      http_requests: 5,
      commands: 7,
      pipelines: 1,
      transactions: 1,
      errors: 2,
    });
  });

  it("handles 200 concurrent keep-alive requests, each counted", async () => {
    const key = keyspace();
    server.resetStats();
    const counts = await Promise.all(
      Array.from({ length: 200 }, async () => {
        const response = await post("/", ["incr", key("n")]);
        return (response.body as { result: number }).result;
      }),
    );
    expect([...counts].sort((a, b) => a - b)).toEqual(Array.from({ length: 200 }, (_, i) => i + 1));
    expect(await server.snapshot()).toMatchObject({ http_requests: 200, commands: 200, redis_commands: 200 });
  });
});

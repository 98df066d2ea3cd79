// upstash-local over raw HTTP on a private redis-server: auth, status codes, bodies, encoding, refused commands, limits, stats.

import { type Redis as IORedis, Redis as IORedisClient } from "ioredis";
import { beforeAll, expect, it } from "vitest";
import { unavailableReason } from "../tools/upstash-local/command-policy.ts";
import { MAX_COMMANDS_PER_REQUEST } from "../tools/upstash-local/request-body.ts";
import type { UpstashLocal } from "../tools/upstash-local/server.ts";
import { call, keyspace, usePrivateUpstash } from "./support/private-upstash.ts";
import { describeWithRedis } from "./support/redis-suite.ts";

describeWithRedis("upstash-local server edges (raw HTTP)", () => {
  // A private redis-server and server, so the stats below count only this suite's traffic.
  const token = "edge-token";
  const privateUpstash = usePrivateUpstash(token);
  let server: UpstashLocal;
  let direct: IORedis;
  beforeAll(() => {
    ({ server, direct } = privateUpstash());
  });
  const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
    privateUpstash().post(path, body, headers);

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

  it("refuses server administration in single commands, pipelines and transactions, leaving the server as it was", async () => {
    const key = keyspace();
    await direct.set(key("db0"), "stays");
    const refused: Array<[unknown[], string]> = [
      [["config", "set", "maxmemory", "1mb"], "CONFIG"],
      [["CONFIG", "GET", "maxmemory"], "CONFIG"],
      [["shutdown", "nosave"], "SHUTDOWN"],
      [["swapdb", 0, 1], "SWAPDB"],
      [["replicaof", "127.0.0.1", 1], "REPLICAOF"],
      [["slaveof", "no", "one"], "SLAVEOF"],
      [["acl", "setuser", "default", "off"], "ACL"],
      [["module", "list"], "MODULE"],
      [["debug", "sleep", 5], "DEBUG"],
      [["save"], "SAVE"],
      [["bgsave"], "BGSAVE"],
      [["bgrewriteaof"], "BGREWRITEAOF"],
      [["failover", "abort"], "FAILOVER"],
      [["cluster", "info"], "CLUSTER"],
      [["sync"], "SYNC"],
      [["psync", "?", -1], "PSYNC"],
      [["migrate", "127.0.0.1", 1, key("db0"), 0, 10], "MIGRATE"],
      [["slowlog", "reset"], "SLOWLOG"],
      [["client", "kill", "skipme", "no"], "CLIENT KILL"],
    ];
    for (const [command, name] of refused) {
      expect(await post("/", command), String(command[0])).toEqual({
        status: 400,
        body: { error: `ERR Command is not available: ${name}` },
        headers: expect.anything(),
      });
    }
    expect(
      (
        await post("/pipeline", [
          ["set", key("p"), "1"],
          ["config", "set", "maxmemory", "1mb"],
          ["get", key("p")],
        ])
      ).body,
    ).toEqual([{ result: "OK" }, { error: "ERR Command is not available: CONFIG" }, { result: "1" }]);
    expect(
      await post("/multi-exec", [
        ["set", key("t"), "1"],
        ["swapdb", 0, 1],
      ]),
    ).toMatchObject({
      status: 400,
      body: { error: "ERR Command is not available: SWAPDB" },
    });
    expect(await direct.exists(key("t"))).toBe(0);
    // Nothing reached Redis: its configuration, databases and users are untouched.
    expect(await direct.config("GET", "maxmemory")).toEqual(["maxmemory", "0"]);
    expect(await direct.get(key("db0"))).toBe("stays");
    const fresh = new IORedisClient(privateUpstash().redisUrl);
    expect(await fresh.ping()).toBe("PONG");
    fresh.disconnect();
    // What Upstash does offer in its server group still runs.
    expect((await post("/", ["dbsize"])).status).toBe(200);
    expect((await post("/", ["time"])).body).toEqual({ result: [expect.any(String), expect.any(String)] });
  });

  it("refuses every command and subcommand that redis-server's own command table flags admin", async () => {
    type Entry = [name: string, arity: number, flags: string[], ...rest: unknown[]];
    const table = (await direct.call("COMMAND")) as Entry[];
    const admin: string[] = [];
    for (const [name, , flags, ...rest] of table) {
      if (flags.includes("admin")) admin.push(name);
      const subcommands = (rest[6] ?? []) as Entry[];
      for (const [sub, , subFlags] of subcommands) if (subFlags.includes("admin")) admin.push(sub);
    }
    // A newer redis-server that adds an admin command fails here until command-policy.ts refuses it.
    expect(admin.length).toBeGreaterThan(20);
    const allowed = admin.filter(
      (name) => unavailableReason(name.split("|") as [string, ...string[]]) === undefined,
    );
    expect(allowed).toEqual([]);
  });

  it(`refuses a pipeline or transaction of more than ${MAX_COMMANDS_PER_REQUEST} commands before running any`, async () => {
    const key = keyspace();
    const pings = (n: number) => Array.from({ length: n }, () => ["ping"]);
    const tooMany = [["set", key("first"), "1"], ...pings(MAX_COMMANDS_PER_REQUEST)];
    const refusal = {
      status: 413,
      body: {
        error: `ERR too many commands in one request: ${MAX_COMMANDS_PER_REQUEST + 1}, the limit is ${MAX_COMMANDS_PER_REQUEST} (split the pipeline)`,
      },
    };
    expect(await post("/pipeline", tooMany)).toMatchObject(refusal);
    expect(await post("/multi-exec", tooMany)).toMatchObject(refusal);
    expect(await direct.exists(key("first"))).toBe(0);
    const atLimit = await post("/pipeline", [
      ["set", key("first"), "1"],
      ...pings(MAX_COMMANDS_PER_REQUEST - 1),
    ]);
    expect(atLimit.status).toBe(200);
    expect(atLimit.body).toHaveLength(MAX_COMMANDS_PER_REQUEST);
    expect(await direct.get(key("first"))).toBe("1");
  });

  it("streams subscriptions as server-sent events and drops their Redis connection when the client leaves", async () => {
    const key = keyspace();
    const channel = `${key("news")}/with:slash`;
    expect(await call(server.url, `/subscribe/${channel}`, { body: "[]" })).toMatchObject({ status: 401 });
    const aborter = new AbortController();
    const response = await fetch(`${server.url}/subscribe/${channel}`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      body: "[]",
      signal: aborter.signal,
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toBe("text/event-stream");
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const next = async (): Promise<string> => decoder.decode((await reader.read()).value);
    expect(await next()).toBe(`data: subscribe,${channel},1\n\n`);
    expect(await direct.publish(channel, "héllo, world")).toBe(1);
    expect(await next()).toBe(`data: message,${channel},héllo, world\n\n`);
    aborter.abort();
    await reader.cancel().catch(() => {});
    await expect.poll(() => direct.pubsub("NUMSUB", channel)).toEqual([channel, 0]);
  });

  it("passes replies through as Redis sends them: HGETALL stays a flat array in every case and path", async () => {
    const key = keyspace();
    await direct.hset(key("h"), "f", "v", "g", "1");
    const flat = ["f", "v", "g", "1"];
    for (const name of ["hgetall", "HGETALL", "hGetAll"]) {
      expect((await post("/", [name, key("h")])).body, name).toEqual({ result: flat });
    }
    expect((await post("/pipeline", [["hgetall", key("h")]])).body).toEqual([{ result: flat }]);
    expect((await post("/multi-exec", [["hgetall", key("h")]])).body).toEqual([{ result: flat }]);
    const base64 = await post("/", ["hgetall", key("h")], { "upstash-encoding": "base64" });
    expect(base64.body).toEqual({ result: flat.map((s) => Buffer.from(s).toString("base64")) });
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

// Unit tests for the commands the REST bridge refuses (connection state, blocking, server administration).

import { describe, expect, it } from "vitest";
import { unavailableReason } from "./command-policy.ts";

describe("unavailableReason", () => {
  it("refuses connection-state and blocking commands in any case", () => {
    expect(unavailableReason(["MULTI"])).toBe("ERR Command is not available: MULTI");
    expect(unavailableReason(["bLpOp", "l", "0"])).toBe("ERR Command is not available: BLPOP");
    expect(unavailableReason(["client", "reply", "off"])).toBe("ERR Command is not available: CLIENT REPLY");
    expect(unavailableReason(["xreadgroup", "GROUP", "g", "c", "BLOCK", "0", "STREAMS", "s", ">"])).toBe(
      "ERR Command is not available: XREADGROUP BLOCK",
    );
  });

  it("refuses server administration, whole commands and subcommands alike", () => {
    const refused: Array<[string[], string]> = [
      [["config", "set", "maxmemory", "1"], "CONFIG"],
      [["CONFIG", "GET", "*"], "CONFIG"],
      [["shutdown", "nosave"], "SHUTDOWN"],
      [["swapdb", "0", "1"], "SWAPDB"],
      [["replicaof", "127.0.0.1", "6379"], "REPLICAOF"],
      [["slaveof", "no", "one"], "SLAVEOF"],
      [["acl", "setuser", "default", "off"], "ACL"],
      [["module", "load", "/tmp/x.so"], "MODULE"],
      [["debug", "sleep", "10"], "DEBUG"],
      [["monitor"], "MONITOR"],
      [["save"], "SAVE"],
      [["bgsave"], "BGSAVE"],
      [["bgrewriteaof"], "BGREWRITEAOF"],
      [["failover"], "FAILOVER"],
      [["cluster", "reset"], "CLUSTER"],
      [["sync"], "SYNC"],
      [["psync", "?", "-1"], "PSYNC"],
      [["migrate", "h", "1", "k", "0", "10"], "MIGRATE"],
      [["slowlog", "reset"], "SLOWLOG"],
      [["latency", "reset"], "LATENCY"],
      [["client", "kill", "id", "1"], "CLIENT KILL"],
      [["client", "pause", "1000"], "CLIENT PAUSE"],
      [["client", "list"], "CLIENT LIST"],
    ];
    for (const [command, name] of refused) {
      expect(unavailableReason(command as [string, ...string[]]), command.join(" ")).toBe(
        `ERR Command is not available: ${name}`,
      );
    }
  });

  it("lets ordinary commands through", () => {
    expect(unavailableReason(["get", "k"])).toBeUndefined();
    expect(unavailableReason(["client", "setinfo", "lib-name", "x"])).toBeUndefined();
    // Upstash offers these server commands.
    for (const name of ["dbsize", "flushall", "flushdb", "time", "info", "FLUSHDB"]) {
      expect(unavailableReason([name]), name).toBeUndefined();
    }
    // After STREAMS every argument is a key or an id, even one spelled "block".
    expect(unavailableReason(["xread", "STREAMS", "block", "0"])).toBeUndefined();
  });
});

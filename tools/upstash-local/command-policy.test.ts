// Unit tests for the commands the REST bridge refuses.

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

  it("lets ordinary commands through", () => {
    expect(unavailableReason(["get", "k"])).toBeUndefined();
    expect(unavailableReason(["client", "setinfo", "lib-name", "x"])).toBeUndefined();
    // After STREAMS every argument is a key or an id, even one spelled "block".
    expect(unavailableReason(["xread", "STREAMS", "block", "0"])).toBeUndefined();
  });
});

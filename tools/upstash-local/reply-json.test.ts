// Unit tests for RESP reply -> Upstash JSON serialisation, with and without base64.

import { describe, expect, it } from "vitest";
import { errorJson, replyJson, resultJson } from "./reply-json.ts";

const b = (text: string): Buffer => Buffer.from(text, "utf8");

describe("replyJson", () => {
  it("base64-encodes every string at every depth, OK included, and nothing else", () => {
    const reply = [b("OK"), "42", null, [b("é"), [b("")]], new Error("ERR boom")];
    expect(JSON.parse(replyJson(reply, true))).toEqual(["T0s=", 42, null, ["w6k=", [""]], "RVJSIGJvb20="]);
  });

  it("writes raw UTF-8 without base64, replacing invalid bytes", () => {
    expect(JSON.parse(replyJson([b("OK"), Buffer.from([0xff, 0x41])], false))).toEqual(["OK", "\uFFFDA"]);
  });

  it("writes integers from their decimal text, so no digit is lost", () => {
    expect(replyJson("9223372036854775807", true)).toBe("9223372036854775807");
    expect(replyJson("-12", false)).toBe("-12");
  });

  it("wraps results and errors; errors are never encoded", () => {
    expect(resultJson(null, true)).toBe('{"result":null}');
    expect(errorJson('ERR "quoted"')).toBe('{"error":"ERR \\"quoted\\""}');
  });
});

// Unit tests for request body parsing: literal numbers, booleans, null, and the shapes refused with 400.

import { describe, expect, it } from "vitest";
import {
  BodyError,
  MAX_COMMANDS_PER_REQUEST,
  parseCommandBody,
  parseCommandListBody,
} from "./request-body.ts";

describe("parseCommandBody", () => {
  it("keeps the literal text of JSON numbers", () => {
    expect(parseCommandBody('["zadd","z",1e+21,"m",1.50,-0,9223372036854775807]')).toEqual([
      "zadd",
      "z",
      "1e+21",
      "m",
      "1.50",
      "-0",
      "9223372036854775807",
    ]);
  });

  it('maps booleans to "true"/"false" and null to ""', () => {
    expect(parseCommandBody('["mset","a",true,"b",false,"c",null]')).toEqual([
      "mset",
      "a",
      "true",
      "b",
      "false",
      "c",
      "",
    ]);
  });

  it("refuses bodies that are not one command", () => {
    for (const body of [
      "",
      "nope",
      "{}",
      '"get"',
      "[]",
      '[""]',
      '["set","k",{"a":1}]',
      '["set","k",["v"]]',
    ]) {
      expect(() => parseCommandBody(body), body).toThrow(BodyError);
    }
  });
});

describe("parseCommandListBody", () => {
  it("parses a list of commands", () => {
    expect(parseCommandListBody('[["set","k",1],["get","k"]]')).toEqual([
      ["set", "k", "1"],
      ["get", "k"],
    ]);
  });

  it("refuses empty lists and lists of non-commands", () => {
    expect(() => parseCommandListBody("[]")).toThrow("ERR empty pipeline request");
    expect(() => parseCommandListBody('["get","k"]')).toThrow(/command 0 must be a JSON array/);
    expect(() => parseCommandListBody('{"a":1}')).toThrow(/must be a JSON array of commands/);
  });

  it(`takes up to ${MAX_COMMANDS_PER_REQUEST} commands and refuses one more with 413`, () => {
    const body = (n: number) => JSON.stringify(Array.from({ length: n }, () => ["ping"]));
    expect(parseCommandListBody(body(MAX_COMMANDS_PER_REQUEST))).toHaveLength(MAX_COMMANDS_PER_REQUEST);
    let error: unknown;
    try {
      parseCommandListBody(body(MAX_COMMANDS_PER_REQUEST + 1));
    } catch (caught) {
      error = caught;
    }
    expect(error).toBeInstanceOf(BodyError);
    expect(error).toMatchObject({
      status: 413,
      message: `ERR too many commands in one request: ${MAX_COMMANDS_PER_REQUEST + 1}, the limit is ${MAX_COMMANDS_PER_REQUEST} (split the pipeline)`,
    });
  });
});

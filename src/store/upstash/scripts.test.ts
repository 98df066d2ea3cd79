// Each Lua script's SHA-1 constant is the SHA-1 of its source (EVALSHA would otherwise always miss).
import { createHash } from "node:crypto";
import { describe, expect, it } from "vitest";
import { SCRIPTS } from "./scripts.ts";

describe("Lua script constants", () => {
  for (const s of Object.values(SCRIPTS)) {
    it(`${s.name}: sha matches the source`, () => {
      expect(createHash("sha1").update(s.source).digest("hex")).toBe(s.sha);
    });
  }
});

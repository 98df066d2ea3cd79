// The streaming `usage` scanner agrees with JSON.parse on any JSON document split at any points, and holds no more
// than its bound: a usage value past it is reported unreadable, never partly.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { JsonUsageScanner } from "./json-usage-scanner.ts";

const encoder = new TextEncoder();

/** Splits `bytes` at the given cut points (sorted, deduplicated, within range). */
function split(bytes: Uint8Array, cuts: number[]): Uint8Array[] {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of [...at, bytes.length]) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  return out;
}

function scan(text: string, cuts: number[], max?: number): unknown {
  const s = new JsonUsageScanner(max);
  for (const part of split(encoder.encode(text), cuts)) s.push(part);
  return s.result();
}

const doc = fc.record(
  {
    before: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
    usage: fc.jsonValue({ maxDepth: 3 }),
    after: fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })),
  },
  { requiredKeys: ["before", "after"] },
);

describe("JsonUsageScanner", () => {
  it("finds what JSON.parse finds as the top-level usage, whatever the chunking and spacing", () => {
    fc.assert(
      fc.property(doc, fc.array(fc.nat()), fc.constantFrom(undefined, 2), (d, cuts, indent) => {
        const { usage: _u, ...before } = d.before;
        const { usage: _v, ...after } = d.after;
        const obj = "usage" in d ? { ...before, usage: d.usage, ...after } : { ...before, ...after };
        const text = JSON.stringify(obj, null, indent);
        expect(scan(text, cuts, 1 << 20)).toEqual(JSON.parse(text).usage);
      }),
    );
  });

  it("ignores a nested usage and usage inside strings", () => {
    expect(scan('{"a":{"usage":1},"b":"\\"usage\\":2","c":["usage",{"usage":3}]}', [5, 17])).toBeUndefined();
    expect(scan('[{"usage":1}]', [])).toBeUndefined();
    expect(scan('"usage"', [])).toBeUndefined();
  });

  it("reads an OpenAI completion whose text dwarfs the bound", () => {
    const text = JSON.stringify({
      choices: [{ message: { content: "x".repeat(100_000) } }],
      usage: { prompt_tokens: 3, completion_tokens: 4 },
    });
    expect(scan(text, [10, 50_000, 100_020], 64)).toEqual({ prompt_tokens: 3, completion_tokens: 4 });
  });

  it("reports a usage value past its bound as unreadable (null), and a cut-off document as none", () => {
    expect(scan(JSON.stringify({ usage: { pad: "y".repeat(100) } }), [], 32)).toBeNull();
    expect(scan('{"id":1,"usage":{"prompt_tokens":3', [])).toBeUndefined();
  });
});

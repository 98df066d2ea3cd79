// The SSE parser: events and their boundaries whatever the chunking and line endings, comments and unknown fields
// skipped, and bounded buffers: an overlong line or event is dropped, the events after it still parse.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type SseEvent, SseParser } from "./sse-parser.ts";

const encoder = new TextEncoder();

function parse(chunks: Array<string | Uint8Array>, maxLine?: number, maxEvent?: number) {
  const events: SseEvent[] = [];
  const boundaries: number[] = [];
  const p = new SseParser((e) => events.push(e), maxLine, maxEvent);
  for (const c of chunks) boundaries.push(p.push(typeof c === "string" ? encoder.encode(c) : c));
  p.end();
  return { events, boundaries };
}

describe("SseParser", () => {
  it("parses data, multi-line data and named events; skips comments, ids and retry", () => {
    const { events } = parse([
      ': keep-alive\n\ndata: one\n\nevent: message_start\ndata: {"a":1}\n\ndata: x\ndata:y\nid: 3\nretry: 10\n\n',
    ]);
    expect(events).toEqual([
      { event: "message", data: "one" },
      { event: "message_start", data: '{"a":1}' },
      { event: "message", data: "x\ny" },
    ]);
  });

  it("gives the same events for LF, CRLF and CR line endings split at any byte", () => {
    const lines = ["event: e", "data: héllo", "data: 2", "", "data: [DONE]", ""];
    fc.assert(
      fc.property(fc.constantFrom("\n", "\r\n", "\r"), fc.array(fc.nat()), (eol, cuts) => {
        const bytes = encoder.encode(lines.join(eol) + eol);
        const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
        const parts: Uint8Array[] = [];
        let prev = 0;
        for (const c of [...at, bytes.length]) {
          parts.push(bytes.subarray(prev, c));
          prev = c;
        }
        expect(parse(parts).events).toEqual([
          { event: "e", data: "héllo\n2" },
          { event: "message", data: "[DONE]" },
        ]);
      }),
    );
  });

  it("reports the offset just past the last event boundary of each chunk", () => {
    const { boundaries } = parse(["data: a\n\ndata: b", "\n", "\ndata: c\n\n", "data: d\n"]);
    expect(boundaries).toEqual([9, -1, 10, -1]);
  });

  it("drops a line past the bound without holding it, and the event it belonged to; later events parse", () => {
    const { events } = parse(["data: ", "z".repeat(100), "z".repeat(100), "\n\ndata: ok\n\n"], 64);
    expect(events).toEqual([{ event: "message", data: "ok" }]);
  });

  it("drops an event whose data passes the event bound", () => {
    const { events } = parse([`data: ${"a".repeat(40)}\ndata: ${"b".repeat(40)}\n\ndata: ok\n\n`], 64, 60);
    expect(events).toEqual([{ event: "message", data: "ok" }]);
  });

  it("dispatches a last event the origin did not end with a blank line", () => {
    expect(parse(["data: [DONE]"]).events).toEqual([{ event: "message", data: "[DONE]" }]);
  });
});

// An incremental text/event-stream parser (the WHATWG HTML event-stream rules) over bytes, with bounded buffers: a
// line longer than `maxLineBytes` and an event whose data passes `maxEventBytes` are dropped, never held. Written
// here rather than taken from eventsource-parser because that one keeps an unterminated line without limit, and an
// origin that never sends a newline must not grow the gateway's memory.

const LF = 0x0a;
const CR = 0x0d;

export interface SseEvent {
  /** The `event:` field, "message" when absent. */
  event: string;
  /** The `data:` lines joined by "\n". */
  data: string;
}

export class SseParser {
  private readonly onEvent: (e: SseEvent) => void;
  private readonly maxLineBytes: number;
  private readonly maxEventBytes: number;
  private readonly decoder = new TextDecoder();
  private line: Uint8Array;
  private lineLength = 0;
  private lineTooLong = false;
  /** The previous chunk ended in CR: an LF starting this one belongs to that line break. */
  private pendingCr = false;
  private data = "";
  private hasData = false;
  private dataTooLong = false;
  private eventName = "";

  constructor(onEvent: (e: SseEvent) => void, maxLineBytes = 64 * 1024, maxEventBytes = 256 * 1024) {
    this.onEvent = onEvent;
    this.maxLineBytes = maxLineBytes;
    this.maxEventBytes = maxEventBytes;
    this.line = new Uint8Array(Math.min(1024, maxLineBytes));
  }

  /** Feeds one chunk; returns the offset just past the last event boundary (blank line) in it, or -1. */
  push(chunk: Uint8Array): number {
    let start = 0;
    let boundary = -1;
    if (this.pendingCr && chunk[0] === LF) start = 1;
    this.pendingCr = false;
    for (let i = start; i < chunk.length; i++) {
      const b = chunk[i]!;
      if (b !== LF && b !== CR) continue;
      this.append(chunk, start, i);
      let end = i + 1;
      if (b === CR) {
        if (i + 1 < chunk.length) {
          if (chunk[i + 1] === LF) end = i + 2;
        } else this.pendingCr = true;
      }
      if (this.endLine()) boundary = end;
      i = end - 1;
      start = end;
    }
    this.append(chunk, start, chunk.length);
    return boundary;
  }

  /** The stream ended: a last event without its blank line is still dispatched (origins often omit it). */
  end(): void {
    if (this.lineLength > 0 || this.lineTooLong) this.endLine();
    this.dispatch();
  }

  private append(chunk: Uint8Array, from: number, to: number): void {
    const n = to - from;
    if (n <= 0 || this.lineTooLong) return;
    if (this.lineLength + n > this.maxLineBytes) {
      this.lineTooLong = true;
      this.lineLength = 0;
      return;
    }
    if (this.lineLength + n > this.line.length) {
      const grown = new Uint8Array(
        Math.min(this.maxLineBytes, Math.max(this.line.length * 2, this.lineLength + n)),
      );
      grown.set(this.line.subarray(0, this.lineLength));
      this.line = grown;
    }
    this.line.set(chunk.subarray(from, to), this.lineLength);
    this.lineLength += n;
  }

  /** Handles the line held; true when it was blank (an event boundary). */
  private endLine(): boolean {
    const tooLong = this.lineTooLong;
    const text = tooLong ? "" : this.decoder.decode(this.line.subarray(0, this.lineLength));
    this.lineLength = 0;
    this.lineTooLong = false;
    if (tooLong) {
      // A dropped line may have been data: the event it belonged to cannot be trusted.
      this.dataTooLong = true;
      return false;
    }
    if (text === "") {
      this.dispatch();
      return true;
    }
    if (text.startsWith(":")) return false;
    const colon = text.indexOf(":");
    const field = colon < 0 ? text : text.slice(0, colon);
    let value = colon < 0 ? "" : text.slice(colon + 1);
    if (value.startsWith(" ")) value = value.slice(1);
    if (field === "event") this.eventName = value;
    else if (field === "data") {
      if (this.data.length + value.length + 1 > this.maxEventBytes) this.dataTooLong = true;
      else this.data = this.hasData ? `${this.data}\n${value}` : value;
      this.hasData = true;
    }
    return false;
  }

  private dispatch(): void {
    if (this.hasData && !this.dataTooLong)
      this.onEvent({ event: this.eventName || "message", data: this.data });
    this.data = "";
    this.hasData = false;
    this.dataTooLong = false;
    this.eventName = "";
  }
}

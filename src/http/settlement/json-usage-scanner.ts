// Finds the top-level `usage` member of a JSON response as its bytes stream by, holding at most `maxBytes` of it and
// nothing else: structure is tracked byte by byte (JSON's structural characters are ASCII, so UTF-8 needs no
// decoding). Written here rather than taken from a streaming JSON library because those keep every string token
// whole until it ends, and a completion's text can be megabytes.

const QUOTE = 0x22;
const BACKSLASH = 0x5c;
const COLON = 0x3a;
const COMMA = 0x2c;
const LBRACE = 0x7b;
const RBRACE = 0x7d;
const LBRACKET = 0x5b;
const RBRACKET = 0x5d;
const isSpace = (b: number) => b === 0x20 || b === 0x09 || b === 0x0a || b === 0x0d;

const USAGE = [...new TextEncoder().encode("usage")];

type ValueState = "none" | "colon" | "value" | "inside";

export class JsonUsageScanner {
  private depth = 0;
  private topIsObject = false;
  private inString = false;
  private escaped = false;
  private expectKey = false;
  /** Bytes of the top-level key being read (null: not reading one); only its match with `usage` matters. */
  private key: number[] | null = null;
  private keyIsUsage = false;
  private state: ValueState = "none";
  private captured: Uint8Array;
  private length = 0;
  private overflow = false;
  /** The last complete `usage` value's JSON text (a later member of the same name wins, as in JSON.parse). */
  private found: string | undefined;
  private unreadable = false;

  constructor(maxBytes = 16 * 1024) {
    this.captured = new Uint8Array(maxBytes);
  }

  push(chunk: Uint8Array): void {
    let i = 0;
    while (i < chunk.length) {
      if (this.inString && !this.escaped && this.key === null && this.state !== "inside") {
        // Inside a string nothing is kept: jump to its next quote or backslash (native scans, linear overall).
        const quote = chunk.indexOf(QUOTE, i);
        const end = quote < 0 ? chunk.length : quote;
        const slash = chunk.subarray(i, end).indexOf(BACKSLASH);
        i = slash >= 0 ? i + slash : end;
        if (i >= chunk.length) return;
      }
      this.step(chunk[i]!);
      i++;
    }
  }

  /** The `usage` value, parsed; undefined when none was found; null when one was found but is too large or not JSON. */
  result(): unknown {
    if (this.unreadable) return null;
    if (this.found === undefined) return undefined;
    try {
      return JSON.parse(this.found);
    } catch {
      return null;
    }
  }

  private keep(b: number): void {
    if (this.length < this.captured.length) this.captured[this.length++] = b;
    else this.overflow = true;
  }

  private finishValue(): void {
    if (this.overflow) this.unreadable = true;
    else {
      this.found = new TextDecoder().decode(this.captured.subarray(0, this.length));
      this.unreadable = false;
    }
    this.state = "none";
    this.length = 0;
    this.overflow = false;
  }

  private step(b: number): void {
    if (this.state === "inside" && !this.inString && this.depth === 1 && (b === COMMA || b === RBRACE))
      this.finishValue();
    if (this.state === "value" && !isSpace(b)) this.state = "inside";
    if (this.state === "inside") this.keep(b);
    if (this.inString) {
      this.stepInString(b);
      return;
    }
    switch (b) {
      case QUOTE:
        this.inString = true;
        if (this.depth === 1 && this.topIsObject && this.expectKey) {
          this.key = [];
          this.expectKey = false;
        }
        return;
      case LBRACE:
      case LBRACKET:
        if (this.depth === 0) {
          this.topIsObject = b === LBRACE;
          this.expectKey = this.topIsObject;
        }
        this.depth++;
        return;
      case RBRACE:
      case RBRACKET:
        this.depth = Math.max(0, this.depth - 1);
        return;
      case COMMA:
        if (this.depth === 1 && this.topIsObject) this.expectKey = true;
        return;
      case COLON:
        if (this.depth === 1 && this.state === "colon") this.state = this.keyIsUsage ? "value" : "none";
        return;
    }
  }

  private stepInString(b: number): void {
    if (this.escaped) {
      this.escaped = false;
      this.key?.push(-1); // an escape never spells `usage` literally; any key with one is not it
      return;
    }
    if (b === BACKSLASH) {
      this.escaped = true;
      return;
    }
    if (b !== QUOTE) {
      if (this.key && this.key.length <= USAGE.length) this.key.push(b);
      return;
    }
    this.inString = false;
    if (this.key) {
      const k = this.key;
      this.keyIsUsage = k.length === USAGE.length && k.every((x, j) => x === USAGE[j]);
      this.key = null;
      this.state = "colon";
    }
  }
}

// The origin's response on a metered route, passed on chunk by chunk while its usage is read on the way (cost header,
// JSON `usage`, SSE usage events); when it ends (or is cancelled) the request's charge is settled exactly once.
import {
  type CompiledTokenRules,
  chargedUnits,
  priceUsage,
  type SettleOutcome,
} from "../../policy/token-rules.ts";
import { JsonUsageScanner } from "./json-usage-scanner.ts";
import type { RequestEstimate } from "./request-estimate.ts";
import { SseParser } from "./sse-parser.ts";
import { streamedText } from "./streamed-text.ts";
import { headerUnits, StreamUsage, usageOf } from "./usage-fields.ts";

export interface MeterContext {
  rules: CompiledTokenRules;
  estimate: RequestEstimate;
  /** Units of the dimension the tenant had left after the reservation (its tightest enforced limit); undefined when
   * no enforced limit counts the dimension. Only the cut-off uses it. */
  remaining: number | undefined;
  /** Books the charge; called exactly once. */
  settle(charged: number, outcome: SettleOutcome): void;
}

export const QUOTA_COST = "X-Quota-Cost";

const isSse = (type: string | null) => type !== null && /^text\/event-stream\s*(;|$)/i.test(type.trim());
const isJson = (type: string | null) =>
  type !== null && /^application\/([\w.+-]*\+)?json\s*(;|$)/i.test(type.trim());

/** Structured-field dictionary key of a dimension (lower case, as RFC 8941 keys must be). */
const costKey = (dimension: string) => dimension.toLowerCase().replace(/^[^a-z*]/, "*$&");

function once(m: MeterContext) {
  let done = false;
  return (outcome: SettleOutcome): number => {
    const charged = chargedUnits(m.rules, m.estimate.units, outcome);
    if (!done) {
      done = true;
      m.settle(charged, outcome);
    }
    return charged;
  };
}

/** Wraps `res`: settles at once when its headers already decide the charge, else as its body ends. */
export function meterResponse(res: Response, m: MeterContext): Response {
  const key = costKey(m.rules.dimension);
  const finish = once(m);
  const now = (outcome: SettleOutcome) => {
    res.headers.set(QUOTA_COST, `${key}=${finish(outcome)}`);
    return res;
  };
  const header = m.rules.usageHeader ? headerUnits(res.headers.get(m.rules.usageHeader)) : null;
  if (header !== null) return now({ kind: "usage", units: header });
  if (res.status >= 400) return now({ kind: "error" });
  const type = res.headers.get("content-type");
  if (!res.body || (!isSse(type) && !isJson(type))) return now({ kind: "missing" });
  const price = (u: Parameters<typeof priceUsage>[2] | null): SettleOutcome => {
    const units = u ? priceUsage(m.rules, m.estimate.modelWeight, u) : null;
    return units === null ? { kind: "missing" } : { kind: "usage", units };
  };
  const meter = isSse(type) ? sseMeter(m, price, finish) : jsonMeter(price, finish);
  // A stream the cut-off may end early is not of the length the origin declared.
  if (isSse(type) && m.rules.cutOff) res.headers.delete("content-length");
  res.headers.set(QUOTA_COST, `${key}=${m.estimate.units};reserved`);
  return new Response(res.body.pipeThrough(meter), {
    status: res.status,
    statusText: res.statusText,
    headers: res.headers,
  });
}

type Price = (u: Parameters<typeof priceUsage>[2] | null) => SettleOutcome;
type Finish = (o: SettleOutcome) => number;

function jsonMeter(price: Price, finish: Finish): TransformStream<Uint8Array, Uint8Array> {
  const scanner = new JsonUsageScanner();
  const outcome = (ended: boolean): SettleOutcome => {
    const raw = scanner.result();
    if (raw !== undefined && raw !== null) {
      const settled = price(usageOf(raw));
      if (settled.kind === "usage" || ended) return settled;
    }
    return ended ? { kind: "missing" } : { kind: "abort" };
  };
  return new TransformStream({
    transform(chunk, c) {
      c.enqueue(chunk);
      scanner.push(chunk);
    },
    flush() {
      finish(outcome(true));
    },
    cancel() {
      finish(outcome(false));
    },
  });
}

const encoder = new TextEncoder();

/** The event that ends a stream cut at the tenant's budget: an SSE `error` event, as LLM APIs send one. */
function cutEvent(): Uint8Array {
  const error = {
    type: "quota_exceeded",
    code: "quota_exceeded",
    message: "the tenant's token quota ran out during this response; the gateway ended the stream",
  };
  return encoder.encode(`event: error\ndata: ${JSON.stringify({ error })}\n\n`);
}

/** Reads a stream's events for its usage and, with the cut-off on, counts its generated text. */
function sseReader(m: MeterContext, countText: boolean) {
  const usage = new StreamUsage();
  let streamedTokens = 0;
  const parser = new SseParser(({ data }) => {
    if (data === "[DONE]" || (!countText && !data.includes('"usage"'))) return;
    let event: unknown;
    try {
      event = JSON.parse(data);
    } catch {
      return;
    }
    usage.take(event);
    if (countText)
      for (const piece of streamedText(event))
        streamedTokens += Math.max(1, Math.ceil(piece / m.rules.estimate.bytesPerToken));
  });
  return {
    parser,
    usage,
    /** Units counted so far: the prompt estimate and the streamed text, priced. */
    counted: () =>
      priceUsage(m.rules, m.estimate.modelWeight, {
        input: m.estimate.inputTokens,
        output: streamedTokens,
      }) ?? 0,
  };
}

/** Most bytes of an unfinished event held back with the cut-off on; an event this large is no LLM chunk. */
const MAX_HELD = 64 * 1024;

function sseMeter(m: MeterContext, price: Price, finish: Finish): TransformStream<Uint8Array, Uint8Array> {
  const cutOff = m.rules.cutOff && m.remaining !== undefined;
  const budget = m.estimate.units + (m.remaining ?? 0);
  const { parser, usage, counted } = sseReader(m, cutOff);
  const outcome = (ended: boolean): SettleOutcome => {
    const settled = price(usage.result());
    return settled.kind === "usage" || ended ? settled : { kind: "abort" };
  };
  // With the cut-off on, bytes after the last complete event wait for the rest of their event (bounded), so that a
  // cut never leaves half an event before the error event.
  let held: Uint8Array[] = [];
  let heldBytes = 0;
  /** What went out so far ends at an event boundary. */
  let clean = true;
  const release = (c: TransformStreamDefaultController<Uint8Array>) => {
    for (const h of held) c.enqueue(h);
    held = [];
    heldBytes = 0;
  };
  return new TransformStream({
    transform(chunk, c) {
      if (!cutOff) {
        c.enqueue(chunk);
        parser.push(chunk);
        return;
      }
      const ready = Math.max(0, parser.push(chunk));
      if (ready > 0) {
        release(c);
        c.enqueue(chunk.subarray(0, ready));
        clean = true;
      }
      if (ready < chunk.length) {
        held.push(chunk.subarray(ready));
        heldBytes += chunk.length - ready;
      }
      if (clean && usage.result() === null && counted() > budget) {
        c.enqueue(cutEvent());
        finish({ kind: "cut", units: counted() });
        c.terminate();
      } else if (heldBytes > MAX_HELD) {
        release(c);
        clean = false;
      }
    },
    flush(c) {
      release(c);
      parser.end();
      finish(outcome(true));
    },
    cancel() {
      finish(outcome(false));
    },
  });
}

// Token usage as origins report it: OpenAI-compatible `usage` (prompt/completion/total tokens), Anthropic-style
// `usage` (input/output tokens, cache reads and writes), and a cost header. Figures that are negative, fractional,
// not numbers or absurdly large make the usage unreadable: it then counts as missing, never as a number.
import { z } from "zod";
import { MAX_USAGE, type TokenUsage } from "../../policy/token-rules.ts";

const figure = z.number().int().min(0).max(MAX_USAGE);
const optionalFigure = figure.nullable().optional();

const usageObject = z.looseObject({
  prompt_tokens: optionalFigure,
  completion_tokens: optionalFigure,
  total_tokens: optionalFigure,
  input_tokens: optionalFigure,
  output_tokens: optionalFigure,
  cache_creation_input_tokens: optionalFigure,
  cache_read_input_tokens: optionalFigure,
});

const orUndefined = (n: number | null | undefined) => (n === null ? undefined : n);

/**
 * The figures of a `usage` object, or null when it is unreadable (not an object, a bad figure, or no figure at all).
 * Anthropic's cache reads and writes are prompt tokens the origin processed, so they count as input.
 */
export function usageOf(raw: unknown): TokenUsage | null {
  const parsed = usageObject.safeParse(raw);
  if (!parsed.success) return null;
  const u = parsed.data;
  const anthropicInput =
    u.input_tokens === undefined || u.input_tokens === null
      ? undefined
      : u.input_tokens + (u.cache_creation_input_tokens ?? 0) + (u.cache_read_input_tokens ?? 0);
  const out: TokenUsage = {
    input: orUndefined(u.prompt_tokens) ?? anthropicInput,
    output: orUndefined(u.completion_tokens) ?? orUndefined(u.output_tokens),
    total: orUndefined(u.total_tokens),
  };
  if (out.input === undefined && out.output === undefined && out.total === undefined) return null;
  return out;
}

/** A cost header's units: a whole number from 0 to MAX_USAGE, else null. */
export function headerUnits(value: string | null): number | null {
  if (value === null || !/^\s*\d{1,10}\s*$/.test(value)) return null;
  const n = Number(value);
  return n <= MAX_USAGE ? n : null;
}

/**
 * The usage of one streamed response as its events arrive. OpenAI-compatible streams send it in one chunk before
 * `[DONE]` (or, with some servers, a running total in every chunk: the last one counts); Anthropic streams send the
 * prompt in `message_start` and the final output count in `message_delta`. Only a final usage settles a request.
 */
export class StreamUsage {
  private input: number | undefined;
  private output: number | undefined;
  private total: number | undefined;
  private final = false;
  private unreadable = false;

  /** Takes one parsed event payload (any JSON value). */
  take(event: unknown): void {
    if (typeof event !== "object" || event === null) return;
    const e = event as { type?: unknown; usage?: unknown; message?: { usage?: unknown } | null };
    if (e.type === "message_start") {
      const u = usageOf(e.message?.usage);
      if (!u) {
        this.unreadable = true;
        return;
      }
      this.input = u.input;
      this.output = u.output;
      return;
    }
    if (e.usage === undefined || e.usage === null) return;
    const u = usageOf(e.usage);
    if (!u) {
      this.unreadable = true;
      return;
    }
    if (e.type === "message_delta") {
      // Cumulative: the output so far, and (in newer versions) the input again.
      this.input = u.input ?? this.input;
      this.output = u.output ?? this.output;
    } else {
      this.input = u.input;
      this.output = u.output;
      this.total = u.total;
    }
    this.final = true;
  }

  /** The final usage, or null when none arrived or one was unreadable. */
  result(): TokenUsage | null {
    if (!this.final || this.unreadable) return null;
    return { input: this.input, output: this.output, total: this.total };
  }
}

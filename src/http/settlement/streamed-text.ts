// The generated text in one streamed LLM event (OpenAI-compatible chunk or Anthropic content delta), as the lengths
// of its pieces: what the stream cut-off counts while no usage has arrived yet.

const len = (v: unknown): number => (typeof v === "string" ? v.length : 0);

/** Lengths of the non-empty text pieces an event carries: message text, reasoning, tool-call arguments. */
export function streamedText(event: unknown): number[] {
  if (typeof event !== "object" || event === null) return [];
  const out: number[] = [];
  const add = (n: number) => {
    if (n > 0) out.push(n);
  };
  const e = event as { choices?: unknown; type?: unknown; delta?: Record<string, unknown> | null };
  if (Array.isArray(e.choices)) {
    for (const choice of e.choices) {
      const d = (choice as { delta?: Record<string, unknown> | null } | null)?.delta;
      if (!d || typeof d !== "object") continue;
      add(len(d.content));
      add(len(d.reasoning_content) + len(d.reasoning));
      if (Array.isArray(d.tool_calls))
        for (const t of d.tool_calls)
          add(len((t as { function?: { arguments?: unknown } })?.function?.arguments));
    }
  } else if (e.type === "content_block_delta" && e.delta && typeof e.delta === "object") {
    add(len(e.delta.text) + len(e.delta.partial_json) + len(e.delta.thinking));
  }
  return out;
}

// LLM wire formats for the token-settlement suites: OpenAI-compatible chat bodies, JSON answers and SSE chunks, and
// Anthropic message events, as origins send them.

export const chatBody = (fields: Record<string, unknown> = {}): string =>
  JSON.stringify({
    model: "gpt-4o-mini",
    messages: [{ role: "user", content: "Say something short." }],
    ...fields,
  });

export interface OpenAiUsage {
  prompt_tokens: unknown;
  completion_tokens: unknown;
  total_tokens?: unknown;
}

export const openAiJson = (usage?: OpenAiUsage): string =>
  JSON.stringify({
    id: "chatcmpl-1",
    object: "chat.completion",
    model: "gpt-4o-mini",
    choices: [{ index: 0, message: { role: "assistant", content: "Hello there." }, finish_reason: "stop" }],
    ...(usage ? { usage } : {}),
  });

const sse = (data: unknown, event?: string) =>
  `${event ? `event: ${event}\n` : ""}data: ${typeof data === "string" ? data : JSON.stringify(data)}\n\n`;

/** One OpenAI chat.completion.chunk carrying `content` (and `usage: null`, as with include_usage). */
export const openAiChunk = (content: string): string =>
  sse({
    id: "chatcmpl-1",
    object: "chat.completion.chunk",
    choices: [{ index: 0, delta: { content }, finish_reason: null }],
    usage: null,
  });

/** The usage chunk OpenAI sends last with `stream_options.include_usage` (empty choices). */
export const openAiUsageChunk = (usage: OpenAiUsage): string =>
  sse({ id: "chatcmpl-1", object: "chat.completion.chunk", choices: [], usage });

export const DONE = sse("[DONE]");

export const anthropicStream = (input: number, output: number, text: string): string[] => [
  sse(
    {
      type: "message_start",
      message: { id: "msg_1", role: "assistant", usage: { input_tokens: input, output_tokens: 1 } },
    },
    "message_start",
  ),
  sse({ type: "content_block_delta", index: 0, delta: { type: "text_delta", text } }, "content_block_delta"),
  sse(
    { type: "message_delta", delta: { stop_reason: "end_turn" }, usage: { output_tokens: output } },
    "message_delta",
  ),
  sse({ type: "message_stop" }, "message_stop"),
];

export const SSE_HEADERS = { "content-type": "text/event-stream" };
export const JSON_HEADERS = { "content-type": "application/json" };

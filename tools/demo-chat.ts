// The demo origin's OpenAI-compatible `POST /v1/chat/completions`: a fixed reply of up to 12 words, as one JSON
// answer or (with `stream: true`) one SSE chunk per word, with usage that depends only on the request, so the
// gateway's settlement can be followed by hand: prompt = sum over messages of (ceil(characters / 4) + 4),
// completion = min(12, max_completion_tokens ?? max_tokens ?? 12).
import type { IncomingMessage, ServerResponse } from "node:http";

const WORDS = "Quotagate reserved an estimate and settles the real count when this reply ends.".split(" ");
const MAX_BODY = 1024 * 1024;

interface ChatRequest {
  model?: unknown;
  messages?: unknown;
  max_tokens?: unknown;
  max_completion_tokens?: unknown;
  stream?: unknown;
  stream_options?: { include_usage?: unknown } | null;
}

const count = (v: unknown) => (typeof v === "number" && Number.isInteger(v) && v >= 0 ? v : undefined);

export function usageOf(body: ChatRequest): {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
} {
  const messages = Array.isArray(body.messages) ? body.messages : [];
  let prompt = 0;
  for (const m of messages) {
    const content = (m as { content?: unknown } | null)?.content;
    prompt += Math.ceil((typeof content === "string" ? content.length : 0) / 4) + 4;
  }
  const completion = Math.min(
    WORDS.length,
    count(body.max_completion_tokens) ?? count(body.max_tokens) ?? WORDS.length,
  );
  return { prompt_tokens: prompt, completion_tokens: completion, total_tokens: prompt + completion };
}

function fail(res: ServerResponse, status: number, message: string): void {
  res.writeHead(status, { "content-type": "application/json", "x-origin": "demo" });
  res.end(JSON.stringify({ error: { type: "invalid_request_error", message } }));
}

function stream(res: ServerResponse, body: ChatRequest, model: string): void {
  const usage = usageOf(body);
  const base = { id: "chatcmpl-demo", object: "chat.completion.chunk", created: 0, model };
  const events: unknown[] = [
    { ...base, choices: [{ index: 0, delta: { role: "assistant" }, finish_reason: null }] },
  ];
  WORDS.slice(0, usage.completion_tokens).forEach((w, i) => {
    const delta = { content: i ? ` ${w}` : w };
    events.push({ ...base, choices: [{ index: 0, delta, finish_reason: null }] });
  });
  events.push({ ...base, choices: [{ index: 0, delta: {}, finish_reason: "stop" }] });
  if (body.stream_options?.include_usage === true) events.push({ ...base, choices: [], usage });
  res.writeHead(200, {
    "content-type": "text/event-stream",
    "cache-control": "no-cache",
    "x-origin": "demo",
  });
  let i = 0;
  const next = () => {
    if (i >= events.length) return void res.end("data: [DONE]\n\n");
    res.write(`data: ${JSON.stringify(events[i++])}\n\n`, () => setImmediate(next));
  };
  next();
}

export function chatCompletion(req: IncomingMessage, res: ServerResponse): void {
  const chunks: Buffer[] = [];
  let size = 0;
  req.on("data", (c: Buffer) => {
    size += c.length;
    if (size <= MAX_BODY) chunks.push(c);
  });
  req.on("end", () => {
    if (size > MAX_BODY) return fail(res, 413, "request body too large");
    let body: ChatRequest;
    try {
      body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as ChatRequest;
    } catch {
      return fail(res, 400, "the body is not JSON");
    }
    if (typeof body !== "object" || body === null || !Array.isArray(body.messages))
      return fail(res, 400, "messages: required");
    const model = typeof body.model === "string" ? body.model : "demo-mini";
    if (body.stream === true) return stream(res, body, model);
    const usage = usageOf(body);
    res.writeHead(200, { "content-type": "application/json", "x-origin": "demo" });
    res.end(
      JSON.stringify({
        id: "chatcmpl-demo",
        object: "chat.completion",
        created: 0,
        model,
        choices: [
          {
            index: 0,
            message: { role: "assistant", content: WORDS.slice(0, usage.completion_tokens).join(" ") },
            finish_reason: "stop",
          },
        ],
        usage,
      }),
    );
  });
}

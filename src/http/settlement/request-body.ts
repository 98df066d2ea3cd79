// The request body of a metered route, read up to a bound to estimate its cost, then handed on as the same bytes: the
// whole body when it fits, else what was read followed by the rest of the stream (never more than the bound held).

export type BodyRead =
  /** No body (GET, HEAD). */
  | { kind: "none" }
  /** The whole body, within the bound (possibly empty). */
  | { kind: "whole"; bytes: Uint8Array }
  /** Over the bound: the same bytes as a stream (what was read, then the rest); `seen` bytes were read. */
  | { kind: "oversize"; body: ReadableStream<Uint8Array>; seen: number };

/** A stream of `prefix` then whatever `rest` still has; cancelling it cancels the rest. Pull-based: nothing is read
 * ahead of the consumer. */
function resume(
  prefix: Uint8Array[],
  rest: ReadableStreamDefaultReader<Uint8Array>,
): ReadableStream<Uint8Array> {
  let i = 0;
  return new ReadableStream<Uint8Array>(
    {
      async pull(controller) {
        if (i < prefix.length) return controller.enqueue(prefix[i++]!);
        const { done, value } = await rest.read();
        if (done) controller.close();
        else controller.enqueue(value);
      },
      cancel: (reason) => rest.cancel(reason),
    },
    { highWaterMark: 0 },
  );
}

function concat(chunks: Uint8Array[], total: number): Uint8Array {
  if (chunks.length === 1) return chunks[0]!;
  if (chunks.length === 0) return new Uint8Array(0);
  const out = new Uint8Array(total);
  let at = 0;
  for (const c of chunks) {
    out.set(c, at);
    at += c.length;
  }
  return out;
}

/** Reads `req`'s body up to `maxBytes`. A declared Content-Length over the bound is not read at all. */
export async function readBounded(req: Request, maxBytes: number): Promise<BodyRead> {
  if (!req.body) return { kind: "none" };
  const declared = Number(req.headers.get("content-length") ?? Number.NaN);
  if (Number.isFinite(declared) && declared > maxBytes) return { kind: "oversize", body: req.body, seen: 0 };
  const reader = req.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    chunks.push(value);
    total += value.length;
    if (total > maxBytes) return { kind: "oversize", body: resume(chunks, reader), seen: total };
  }
  return { kind: "whole", bytes: concat(chunks, total) };
}

/** Releases a body that will not be forwarded (the request was refused). */
export async function discardBody(read: BodyRead): Promise<void> {
  if (read.kind === "oversize") await read.body.cancel().catch(() => undefined);
}

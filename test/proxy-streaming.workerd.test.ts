// End to end in workerd, the proxy streams both ways: the client reads chunk k of the origin's response before the
// origin is allowed to send chunk k + 1, and the origin receives each chunk of a request body before the client sends
// the next. The loopback test origin is driven through its control port: no sleeps, no timings. A proxy that buffers
// either body never lets the test see the awaited chunk, so the test runs into its timeout.
import { describe, expect, it } from "vitest";
import { asTenant, useGatewayState, workerWith } from "./support/gateway.ts";
import {
  ORIGIN_MARK,
  ORIGIN_MARK_VALUE,
  releaseNextChunk,
  testOriginUrl,
  uploadReceived,
} from "./support/test-origin.ts";

useGatewayState();

const decoder = new TextDecoder();

/** Reads from `reader` until `expected.length` characters have arrived; returns them. */
async function readText(reader: ReadableStreamDefaultReader<Uint8Array>, expected: string): Promise<string> {
  let text = "";
  while (text.length < expected.length) {
    const { done, value } = await reader.read();
    if (done) break;
    text += decoder.decode(value, { stream: true });
  }
  return text;
}

describe("streaming through the proxy", () => {
  it("hands each chunk of the origin's response to the client before the origin sends the next", async () => {
    const w = workerWith({ ORIGIN_URL: testOriginUrl() });
    const id = crypto.randomUUID();
    const total = 4;
    const res = await w.fetch(`/__loopback/gated/${id}?chunks=${total}`, asTenant("t-gated"));
    expect(res.status).toBe(200);
    expect(res.headers.get(ORIGIN_MARK)).toBe(ORIGIN_MARK_VALUE);
    expect(res.headers.get("RateLimit")).not.toBeNull();
    const reader = res.body!.getReader();
    for (let k = 0; k < total; k++) {
      // The origin has sent chunks 0..k and holds chunk k + 1 until the release below.
      expect(await readText(reader, `chunk ${k}\n`)).toBe(`chunk ${k}\n`);
      if (k + 1 < total) {
        expect(await releaseNextChunk(id)).toEqual({ sent: k + 2, ended: k + 2 === total });
      }
    }
    expect((await reader.read()).done).toBe(true);
  });

  it("delivers each chunk of a request body to the origin before the client sends the next", async () => {
    const w = workerWith({ ORIGIN_URL: testOriginUrl() });
    const id = crypto.randomUUID();
    const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>();
    const writer = writable.getWriter();
    const answer = w.fetch(`/__loopback/upload/${id}`, {
      method: "POST",
      headers: { "X-Tenant-ID": "t-upload", "content-type": "application/octet-stream" },
      body: readable,
    });
    const encoder = new TextEncoder();
    const writes: Array<Promise<void>> = [];
    let sent = 0;
    for (let k = 0; k < 4; k++) {
      const chunk = encoder.encode(`part ${k} ${"x".repeat(100 * (k + 1))}\n`);
      // Awaited at the end: a write settles once the chunk is read; the origin's count below is what matters.
      writes.push(writer.write(chunk));
      sent += chunk.length;
      // The origin has this chunk, and the request has not ended: the client has not sent the next one yet.
      expect(await uploadReceived(id, sent)).toMatchObject({ bytes: sent, ended: false });
    }
    await Promise.all([...writes, writer.close()]);
    const res = await answer;
    expect(res.status).toBe(200);
    expect(res.headers.get(ORIGIN_MARK)).toBe(ORIGIN_MARK_VALUE);
    expect(await res.json()).toMatchObject({ bytes: sent });
  });
});

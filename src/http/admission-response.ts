// What an admission means on the wire: the wait headers, the problem+json of a refusal other than the rate
// decision's (concurrency, origin capacity, full queue), and a proxied response that releases the request's slots
// when it ends (body done, client gone, or origin failure).
import type { Admission } from "../queue/admission.ts";
import type { SlotHold } from "../queue/slots.ts";
import { problem } from "./problem.ts";

type HeaderList = Array<[string, string]>;

/**
 * `X-Quota-Waited-Ms` on every response of a request that could wait (0 when it did not have to);
 * `Preference-Applied: wait=<s>` when its `Prefer: wait` was honoured (RFC 7240), with the wait it was granted.
 */
export function waitHeaders(a: Admission): HeaderList {
  if (!a.waited) return [];
  const out: HeaderList = [["x-quota-waited-ms", String(Math.round(a.waited.ms))]];
  if (a.waited.preferenceApplied !== null)
    out.push(["preference-applied", `wait=${a.waited.preferenceApplied}`]);
  return out;
}

/** The refusal of a request the rate decision allowed but the gate did not; null for a rate refusal. */
export function gateRefusal(a: Admission, headers: HeaderList, path: string): Response | null {
  const r = a.refusal;
  if (!r || r.kind === "rate") return null;
  const retry = a.retryAfterSec ?? 1;
  const h: HeaderList = [
    ...headers.filter(([k]) => k.toLowerCase() !== "retry-after"),
    ["retry-after", String(retry)],
  ];
  const { tenant, tier } = a.decision;
  const who = `tenant "${tenant}" (tier ${tier})`;
  if (r.kind === "store")
    return problem(
      "store_unavailable",
      "the quota store is unreachable and this tier fails closed; retry shortly",
      {
        instance: path,
        headers: h,
      },
    );
  if (r.kind === "queue_full") {
    const detail =
      r.bound === "tenant"
        ? `the waiting queue is full for ${who}: ${r.maxDepth} of its requests already wait (per-tenant bound ${r.maxDepth})`
        : `the waiting queue is full: ${r.maxDepth} requests already wait (global bound ${r.maxDepth})`;
    return problem("queue_full", `${detail}; retry in ${retry} s`, {
      instance: path,
      headers: h,
      extensions: { bound: r.bound, max_depth: r.maxDepth, tenant, retry_after: retry },
    });
  }
  if (r.scope === "tenant")
    return problem(
      "concurrency_exceeded",
      `${who} has ${r.limit} requests in flight, its concurrency limit; retry in ${retry} s`,
      {
        instance: path,
        headers: h,
        extensions: {
          "violated-policies": ["concurrency"],
          limit: r.limit,
          tenant,
          tier,
          retry_after: retry,
        },
      },
    );
  return problem(
    "origin_busy",
    `the origin has ${r.limit} requests in flight, the most it takes at once; retry in ${retry} s`,
    { instance: path, headers: h, extensions: { limit: r.limit, retry_after: retry } },
  );
}

/**
 * The response, its body passed through a TransformStream whose end (flush), cancellation (client gone) or error
 * releases the slots; a client abort releases them too, and a response without a body at once.
 */
export function releaseWhenDone(
  res: Response,
  hold: SlotHold | null,
  waitUntil: (p: Promise<unknown>) => void,
  signal: AbortSignal | undefined,
): Response {
  if (!hold) return res;
  const release = () => {
    if (!hold.isReleased) waitUntil(hold.release());
  };
  signal?.addEventListener("abort", release, { once: true });
  if (!res.body || hold.isReleased || signal?.aborted) {
    release();
    return res;
  }
  const { readable, writable } = new TransformStream<Uint8Array, Uint8Array>({
    flush: release,
    cancel: release,
  });
  res.body.pipeTo(writable).catch(release);
  return new Response(readable, { status: res.status, statusText: res.statusText, headers: res.headers });
}

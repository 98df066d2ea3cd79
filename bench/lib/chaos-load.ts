// The outage drill's load: a fixed schedule of requests per tenant (bounded in count and time), sent by a few
// keep-alive clients over both gateways, each answer classified and attributed to the quota window that counted it;
// and a poller of the gateways' breaker gauges and decision counters.
import { Agent, request } from "node:http";
import { setTimeout as sleep } from "node:timers/promises";
import type { GatewayReading, Rig, Tier } from "./chaos-rig.ts";

export interface TenantLoad {
  tenant: string;
  tier: Tier;
  /** Requests per second, spread evenly. */
  rate: number;
}

/**
 * ok: 2xx from the origin; limit: 429 of a limit; degraded: 429 of the degraded share; designed-503: the fail-closed
 * answer (503 problem+json, temporary-reduced-capacity, Retry-After); other-5xx: any other 5xx; other: anything else
 * (a 2xx not from the origin, a 4xx other than 429); client-error: no answer (connection error or a 10 s timeout).
 */
export type Kind = "ok" | "limit" | "degraded" | "designed-503" | "other-5xx" | "other" | "client-error";

export interface Sample {
  tenant: string;
  tier: Tier;
  instance: number;
  /** Epoch ms when the request was sent. */
  sentAt: number;
  ms: number;
  status: number;
  kind: Kind;
  /** Problem type or error text, for anything but ok and limit. */
  detail?: string;
  /** For 2xx: the start of the minute window the gateway counted it in (from the RateLimit header), or null. */
  windowStart: number | null;
}

const MINUTE = 60_000;
const CLIENT_TIMEOUT_MS = 10_000;
/** A request the clients reach this late is skipped, so the load ends on time when the machine cannot keep up. */
const SKIP_LATE_MS = 1_000;
const DESIGNED_503 = "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity";

/** The request schedule: each tenant's requests evenly spaced from startAt to endAt, alternating the gateways. */
export function schedule(tenants: TenantLoad[], startAt: number, endAt: number, gateways: number) {
  const slots: Array<{ at: number; t: TenantLoad; instance: number }> = [];
  tenants.forEach((t, ti) => {
    const gap = 1000 / t.rate;
    const offset = (gap * ti) / tenants.length;
    for (let k = 0; startAt + offset + k * gap < endAt; k++)
      slots.push({ at: startAt + offset + k * gap, t, instance: (k + ti) % gateways });
  });
  return slots.sort((a, b) => a.at - b.at);
}

/**
 * The minute the gateway counted a 2xx in. Its RateLimit header says `t` = ceil((windowEnd - h) / 1 s) for some h
 * between sending and receiving, so the window end lies in (sentAt + (t - 1) s, receivedAt + t s]: exactly one minute
 * boundary does, unless the answer took about a minute. Attribution by send time alone would miscount the requests
 * that waited across a boundary (a coalesced store call, a slow store).
 */
export function windowOf(rateLimit: string | undefined, sentAt: number, receivedAt: number): number | null {
  const t = Number(/"requests-minute";r=\d+;t=(\d+)/.exec(rateLimit ?? "")?.[1] ?? Number.NaN);
  if (!Number.isFinite(t)) return null;
  const lo = sentAt + (t - 1) * 1000;
  const hi = receivedAt + t * 1000;
  const end = Math.floor(hi / MINUTE) * MINUTE;
  return end > lo && end - MINUTE <= lo ? end - MINUTE : null;
}

function classify(status: number, contentType: string, body: string, headers: Record<string, unknown>) {
  if (status >= 200 && status < 300)
    return headers["x-origin"] === "demo"
      ? { kind: "ok" as const }
      : { kind: "other" as const, detail: "2xx not from the origin" };
  let problem: { type?: string; "violated-policies"?: unknown } = {};
  if (contentType.startsWith("application/problem+json"))
    try {
      problem = JSON.parse(body) as typeof problem;
    } catch {
      problem = { type: "unparsable problem+json" };
    }
  const detail = `${status} ${problem.type ?? (contentType || "no content-type")}`;
  if (status === 429)
    return { kind: problem["violated-policies"] ? ("limit" as const) : ("degraded" as const) };
  if (status === 503 && problem.type === DESIGNED_503 && headers["retry-after"] !== undefined)
    return { kind: "designed-503" as const, detail };
  if (status >= 500) return { kind: "other-5xx" as const, detail };
  return { kind: "other" as const, detail };
}

function send(agent: Agent, base: string, tenant: string): Promise<Omit<Sample, "tier" | "instance">> {
  const sentAt = Date.now();
  const t0 = performance.now();
  return new Promise((resolve) => {
    const done = (s: { status: number; kind: Sample["kind"]; detail?: string; windowStart: number | null }) =>
      resolve({ tenant, sentAt, ms: performance.now() - t0, ...s });
    const req = request(
      `${base}/chaos/item`,
      { agent, headers: { "x-tenant-id": tenant }, timeout: CLIENT_TIMEOUT_MS },
      (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("error", (e) =>
          done({ status: 0, kind: "client-error", detail: e.message, windowStart: null }),
        );
        res.on("end", () => {
          const status = res.statusCode ?? 0;
          const c = classify(
            status,
            String(res.headers["content-type"] ?? ""),
            Buffer.concat(chunks).toString(),
            res.headers,
          );
          const rl = res.headers.ratelimit;
          const rateLimit = Array.isArray(rl) ? rl.join(", ") : rl;
          const windowStart = c.kind === "ok" ? windowOf(rateLimit, sentAt, Date.now()) : null;
          done({ status, ...c, windowStart });
        });
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer in ${CLIENT_TIMEOUT_MS} ms`)));
    req.on("error", (e) => done({ status: 0, kind: "client-error", detail: e.message, windowStart: null }));
    req.end();
  });
}

export interface LoadResult {
  samples: Sample[];
  scheduled: number;
  /** Scheduled requests not sent: the clients were more than SKIP_LATE_MS behind when they reached them. */
  skipped: number;
}

/** Sends the schedule with `clients` concurrent keep-alive clients; resolves with every answer once all are in. */
export async function runLoad(o: {
  urls: string[];
  tenants: TenantLoad[];
  startAt: number;
  endAt: number;
  clients: number;
  onSample?: (s: Sample) => void;
}): Promise<LoadResult> {
  const slots = schedule(o.tenants, o.startAt, o.endAt, o.urls.length);
  const agent = new Agent({ keepAlive: true, maxSockets: o.clients });
  const samples: Sample[] = [];
  let next = 0;
  let skipped = 0;
  const client = async () => {
    while (next < slots.length) {
      const slot = slots[next++]!;
      const wait = slot.at - Date.now();
      if (wait > 0) await sleep(wait);
      else if (-wait > SKIP_LATE_MS) {
        skipped++;
        continue;
      }
      const s = await send(agent, o.urls[slot.instance]!, slot.t.tenant);
      const sample = { ...s, tier: slot.t.tier, instance: slot.instance };
      samples.push(sample);
      o.onSample?.(sample);
    }
  };
  await Promise.all(Array.from({ length: o.clients }, client));
  agent.destroy();
  return { samples, scheduled: slots.length, skipped };
}

export interface Reading extends GatewayReading {
  at: number;
  instance: number;
}

/** Reads every gateway's breaker gauge and decision counters every `everyMs` until `until`. */
export async function pollGateways(
  rig: Rig,
  until: number,
  everyMs: number,
  onReading?: (r: Reading) => void,
): Promise<Reading[]> {
  const out: Reading[] = [];
  while (Date.now() < until) {
    const at = Date.now();
    const rs = await Promise.all(rig.gateways.urls.map((_, i) => rig.reading(i)));
    rs.forEach((r, instance) => {
      if (!r) return;
      const reading = { ...r, at, instance };
      out.push(reading);
      onReading?.(reading);
    });
    await sleep(Math.max(0, at + everyMs - Date.now()));
  }
  return out;
}

// Counts the HTTP round trips the clients of one run make to its Upstash server, split into those a request waited
// for (request path) and those that ran in waitUntil (background), by looking at what each round trip carries; and,
// when asked, the Redis commands each round trip cost (round trips then go one at a time).

export type RoundTripKind = "request" | "background";

export interface MeterCounts {
  roundTrips: number;
  requestPath: number;
  background: number;
}

/** Redis commands of the round trips that carried one kind of store call. */
export interface KindCost {
  roundTrips: number;
  /** Store calls carried (a pipeline may carry several). */
  calls: number;
  commands: number;
  /** Calls whose reply granted something (acquires), and the commands of their round trips, shared pro rata. */
  grantedCalls: number;
  grantingCommands: number;
}

/**
 * Attributes Redis commands to round trips. Round trips are sent one at a time (in the order they were issued, a
 * valid order for requests in flight together) and Redis's command counter is read after each: the delta, less the
 * previous read itself, is what that round trip cost (scripts' inner commands included).
 */
export interface Attributor {
  /** Redis's total_commands_processed (INFO stats), read on a connection of its own. */
  readCommands(): Promise<number>;
  /** What a round trip carries, and how many store calls. */
  kindOf(body: string): { kind: string; calls: number };
  /** How many of the round trip's calls granted, from its JSON reply. */
  granted?(body: string, reply: unknown): number;
}

interface Attributing {
  attributor: Attributor;
  last: number;
  reads: number;
  chain: Promise<unknown>;
  byKind: Record<string, KindCost>;
}

interface Meter {
  prefix: string;
  classify: (body: string) => RoundTripKind;
  counts: MeterCounts;
  attributing: Attributing | null;
}

const meters = new Set<Meter>();
let installed = false;

function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return "";
}

async function attributed(a: Attributing, body: string, send: () => Promise<Response>): Promise<Response> {
  let res: Response | undefined;
  try {
    // The server answers once Redis has run every command of the request, so the headers mark the end of it.
    res = await send();
    return res;
  } finally {
    const total = await a.attributor.readCommands();
    const commands = total - a.last - 1;
    a.last = total;
    a.reads++;
    const { kind, calls } = a.attributor.kindOf(body);
    let granted = 0;
    if (res?.ok && calls > 0 && a.attributor.granted) {
      const reply: unknown = await res
        .clone()
        .json()
        .catch(() => null);
      granted = a.attributor.granted(body, reply);
    }
    a.byKind[kind] ??= { roundTrips: 0, calls: 0, commands: 0, grantedCalls: 0, grantingCommands: 0 };
    const k = a.byKind[kind];
    k.roundTrips++;
    k.calls += calls;
    k.commands += commands;
    k.grantedCalls += granted;
    if (calls > 0) k.grantingCommands += (commands * granted) / calls;
  }
}

/** Wraps the global fetch once; @upstash/redis looks fetch up at call time, so every client goes through it. */
function install(): void {
  if (installed) return;
  installed = true;
  const real = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    for (const m of meters) {
      if (!url.startsWith(m.prefix)) continue;
      const body = bodyText(init?.body);
      m.counts.roundTrips++;
      if (m.classify(body) === "request") m.counts.requestPath++;
      else m.counts.background++;
      const a = m.attributing;
      if (!a) break;
      const p = a.chain.then(() => attributed(a, body, () => real(input, init)));
      a.chain = p.catch(() => undefined);
      return p;
    }
    return real(input, init);
  }) as typeof fetch;
}

export interface RoundTripMeter {
  counts: MeterCounts;
  /** Detaches the meter; its counts, the commands by kind (when attributing) and the INFO reads it made. */
  stop(): Promise<MeterCounts & { byKind: Record<string, KindCost> | null; infoReads: number }>;
}

/**
 * Starts counting round trips to `serverUrl`; with an attributor, also the Redis commands of each (call it when no
 * other client is talking to that Redis: the first read is the baseline).
 */
export async function meterRoundTrips(
  serverUrl: string,
  classify: (body: string) => RoundTripKind,
  attributor?: Attributor,
): Promise<RoundTripMeter> {
  install();
  const attributing: Attributing | null = attributor
    ? { attributor, last: await attributor.readCommands(), reads: 1, chain: Promise.resolve(), byKind: {} }
    : null;
  const m: Meter = {
    prefix: serverUrl,
    classify,
    counts: { roundTrips: 0, requestPath: 0, background: 0 },
    attributing,
  };
  meters.add(m);
  return {
    counts: m.counts,
    async stop() {
      meters.delete(m);
      if (attributing) await attributing.chain;
      return {
        ...m.counts,
        byKind: attributing ? attributing.byKind : null,
        infoReads: attributing ? attributing.reads : 0,
      };
    },
  };
}

// Counts the HTTP round trips the clients of one run make to its Upstash server, split into those a request waited
// for (request path) and those that ran in waitUntil (background), by looking at what each round trip carries.

export type RoundTripKind = "request" | "background";

export interface MeterCounts {
  roundTrips: number;
  requestPath: number;
  background: number;
}

interface Meter {
  prefix: string;
  classify: (body: string) => RoundTripKind;
  counts: MeterCounts;
}

const meters = new Set<Meter>();
let installed = false;

function bodyText(body: unknown): string {
  if (typeof body === "string") return body;
  if (body instanceof Uint8Array) return new TextDecoder().decode(body);
  return "";
}

/** Wraps the global fetch once; @upstash/redis looks fetch up at call time, so every client goes through it. */
function install(): void {
  if (installed) return;
  installed = true;
  const real = globalThis.fetch;
  globalThis.fetch = ((input: RequestInfo | URL, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.href : input.url;
    for (const m of meters) {
      if (url.startsWith(m.prefix)) {
        m.counts.roundTrips++;
        if (m.classify(bodyText(init?.body)) === "request") m.counts.requestPath++;
        else m.counts.background++;
        break;
      }
    }
    return real(input, init);
  }) as typeof fetch;
}

/** Starts counting round trips to `serverUrl`; `stop()` detaches the meter and returns its counts. */
export function meterRoundTrips(
  serverUrl: string,
  classify: (body: string) => RoundTripKind,
): { counts: MeterCounts; stop(): MeterCounts } {
  install();
  const m: Meter = { prefix: serverUrl, classify, counts: { roundTrips: 0, requestPath: 0, background: 0 } };
  meters.add(m);
  return {
    counts: m.counts,
    stop() {
      meters.delete(m);
      return { ...m.counts };
    },
  };
}

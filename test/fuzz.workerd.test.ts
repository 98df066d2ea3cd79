// HTTP fuzz suite in workerd: random requests (odd paths, identity and admin credentials, hop-by-hop tricks, oversized
// values, random admin bodies) against gateways in front of the loopback test origin, which records what it receives.
// `npm test` runs a few hundred cases; `npm run fuzz -- --runs 10000` runs more, with progress.
import { env } from "cloudflare:workers";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type Violation, type ViolationKind, violationsOf } from "./support/fuzz-checks.ts";
import {
  adminRequestArb,
  type FuzzRequest,
  type FuzzSecrets,
  initOf,
  proxyRequestArb,
} from "./support/fuzz-requests.ts";
import { policyJson, sha256Hex, type TestWorker, useGatewayState, workerWith } from "./support/gateway.ts";
import {
  printLine,
  recordedSince,
  testControlHost,
  testOriginHost,
  testOriginUrl,
} from "./support/test-origin.ts";

useGatewayState();

const DEFAULT_RUNS = 500;
const RUNS = inject("fuzzRuns") || DEFAULT_RUNS;
const SEED = inject("fuzzSeed") || undefined;
/** Progress lines only for long runs (npm run fuzz). */
const PROGRESS_EVERY = inject("fuzzRuns") ? Math.max(100, Math.floor(RUNS / 20)) : 0;

interface KnownDefect {
  id: string;
  /** The one property it breaks: a request matching `when` that breaks another property still fails the suite. */
  kind: ViolationKind;
  when: (sent: Request, answer: { status: number; body: string }) => boolean;
}

/**
 * KNOWN SRC DEFECTS, NOT FIXED ON THIS BRANCH (src/ is another engineer's): a violation is tolerated only when both its
 * kind and the request match an entry here. Every tolerated case is counted and printed after the run; once src/ is
 * fixed the entry simply stops matching anything, and should then be deleted.
 */
// Defects the fuzz found and that were fixed (the admin token in Authorization forwarded, a Connection value that is
// not a field name answered 500, the origin's address in 502 details) now fail it like any other; none is tolerated.
const KNOWN_SRC_DEFECTS: KnownDefect[] = [];

type GatewayName = "header-identity" | "every-identity" | "store-down";
const GATEWAYS: GatewayName[] = ["header-identity", "every-identity", "store-down"];

const secrets: FuzzSecrets = {
  adminToken: env.ADMIN_TOKEN,
  apiKey: "qg_fuzz_key_5b0d9e2a71c4",
  jwtSecret: env.JWT_SECRET,
  originHost: testOriginHost(),
};
/** The store of the store-down gateway (in an outage): its address must not show either. */
const storeHost = testControlHost();
const watched = { adminToken: secrets.adminToken, internalHosts: [secrets.originHost, storeHost] };

let gateways: Record<GatewayName, TestWorker>;
let recordIndex = 0;
let originRefused = 0;
const tolerated = new Map<string, { count: number; example: string }>();
/** Answers per gateway and status (printed after a long run, to show what the cases reached). */
const statuses = new Map<string, number>();

beforeAll(async () => {
  const origin = { ORIGIN_URL: testOriginUrl() };
  const keyHash = await sha256Hex(secrets.apiKey);
  gateways = {
    // The default policy: a trusted X-Tenant-ID header.
    "header-identity": workerWith(origin),
    "every-identity": workerWith({
      ...origin,
      QUOTA_POLICY: policyJson({
        identity: {
          apiKey: { enabled: true, keys: { [keyHash]: { tenant: "fuzz-key", tier: "pro" } } },
          jwt: { enabled: true, claim: "sub", tierClaim: "plan" },
          header: { enabled: true },
          ip: { enabled: true, tier: "free" },
        },
      }),
    }),
    // A fail-closed policy on an Upstash store that fails every call: the designed 503s.
    "store-down": workerWith({
      ...origin,
      UPSTASH_REDIS_REST_URL: `http://${storeHost}/store-down`,
      UPSTASH_REDIS_REST_TOKEN: "fuzz-store-down",
      STORE_TIMEOUT_MS: "200",
      QUOTA_POLICY: policyJson({ failure: "closed" }),
    }),
  };
  const now = await recordedSince(0);
  recordIndex = now.next;
  originRefused = now.client_errors;
});

afterAll(async () => {
  if (PROGRESS_EVERY) {
    const seen = [...statuses].sort(([a], [b]) => a.localeCompare(b)).map(([k, n]) => `${k}: ${n}`);
    await printLine(`fuzz: answers by gateway and status: ${seen.join(", ")}`);
  }
  for (const [id, { count, example }] of tolerated)
    await printLine(
      `fuzz: KNOWN SRC DEFECT ${id} tolerated in ${count} case(s); e.g. ${example.slice(0, 400)}`,
    );
});

const sentText = (r: FuzzRequest, sent: Request) =>
  `${r.method} ${r.path}\n${[...sent.headers].join("\n")}\n${typeof r.body === "string" ? r.body : ""}`;

/** Sends one case and returns the violations no known defect accounts for. */
async function exchange(name: GatewayName, r: FuzzRequest): Promise<Violation[]> {
  const init = await initOf(r, secrets);
  const sent = new Request(`http://gateway.test${r.path}`, init);
  const res = await gateways[name].fetch(r.path, init);
  statuses.set(`${name} ${res.status}`, (statuses.get(`${name} ${res.status}`) ?? 0) + 1);
  const body = await res.text();
  const seen = await recordedSince(recordIndex);
  recordIndex = seen.next;
  const refused = seen.client_errors - originRefused;
  originRefused = seen.client_errors;
  const x = { request: r, sent, status: res.status, headers: res.headers, body };
  const all = violationsOf(
    { ...x, atOrigin: seen.records, originRefused: refused },
    watched,
    sentText(r, sent),
  );
  return all.filter((v) => {
    const known = KNOWN_SRC_DEFECTS.find((d) => d.kind === v.kind && d.when(sent, x));
    if (!known) return true;
    const t = tolerated.get(known.id) ?? {
      count: 0,
      example: `${r.method} ${r.path.slice(0, 80)}: ${v.detail}`,
    };
    tolerated.set(known.id, { ...t, count: t.count + 1 });
    return false;
  });
}

describe("HTTP fuzz: every answer is designed, typed and leaks nothing", () => {
  it(
    `holds for ${RUNS} random requests`,
    async () => {
      let done = 0;
      const started = performance.now(); // Date is frozen (useGatewayState)
      const caseArb = fc.tuple(
        fc.constantFrom(...GATEWAYS),
        fc.oneof(proxyRequestArb(secrets), adminRequestArb(secrets)),
      );
      await fc.assert(
        fc.asyncProperty(caseArb, async ([name, r]) => {
          expect(await exchange(name, r)).toEqual([]);
          if (PROGRESS_EVERY && ++done % PROGRESS_EVERY === 0)
            await printLine(`fuzz: ${done} cases run, ${Math.round((performance.now() - started) / 1000)} s`);
        }),
        { numRuns: RUNS, ...(SEED ? { seed: SEED } : {}) },
      );
    },
    Math.max(60_000, RUNS * 100),
  );
});

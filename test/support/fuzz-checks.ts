// The properties of the HTTP fuzz suite, as a list of violations of one exchange: the gateway's own answers are
// designed (no 5xx but 502/503 of their problem types) and typed (every 4xx is problem+json with a `type`), no answer
// shows the admin token or an internal address, and the origin never receives the admin token or a request it refuses.
import type { FuzzRequest } from "./fuzz-requests.ts";
import { ORIGIN_MARK, ORIGIN_MARK_VALUE, type RecordedRequest } from "./loopback-protocol.ts";

export type ViolationKind =
  | "undesigned-5xx"
  | "untyped-4xx"
  | "answer-shows-admin-token"
  | "answer-shows-internal-address"
  | "origin-received-admin-token"
  | "origin-refused-request";

export interface Violation {
  kind: ViolationKind;
  detail: string;
}

/** The only 5xx the gateway answers by design, with their problem types. */
export const DESIGNED_5XX: Record<number, string> = {
  502: "urn:quotagate:problem:origin-unreachable",
  503: "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
};

export interface Exchange {
  request: FuzzRequest;
  /** The request as sent (Authorization materialised). */
  sent: Request;
  status: number;
  headers: Headers;
  body: string;
  /** What the origin recorded during the exchange, and whether its HTTP parser refused anything. */
  atOrigin: RecordedRequest[];
  originRefused: number;
}

export interface Watched {
  adminToken: string;
  /** host:port values no answer may show unless the client sent them itself. */
  internalHosts: string[];
}

/**
 * GET /admin/quota/health answers 503 with its own health body (not a problem) when the store is unreachable: a
 * monitoring probe reads the status code. That is the one designed 5xx outside DESIGNED_5XX.
 */
function isUnhealthyHealthCheck(x: Exchange): boolean {
  if (x.status !== 503 || !/^(GET|HEAD)$/.test(x.sent.method)) return false;
  if (new URL(x.sent.url).pathname !== "/admin/quota/health") return false;
  if (x.sent.method === "HEAD") return true;
  try {
    return (JSON.parse(x.body) as { status?: unknown }).status === "unhealthy";
  } catch {
    return false;
  }
}

function typedProblem(x: Exchange): string | null {
  const type = x.headers.get("content-type");
  if (type !== "application/problem+json") return `content-type ${type}`;
  // A HEAD answer carries no body to check.
  if (x.body === "" && x.sent.method === "HEAD") return null;
  let problem: { type?: unknown; status?: unknown };
  try {
    problem = JSON.parse(x.body) as typeof problem;
  } catch {
    return "body is not JSON";
  }
  if (typeof problem.type !== "string") return "no string `type`";
  if (problem.status !== x.status) return `status member ${String(problem.status)}`;
  if (x.status >= 500 && problem.type !== DESIGNED_5XX[x.status]) return `type ${problem.type}`;
  return null;
}

/** Every property the exchange breaks (empty when it holds). */
export function violationsOf(x: Exchange, w: Watched, sentText: string): Violation[] {
  const out: Violation[] = [];
  const fromOrigin = x.headers.get(ORIGIN_MARK) === ORIGIN_MARK_VALUE;
  const what = `${x.status}: ${x.body.slice(0, 300)}`;
  const ownProblem = !fromOrigin && !isUnhealthyHealthCheck(x);
  if (ownProblem && x.status >= 500 && !(x.status in DESIGNED_5XX))
    out.push({ kind: "undesigned-5xx", detail: what });
  if (ownProblem && x.status >= 400) {
    const why = typedProblem(x);
    if (why)
      out.push({ kind: x.status >= 500 ? "undesigned-5xx" : "untyped-4xx", detail: `${why}; ${what}` });
  }
  const answer = `${x.status}\n${[...x.headers].map(([k, v]) => `${k}: ${v}`).join("\n")}\n\n${x.body}`;
  if (answer.includes(w.adminToken)) out.push({ kind: "answer-shows-admin-token", detail: what });
  for (const host of w.internalHosts) {
    // An address the client sent itself may come back (a path echoed as `instance`); any other is a leak.
    if (!sentText.includes(host) && answer.includes(host))
      out.push({ kind: "answer-shows-internal-address", detail: `${host} in ${what}` });
  }
  // The token as a credential of its own: a longer word that merely contains it (`<token>x`) is another credential.
  const asCredential = new RegExp(`(?<![\\w-])${w.adminToken.replace(/[^\w]/g, "\\$&")}(?![\\w-])`);
  for (const rec of x.atOrigin) {
    const got = `${rec.method} ${rec.target}\n${rec.headers.join("\n")}\n${rec.body}`;
    if (asCredential.test(got))
      out.push({ kind: "origin-received-admin-token", detail: got.replace(/\n/g, " | ").slice(0, 400) });
  }
  if (x.originRefused > 0)
    out.push({
      kind: "origin-refused-request",
      detail: `${x.originRefused} request(s) refused by its parser`,
    });
  return out;
}

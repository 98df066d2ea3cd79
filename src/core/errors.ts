// Errors: one base class with a stable code, and the one table mapping codes to HTTP status and problem type.
export type ErrorCode =
  | "bad_request"
  | "validation_failed"
  | "tenant_missing"
  | "tenant_invalid"
  | "unauthenticated"
  | "forbidden"
  | "denied"
  | "not_found"
  | "method_not_allowed"
  | "payload_too_large"
  | "quota_exceeded"
  | "concurrency_exceeded"
  | "queue_full"
  | "origin_busy"
  | "store_unavailable"
  | "origin_unreachable"
  | "config_invalid"
  | "internal";

export interface ProblemKind {
  status: number;
  title: string;
  /** RFC 9457 `type`: stable per code. Quota exceeded uses the IANA type of the IETF ratelimit-headers draft. */
  type: string;
}

const urn = (slug: string) => `urn:quotagate:problem:${slug}`;

export const problemKinds: Record<ErrorCode, ProblemKind> = {
  bad_request: { status: 400, title: "Bad request", type: urn("bad-request") },
  validation_failed: { status: 400, title: "Validation failed", type: urn("validation-failed") },
  tenant_missing: { status: 401, title: "Tenant not identified", type: urn("tenant-missing") },
  tenant_invalid: { status: 400, title: "Invalid tenant id", type: urn("tenant-invalid") },
  unauthenticated: { status: 401, title: "Unauthenticated", type: urn("unauthenticated") },
  forbidden: { status: 403, title: "Forbidden", type: urn("forbidden") },
  denied: { status: 403, title: "Access denied", type: urn("denied") },
  not_found: { status: 404, title: "Not found", type: urn("not-found") },
  method_not_allowed: { status: 405, title: "Method not allowed", type: urn("method-not-allowed") },
  payload_too_large: { status: 413, title: "Payload too large", type: urn("payload-too-large") },
  quota_exceeded: {
    status: 429,
    title: "Quota exceeded",
    type: "https://iana.org/assignments/http-problem-types#quota-exceeded",
  },
  concurrency_exceeded: {
    status: 429,
    title: "Concurrency limit exceeded",
    type: "https://iana.org/assignments/http-problem-types#quota-exceeded",
  },
  queue_full: { status: 429, title: "Waiting queue full", type: urn("queue-full") },
  origin_busy: {
    status: 503,
    title: "Origin at capacity",
    type: "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
  },
  store_unavailable: {
    status: 503,
    title: "Quota store unavailable",
    type: "https://iana.org/assignments/http-problem-types#temporary-reduced-capacity",
  },
  origin_unreachable: { status: 502, title: "Origin unreachable", type: urn("origin-unreachable") },
  config_invalid: { status: 500, title: "Invalid configuration", type: urn("config-invalid") },
  internal: { status: 500, title: "Internal error", type: urn("internal") },
};

export interface Issue {
  path: string;
  message: string;
}

export class QuotaGateError extends Error {
  readonly code: ErrorCode;
  readonly issues: Issue[];
  /** Extra members for the problem+json body (RFC 9457 extension members). */
  readonly extensions: Record<string, unknown>;

  constructor(
    code: ErrorCode,
    message: string,
    opts: { issues?: Issue[]; extensions?: Record<string, unknown>; cause?: unknown } = {},
  ) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = "QuotaGateError";
    this.code = code;
    this.issues = opts.issues ?? [];
    this.extensions = opts.extensions ?? {};
  }
}

/** Formats issues as one readable sentence: `tiers.free.limits.0.limit: Too small`. */
export function describeIssues(issues: Issue[]): string {
  return issues.map((i) => (i.path ? `${i.path}: ${i.message}` : i.message)).join("; ");
}

// RFC 9457 problem+json responses built from QuotaGateError codes (one table: core/errors.ts).
import { type ErrorCode, type Issue, problemKinds, QuotaGateError } from "../core/errors.ts";

export const PROBLEM_JSON = "application/problem+json";

export function problem(
  code: ErrorCode,
  detail: string,
  opts: {
    instance?: string;
    issues?: Issue[];
    extensions?: Record<string, unknown>;
    headers?: HeadersInit;
  } = {},
): Response {
  const kind = problemKinds[code];
  const body: Record<string, unknown> = {
    type: kind.type,
    title: kind.title,
    status: kind.status,
    detail,
    ...(opts.instance ? { instance: opts.instance } : {}),
    ...(opts.issues?.length ? { errors: opts.issues } : {}),
    ...opts.extensions,
  };
  const headers = new Headers(opts.headers);
  headers.set("content-type", PROBLEM_JSON);
  headers.set("cache-control", "no-store");
  return new Response(JSON.stringify(body), { status: kind.status, headers });
}

export function problemFromError(err: unknown, instance?: string): Response {
  if (err instanceof QuotaGateError) {
    return problem(err.code, err.message, {
      issues: err.issues,
      extensions: err.extensions,
      ...(instance ? { instance } : {}),
      // A store outage is brief or the breaker answers for it: clients may come back shortly.
      ...(err.code === "store_unavailable" ? { headers: { "retry-after": "1" } } : {}),
    });
  }
  console.error("quotagate: unexpected error", err);
  return problem("internal", "unexpected error; see the worker logs", instance ? { instance } : {});
}

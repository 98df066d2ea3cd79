// Input of the admin routes: query strings, path parameters and JSON bodies checked against their zod schemas. A
// failure is a 400 problem listing every issue (path + message); malformed JSON is a 400, an oversized body a 413.
import type { z } from "zod";
import { describeIssues, type Issue, QuotaGateError } from "../../core/errors.ts";

/** Admin bodies are small (1,000 tenant ids of 128 characters fit). */
export const MAX_BODY_BYTES = 256 * 1024;

/** Zod issues as problem+json `errors`: one per unknown key, paths joined with dots. */
export function issuesOf(error: z.ZodError): Issue[] {
  return error.issues.flatMap((i) => {
    const path = i.path.map(String);
    if (i.code === "unrecognized_keys")
      return i.keys.map((k) => ({ path: [...path, k].join("."), message: "unknown field" }));
    return [{ path: path.join("."), message: i.message }];
  });
}

export function invalid(where: string, issues: Issue[]): QuotaGateError {
  return new QuotaGateError("validation_failed", `invalid ${where}: ${describeIssues(issues)}`, { issues });
}

/** Parses `input` or throws a validation problem naming every issue. */
export function parseWith<S extends z.ZodType>(schema: S, input: unknown, where: string): z.output<S> {
  const r = schema.safeParse(input);
  if (!r.success) throw invalid(where, issuesOf(r.error));
  return r.data;
}

/** The query string as an object; empty values (`?limit=`) count as absent, the last of repeated names wins. */
export function queryOf(url: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [k, v] of new URL(url).searchParams) if (v !== "") out[k] = v;
  return out;
}

/** The request body as JSON (any content type: curl -d sends form encoding by default). */
export async function readJson(req: Request): Promise<unknown> {
  const declared = Number(req.headers.get("content-length") ?? "0");
  if (declared > MAX_BODY_BYTES)
    throw new QuotaGateError(
      "payload_too_large",
      `the body is ${declared} bytes; the limit is ${MAX_BODY_BYTES}`,
    );
  const text = await req.text();
  if (text.length > MAX_BODY_BYTES)
    throw new QuotaGateError("payload_too_large", `the body is over ${MAX_BODY_BYTES} bytes`);
  const bad = (message: string) =>
    new QuotaGateError("bad_request", `malformed JSON body: ${message}`, { issues: [{ path: "", message }] });
  if (text.trim() === "") throw bad("the body is empty; send a JSON object");
  try {
    return JSON.parse(text);
  } catch (err) {
    throw bad((err as Error).message);
  }
}

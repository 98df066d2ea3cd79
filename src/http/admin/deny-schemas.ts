// Zod schemas of the deny-list routes: path values normalised by the deny rules (tenant id, SHA-256 hex of an API
// key, CIDR range), the optional body, and the answers; /admin/openapi.json documents them.
import * as z from "zod";
import type { DenyKind } from "../../core/deny.ts";
import type { CompiledPolicy } from "../../policy/compiled-policy.ts";
import { DENY_REASON_MAX, normaliseDenyValue } from "../../policy/deny-rules.ts";

/** Path segment of each kind under /admin/deny, and its parameter name. */
export const DENY_PATHS: Record<DenyKind, { segment: string; param: string; what: string }> = {
  tenant: { segment: "tenants", param: "id", what: "Tenant id." },
  key: { segment: "keys", param: "sha256", what: "SHA-256 of the API key, 64 hex digits." },
  ip: {
    segment: "ips",
    param: "cidr",
    what: "IPv4 or IPv6 CIDR range (or one address); its slash URL-encoded as %2F or left as is.",
  },
};

const denyKindSchema = z.enum(["tenant", "key", "ip"]);

const value = (kind: DenyKind, maxIdLength: number) =>
  z
    .string()
    .transform((raw, ctx) => {
      const n = normaliseDenyValue(kind, raw, maxIdLength);
      if (n.ok) return n.value;
      ctx.addIssue({ code: "custom", message: n.message });
      return z.NEVER;
    })
    .describe(DENY_PATHS[kind].what);

export function createDenySchemas(policy: CompiledPolicy) {
  const max = policy.policy.identity.maxIdLength;
  const params = (kind: DenyKind) => z.strictObject({ [DENY_PATHS[kind].param]: value(kind, max) });
  return { tenant: params("tenant"), key: params("key"), ip: params("ip") };
}

export const denyBodySchema = z
  .strictObject({
    reason: z
      .string()
      .min(1, "must not be empty")
      .max(DENY_REASON_MAX, `must be at most ${DENY_REASON_MAX} characters`)
      .optional()
      .describe("Your note: why (kept in the list, never shown to the refused client)."),
  })
  .describe("Optional; an empty body is the same as {}.");

const denyEntrySchema = z.strictObject({
  value: z.string().describe("The normal form: a tenant id, lower-case hex, or `<network>/<prefix>`."),
  reason: z.string().nullable(),
  created_at: z.string().describe("ISO 8601."),
});

const propagation = z
  .number()
  .int()
  .describe("Seconds until every isolate applies a change (QUOTA_CACHE_TTL); the serving isolate at once.");

export const denyListResponseSchema = z.strictObject({
  success: z.literal(true),
  tenants: z.array(denyEntrySchema),
  keys: z.array(denyEntrySchema),
  ips: z.array(denyEntrySchema),
  total: z.number().int(),
  propagation_seconds: propagation,
});

export const denyPutResponseSchema = z.strictObject({
  success: z.literal(true),
  kind: denyKindSchema,
  ...denyEntrySchema.shape,
  propagation_seconds: propagation,
});

export const denyDeleteResponseSchema = z.strictObject({
  success: z.literal(true),
  kind: denyKindSchema,
  value: z.string(),
  removed: z.boolean().describe("false when there was no such entry (DELETE is idempotent)."),
  propagation_seconds: propagation,
});

export type DenySchemas = ReturnType<typeof createDenySchemas>;

// The deny-list hash read back from Redis, validated like any input: a field or value that does not parse (written
// by hand, or by another version) is logged and skipped, never a surprise at request time.
import * as z from "zod";
import { DENY_KINDS, type DenyEntry, type DenyKind } from "../core/deny.ts";

const valueSchema = z.object({
  reason: z.string().optional(),
  created: z.number().int().nonnegative(),
});

/** Entries of a `<kind>:<value>` -> JSON hash. */
export function parseDenyHash(hash: Record<string, string>): DenyEntry[] {
  const out: DenyEntry[] = [];
  for (const [field, raw] of Object.entries(hash)) {
    const at = field.indexOf(":");
    const kind = field.slice(0, at) as DenyKind;
    let json: unknown;
    try {
      json = JSON.parse(raw);
    } catch {
      json = undefined;
    }
    const v = valueSchema.safeParse(json);
    if (at <= 0 || !DENY_KINDS.includes(kind) || !v.success) {
      console.error(`quotagate: deny-list field "${field}" does not validate; it is ignored`);
      continue;
    }
    out.push({
      kind,
      value: field.slice(at + 1),
      ...(v.data.reason === undefined ? {} : { reason: v.data.reason }),
      createdAtMs: v.data.created,
    });
  }
  return out;
}

// Deny-list entries: a tenant, an API key (by the SHA-256 of the key) or a client IP range refused with a 403.

export type DenyKind = "tenant" | "key" | "ip";

export const DENY_KINDS: readonly DenyKind[] = ["tenant", "key", "ip"];

export interface DenyEntry {
  kind: DenyKind;
  /** Normalised: a tenant id, 64 lower-case hex digits, or a CIDR range `<network>/<prefix>`. */
  value: string;
  /** The operator's note (never shown to the refused client). */
  reason?: string;
  createdAtMs: number;
}

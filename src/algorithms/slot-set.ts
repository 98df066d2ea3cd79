// Concurrency slots as the stores hold them (the Lua SLOTS scripts mirror this): per scope, a set of slot ids, each
// with its expiry. Expired slots are dropped before any count, so a holder that stopped renewing gives its slot back.

/** Slot id -> expiry (epoch ms). */
export type SlotSet = Map<string, number>;

/** Drops the slots whose expiry is at or before `nowMs`. */
export function dropExpired(set: SlotSet, nowMs: number): void {
  for (const [id, exp] of set) if (exp <= nowMs) set.delete(id);
}

/**
 * Takes slot `id` in every set, all or nothing: each must have room (fewer than its limit held), unless it holds `id`
 * already (a resent call takes nothing more). True when taken; the sets are changed only then.
 */
export function takeSlots(
  sets: SlotSet[],
  limits: number[],
  id: string,
  nowMs: number,
  ttlMs: number,
): boolean {
  for (const s of sets) dropExpired(s, nowMs);
  const ok = sets.every((s, i) => s.has(id) || s.size < limits[i]!);
  if (ok) for (const s of sets) s.set(id, nowMs + ttlMs);
  return ok;
}

/** Extends slot `id` where it is still held and not expired; returns in how many sets. */
export function renewSlots(sets: SlotSet[], id: string, nowMs: number, ttlMs: number): number {
  let n = 0;
  for (const s of sets) {
    const exp = s.get(id);
    if (exp !== undefined && exp > nowMs) {
      s.set(id, nowMs + ttlMs);
      n++;
    }
  }
  return n;
}

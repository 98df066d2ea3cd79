// The sharer registry of one (tenant, limit, period): which isolates drew on it recently, as "id:ts,id:ts". Its
// count splits what is left fairly (algorithms/acquire.ts fairGrant). Mirrored in the Lua acquire script.

/** Isolates that acquired for a (tenant, limit, period) within this span count as sharers of what is left: as long
 * as a lease may last (the limiter's lease horizon), since a quiet isolate may still hold and spend one. */
export const SHARER_WINDOW_MS = 60_000;
/** At most this many isolates are remembered per (tenant, limit, period). */
export const SHARER_SLOTS = 16;

export interface Sharers {
  /** Serialized registry to store back. */
  next: string;
  /** False when the stored registry already lists the caller within the last quarter of the window: it still counts
   * the caller for most of the window, so it is not written again (each write is a billed command). */
  write: boolean;
  /** Isolates active within the window, the caller included (>= 1). */
  count: number;
}

export function updateSharers(
  raw: string | null,
  caller: string,
  nowMs: number,
  windowMs: number,
  slots: number,
): Sharers {
  const live: Array<[string, number]> = [];
  let mine = Number.NEGATIVE_INFINITY;
  for (const part of (raw ?? "").split(",")) {
    const at = part.lastIndexOf(":");
    if (at <= 0) continue;
    const id = part.slice(0, at);
    const ts = Number(part.slice(at + 1));
    if (id === caller) {
      if (ts > mine) mine = ts;
    } else if (ts >= nowMs - windowMs) live.push([id, ts]);
  }
  live.sort((a, b) => b[1] - a[1]);
  const kept = [[caller, nowMs] as [string, number], ...live.slice(0, slots - 1)];
  return {
    next: kept.map(([id, ts]) => `${id}:${ts}`).join(","),
    count: kept.length,
    write: mine < nowMs - windowMs / 4,
  };
}

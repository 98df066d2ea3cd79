// A read shared by the stores: an acquisition that takes nothing writes nothing, and answers what is available.
import type { LimitSpec } from "../core/quota.ts";
import type { Store, UsageReading } from "./store.ts";

export async function readByAcquire(
  store: Store,
  tenant: string,
  limits: LimitSpec[],
  nowMs: number,
): Promise<UsageReading[]> {
  const r = await store.acquire(
    tenant,
    limits.map((limit) => ({ limit, min: 0, want: 0 })),
    nowMs,
  );
  return r.items.map((g, i) => ({
    used: Math.max(0, limits[i]!.limit - g.available),
    available: g.available,
    resetAtMs: g.resetAtMs,
  }));
}

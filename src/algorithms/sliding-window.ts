// Approximate sliding window over two fixed buckets (as Cloudflare and @upstash/ratelimit do): the previous
// bucket counts in proportion to how much of it the window still overlaps. Mirrored line by line in the Lua script.

export interface SlidingBuckets {
  /** Index of the current bucket: floor(now / size). */
  index: number;
  startMs: number;
  endMs: number;
  elapsedMs: number;
}

export function slidingBuckets(sizeMs: number, nowMs: number): SlidingBuckets {
  const index = Math.floor(nowMs / sizeMs);
  const startMs = index * sizeMs;
  return { index, startMs, endMs: startMs + sizeMs, elapsedMs: nowMs - startMs };
}

/** Units of the previous bucket still inside the window, rounded up so the estimate never under-counts. */
export function previousWeight(prevUsed: number, sizeMs: number, elapsedMs: number): number {
  return Math.ceil((prevUsed * (sizeMs - elapsedMs)) / sizeMs);
}

export function slidingAvailable(
  limit: number,
  prevUsed: number,
  curUsed: number,
  sizeMs: number,
  nowMs: number,
): number {
  const { elapsedMs } = slidingBuckets(sizeMs, nowMs);
  return Math.max(0, limit - previousWeight(prevUsed, sizeMs, elapsedMs) - curUsed);
}

/**
 * Earliest instant at which `cost` units fit, assuming no other traffic: within the current bucket as the previous
 * bucket's weight decays, else once the current bucket has become the previous one and decayed enough. Never
 * (Infinity) when the cost exceeds the limit.
 */
export function slidingRetryAt(
  limit: number,
  prevUsed: number,
  curUsed: number,
  cost: number,
  sizeMs: number,
  nowMs: number,
): number {
  const b = slidingBuckets(sizeMs, nowMs);
  const room = limit - curUsed - cost;
  if (room >= 0) {
    if (prevUsed <= room) return nowMs;
    // need ceil(prev*(size-e)/size) <= room  <=>  prev*(size-e) <= room*size  <=>  e >= size - room*size/prev
    const e = Math.ceil(sizeMs - (room * sizeMs) / prevUsed);
    return b.startMs + Math.min(sizeMs, Math.max(e, b.elapsedMs));
  }
  // In the next bucket the current count becomes the previous one: need ceil(cur*(size-e)/size) <= limit - cost.
  const nextRoom = limit - cost;
  // A cost above the limit never fits, however long one waits (as in a calendar window or a token bucket).
  if (nextRoom < 0) return Number.POSITIVE_INFINITY;
  if (curUsed === 0) return b.endMs;
  const e = Math.ceil(sizeMs - (nextRoom * sizeMs) / curUsed);
  return b.endMs + Math.min(sizeMs, Math.max(0, e));
}

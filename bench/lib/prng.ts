// Seeded pseudo-random numbers for the benchmark: the same seed gives every variant the same request sequence.

/** mulberry32: a small, fast 32-bit generator; plenty for traffic shapes (not for anything secret). */
export function createPrng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

/** Mixes a base seed with a label so independent streams (arrivals, routing per isolate count) never correlate. */
export function deriveSeed(seed: number, label: string): number {
  let h = (seed ^ 0x811c9dc5) >>> 0;
  for (let i = 0; i < label.length; i++) {
    h ^= label.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

/** Sampler of ranks 0..n-1 with P(rank r) proportional to 1 / (r + 1)^s (Zipf). */
export function createZipf(n: number, s: number, rand: () => number): () => number {
  const cdf = new Float64Array(n);
  let sum = 0;
  for (let r = 0; r < n; r++) {
    sum += 1 / (r + 1) ** s;
    cdf[r] = sum;
  }
  for (let r = 0; r < n; r++) cdf[r]! /= sum;
  return () => {
    const u = rand();
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (cdf[mid]! < u) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

/** Share of traffic the most popular of n ranks gets under Zipf(s). */
export function zipfTopShare(n: number, s: number): number {
  let sum = 0;
  for (let r = 0; r < n; r++) sum += 1 / (r + 1) ** s;
  return 1 / sum;
}

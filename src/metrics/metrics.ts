// Isolate-level counters and histograms and their Prometheus text exposition (format 0.0.4). Labels are bounded sets
// (outcome, reason, op, kind), never request or tenant ids.

type Labels = Record<string, string>;

interface Family {
  help: string;
  type: "counter" | "gauge" | "histogram";
  /** Upper bounds of a histogram's buckets (default: the store latency buckets). */
  buckets?: readonly number[];
}

export const metricFamilies = {
  quotagate_decisions_total: { help: "Quota decisions by outcome and reason.", type: "counter" },
  quotagate_local_decisions_total: { help: "Decisions taken without a store round trip.", type: "counter" },
  quotagate_store_calls_total: { help: "Store round trips by operation.", type: "counter" },
  quotagate_store_errors_total: { help: "Failed store round trips by operation.", type: "counter" },
  quotagate_store_commands_total: {
    help: "Redis commands the store calls cost as Upstash bills them (script commands included; estimated).",
    type: "counter",
  },
  quotagate_store_latency_seconds: { help: "Store round-trip latency.", type: "histogram" },
  quotagate_cache_hits_total: { help: "Isolate cache hits by kind (plan, lease, denial).", type: "counter" },
  quotagate_cache_misses_total: { help: "Isolate cache misses by kind.", type: "counter" },
  quotagate_lease_grants_total: { help: "Lease grants received from the store.", type: "counter" },
  quotagate_lease_units_granted_total: { help: "Units granted by leases.", type: "counter" },
  quotagate_lease_units_returned_total: {
    help: "Unused leased units returned to the store.",
    type: "counter",
  },
  quotagate_flushes_total: { help: "Flushes by outcome.", type: "counter" },
  quotagate_shadow_denials_total: { help: "Requests a shadow limit would have denied.", type: "counter" },
  quotagate_cache_entries: { help: "Tenant books held in the isolate cache.", type: "gauge" },
  quotagate_store_breaker_open: {
    help: "1 while the store's circuit breaker is open (store calls answered by the failure policy).",
    type: "gauge",
  },
  quotagate_store_breaker_transitions_total: {
    help: "Circuit breaker transitions by state entered.",
    type: "counter",
  },
  quotagate_upstash_command_price_usd: {
    help: "Price of one Redis command the cost estimates use (UPSTASH_PRICE_PER_100K / 100000).",
    type: "gauge",
  },
  quotagate_store_commands_per_request: {
    help: "Redis commands per quota decision of this isolate since it started (estimated).",
    type: "gauge",
  },
  quotagate_upstash_usd_per_million_requests: {
    help: "Estimated Upstash dollars per million requests at this isolate's commands per request.",
    type: "gauge",
  },
  quotagate_deny_blocks_total: {
    help: "Requests refused by the deny list, by kind of entry.",
    type: "counter",
  },
  quotagate_deny_list_entries: { help: "Entries of the deny list as this isolate holds it.", type: "gauge" },
  quotagate_queue_depth: { help: "Requests waiting in this isolate's queue.", type: "gauge" },
  quotagate_queue_requests_total: {
    help: "Requests that left the waiting queue, by outcome (admitted, expired, aborted), or found it full.",
    type: "counter",
  },
  quotagate_queue_wait_seconds: {
    help: "Time requests spent in the waiting queue, by outcome.",
    type: "histogram",
    buckets: [0.01, 0.1, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600],
  },
  quotagate_slots_in_use: {
    help: "Concurrency slots held by this isolate's requests in flight, by scope (tenant, origin).",
    type: "gauge",
  },
  quotagate_slot_refusals_total: {
    help: "Slot acquisitions refused because a scope was full, by scope.",
    type: "counter",
  },
} satisfies Record<string, Family>;

export type MetricName = keyof typeof metricFamilies;

/** Upper bounds of the latency histogram, seconds. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5];

const bucketsOf = (name: MetricName): readonly number[] =>
  (metricFamilies[name] as Family).buckets ?? BUCKETS;

/** A label value escaped for the exposition format. Values almost never need it: one test, then the replacements. */
const escapeValue = (v: string) =>
  /[\\"\n]/.test(v) ? v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n") : v;

/** The series key of a label set, names sorted. Every decision counts several series, so the usual sets of none or
 * one label skip the sort. */
const labelKey = (labels: Labels) => {
  const names = Object.keys(labels);
  if (names.length === 0) return "";
  if (names.length > 1) names.sort();
  let key = "";
  for (const k of names) key += `${key ? "," : ""}${k}="${escapeValue(String(labels[k]))}"`;
  return key;
};

interface Histogram {
  counts: number[];
  sum: number;
  count: number;
}

export class Metrics {
  private readonly values = new Map<MetricName, Map<string, number>>();
  private readonly histograms = new Map<MetricName, Map<string, Histogram>>();

  inc(name: MetricName, labels: Labels = {}, by = 1): void {
    let series = this.values.get(name);
    if (!series) {
      series = new Map();
      this.values.set(name, series);
    }
    const k = labelKey(labels);
    series.set(k, (series.get(k) ?? 0) + by);
  }

  set(name: MetricName, value: number, labels: Labels = {}): void {
    let series = this.values.get(name);
    if (!series) {
      series = new Map();
      this.values.set(name, series);
    }
    series.set(labelKey(labels), value);
  }

  observe(name: MetricName, seconds: number, labels: Labels = {}): void {
    let series = this.histograms.get(name);
    if (!series) {
      series = new Map();
      this.histograms.set(name, series);
    }
    const k = labelKey(labels);
    let h = series.get(k);
    const bounds = bucketsOf(name);
    if (!h) {
      h = { counts: bounds.map(() => 0), sum: 0, count: 0 };
      series.set(k, h);
    }
    for (let i = 0; i < bounds.length; i++) if (seconds <= bounds[i]!) h.counts[i]!++;
    h.sum += seconds;
    h.count++;
  }

  /** Sum of a counter over all its label sets, or of those matching `where`. */
  total(name: MetricName, where: Labels = {}): number {
    let sum = 0;
    const want = Object.entries(where).map(([k, v]) => `${k}="${v}"`);
    for (const [k, v] of this.values.get(name) ?? []) if (want.every((w) => k.includes(w))) sum += v;
    return sum;
  }

  /** Observations and their sum of a histogram over all its label sets, with the cumulative count per bucket bound. */
  histogramTotals(name: MetricName): {
    count: number;
    sum: number;
    buckets: Array<[le: number, count: number]>;
  } {
    let count = 0;
    let sum = 0;
    const perBucket = BUCKETS.map(() => 0);
    for (const h of this.histograms.get(name)?.values() ?? []) {
      count += h.count;
      sum += h.sum;
      h.counts.forEach((c, i) => {
        perBucket[i]! += c;
      });
    }
    return { count, sum, buckets: BUCKETS.map((le, i) => [le, perBucket[i]!]) };
  }

  reset(): void {
    this.values.clear();
    this.histograms.clear();
  }

  /** Prometheus text exposition: HELP and TYPE per family, then its samples. */
  render(): string {
    const out: string[] = [];
    for (const [name, fam] of Object.entries(metricFamilies) as Array<[MetricName, Family]>) {
      out.push(`# HELP ${name} ${fam.help}`, `# TYPE ${name} ${fam.type}`);
      if (fam.type === "histogram") {
        for (const [k, h] of this.histograms.get(name) ?? []) {
          const sep = k ? "," : "";
          bucketsOf(name).forEach((b, i) => {
            out.push(`${name}_bucket{${k}${sep}le="${b}"} ${h.counts[i]}`);
          });
          out.push(`${name}_bucket{${k}${sep}le="+Inf"} ${h.count}`);
          out.push(
            `${name}_sum${k ? `{${k}}` : ""} ${h.sum}`,
            `${name}_count${k ? `{${k}}` : ""} ${h.count}`,
          );
        }
        continue;
      }
      const series = this.values.get(name);
      if (!series || series.size === 0) {
        if (fam.type === "counter" || fam.type === "gauge") out.push(`${name} 0`);
        continue;
      }
      for (const [k, v] of series) out.push(`${name}${k ? `{${k}}` : ""} ${v}`);
    }
    return `${out.join("\n")}\n`;
  }
}

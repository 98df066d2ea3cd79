// The Grafana dashboard (docs/grafana-dashboard.json) queries only metrics the registry exposes: each name in a
// panel's PromQL is a family of metricFamilies, or a histogram family's _bucket/_sum/_count series.
import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { metricFamilies } from "./metrics.ts";

interface Panel {
  type: string;
  title: string;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}

const dashboard = JSON.parse(
  readFileSync(new URL("../../docs/grafana-dashboard.json", import.meta.url), "utf8"),
) as { panels: Panel[]; title: string };

const panels = (list: Panel[]): Panel[] => list.flatMap((p) => [p, ...panels(p.panels ?? [])]);
const exprs = panels(dashboard.panels).flatMap((p) =>
  (p.targets ?? []).map((t) => ({ panel: p.title, expr: t.expr })),
);

/** The series names a PromQL expression reads (identifiers in quotagate's namespace). */
const seriesOf = (expr: string) => [...expr.matchAll(/\bquotagate_[a-z0-9_]+/g)].map((m) => m[0]);

function exposed(series: string): boolean {
  const families = metricFamilies as Record<string, { type: string }>;
  if (families[series]) return true;
  const m = /^(.*)_(bucket|sum|count)$/.exec(series);
  return m !== null && families[m[1]!]?.type === "histogram";
}

describe("docs/grafana-dashboard.json", () => {
  it("queries only series the metrics registry exposes", () => {
    expect(exprs.length).toBeGreaterThan(10);
    const unknown = exprs.flatMap(({ panel, expr }) =>
      seriesOf(expr)
        .filter((s) => !exposed(s))
        .map((s) => `${panel}: ${s}`),
    );
    expect(unknown).toEqual([]);
  });

  it("charts decisions, store cost and latency, leases and the deny list", () => {
    const queried = new Set(exprs.flatMap(({ expr }) => seriesOf(expr)));
    for (const name of [
      "quotagate_decisions_total",
      "quotagate_shadow_denials_total",
      "quotagate_store_commands_total",
      "quotagate_upstash_command_price_usd",
      "quotagate_store_latency_seconds_bucket",
      "quotagate_lease_grants_total",
      "quotagate_deny_blocks_total",
    ])
      expect(queried).toContain(name);
  });

  it("recognises a series the registry does not have", () => {
    expect(exposed("quotagate_store_latency_seconds_bucket")).toBe(true);
    expect(exposed("quotagate_decisions_total_bucket")).toBe(false);
    expect(exposed("quotagate_requests_total")).toBe(false);
  });
});

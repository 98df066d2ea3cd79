/** @jsxImportSource hono/jsx */
// The dashboard's HTML shell (hono/jsx): a token form and empty chart frames, no data; its inline style and script
// carry the response's CSP nonce, so nothing else may run or load on the page.
import { raw } from "hono/html";
import { CLIENT_SCRIPT } from "./client-script.ts";

const STYLES = `
:root { color-scheme: light; --fg: #1b1b1b; --muted: #666; --line: #d9d9d9; --bg: #f6f7f9; }
* { box-sizing: border-box; }
[hidden] { display: none !important; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--fg); background: var(--bg); }
header { display: flex; flex-wrap: wrap; align-items: center; gap: 8px 16px; padding: 12px 16px; background: #fff; border-bottom: 1px solid var(--line); }
header h1 { font-size: 18px; margin: 0; }
#status { color: var(--muted); flex: 1 1 12em; min-width: 0; overflow-wrap: anywhere; }
main, #login { padding: 16px; max-width: 1280px; margin: 0 auto; }
#login { display: grid; gap: 8px; max-width: 420px; }
input, button { font: inherit; padding: 8px 10px; border: 1px solid var(--line); border-radius: 6px; }
button { background: #1565c0; color: #fff; border-color: #1565c0; cursor: pointer; }
#signout { background: #fff; color: var(--fg); border-color: var(--line); }
#login-error { color: #c62828; min-height: 1.4em; margin: 0; }
.grid { display: grid; gap: 16px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 340px), 1fr)); }
section { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; min-width: 0; }
section.wide { grid-column: 1 / -1; }
h2 { font-size: 14px; margin: 0 0 8px; }
svg.chart { display: block; width: 100%; height: auto; }
.axis { stroke: #999; stroke-width: 1; }
.tick, .muted { font-size: 12px; fill: var(--muted); }
.big { font-size: 24px; font-weight: 600; fill: var(--fg); }
.legend { display: flex; flex-wrap: wrap; gap: 4px 14px; padding: 0; margin: 6px 0 0; list-style: none; color: var(--muted); }
.legend i { display: inline-block; width: 10px; height: 10px; border-radius: 2px; margin-right: 5px; vertical-align: -1px; }
.allowed { background: #2e7d32; } .denied { background: #c62828; } .shadow { background: #ef6c00; } .blocks { background: #6a1b9a; }
.calls { background: #1565c0; } .commands { background: #00838f; }
.tiles { display: grid; gap: 8px; grid-template-columns: repeat(auto-fit, minmax(min(100%, 140px), 1fr)); }
.tile { border: 1px solid var(--line); border-radius: 6px; padding: 8px; min-width: 0; }
.tile strong { display: block; font-size: 18px; overflow-wrap: anywhere; }
.tile span { color: var(--muted); font-size: 12px; }
table { width: 100%; border-collapse: collapse; table-layout: fixed; }
th, td { text-align: left; padding: 4px 6px; border-bottom: 1px solid var(--line); overflow-wrap: anywhere; word-break: break-word; vertical-align: top; }
th:first-child, td:first-child { width: 4.5em; }
`;

const Legend = (props: { items: Array<[cls: string, label: string]> }) => (
  <ul class="legend">
    {props.items.map(([cls, label]) => (
      <li>
        <i class={cls} />
        {label}
      </li>
    ))}
  </ul>
);

const Chart = (props: { id: string; label: string }) => (
  <svg id={props.id} class="chart" viewBox="0 0 600 60" role="img" aria-label={props.label} data-points="0" />
);

/** Traffic: decisions per minute, tenant rankings, cache. */
const TrafficPanels = () => (
  <>
    <section class="wide">
      <h2>Decisions per minute (this isolate)</h2>
      <Chart id="chart-decisions" label="Allowed, denied and shadow-denied decisions per minute" />
      <Legend
        items={[
          ["allowed", "allowed"],
          ["denied", "denied"],
          ["shadow", "shadow-denied"],
          ["blocks", "deny list"],
        ]}
      />
    </section>
    <section>
      <h2>Top tenants by admitted requests</h2>
      <Chart id="chart-top-usage" label="Tenants with the most admitted requests" />
    </section>
    <section>
      <h2>Top tenants by denials</h2>
      <Chart id="chart-top-denials" label="Tenants with the most denied requests" />
    </section>
    <section>
      <h2>Cache hit rate</h2>
      <Chart id="chart-cache" label="Share of decisions taken from the isolate cache" />
      <div id="cache-tiles" class="tiles" />
    </section>
  </>
);

/** Money and the store: cost, leases, store calls and latency, deny list. */
const StorePanels = () => (
  <>
    <section>
      <h2>Estimated Upstash cost</h2>
      <div id="cost-tiles" class="tiles" />
      <h2>Leases</h2>
      <div id="lease-tiles" class="tiles" />
    </section>
    <section>
      <h2>Store calls per request</h2>
      <Chart id="chart-store-calls" label="Store round trips and Redis commands per request, per minute" />
      <Legend
        items={[
          ["calls", "round trips / request"],
          ["commands", "commands / request"],
        ]}
      />
    </section>
    <section>
      <h2>Store latency (mean ms per minute)</h2>
      <Chart id="chart-store-latency" label="Mean store round-trip latency per minute" />
    </section>
    <section class="wide">
      <h2>
        Deny list (<span id="deny-total">0</span>)
      </h2>
      <table>
        <thead>
          <tr>
            <th>kind</th>
            <th>value</th>
            <th>reason</th>
            <th>since (UTC)</th>
          </tr>
        </thead>
        <tbody id="deny-rows" />
      </table>
      <p id="deny-empty" class="muted">
        Nothing is denied.
      </p>
    </section>
  </>
);

export function DashboardPage(props: { nonce: string }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="referrer" content="no-referrer" />
        <link rel="icon" href="data:," />
        <title>quotagate dashboard</title>
        <style nonce={props.nonce}>{raw(STYLES)}</style>
      </head>
      <body>
        <header>
          <h1>quotagate</h1>
          <span id="status" role="status" />
          <button id="signout" type="button" hidden>
            Forget token
          </button>
        </header>
        <form id="login">
          <label for="token">Admin token (kept in this tab's session storage only)</label>
          <input id="token" name="token" type="password" autocomplete="off" required />
          <button type="submit">Open dashboard</button>
          <p id="login-error" role="alert" />
        </form>
        <main id="dash" hidden>
          <div class="grid">
            <TrafficPanels />
            <StorePanels />
          </div>
        </main>
        <script nonce={props.nonce}>{raw(CLIENT_SCRIPT)}</script>
      </body>
    </html>
  );
}

// The dashboard page's inline script (plain browser JavaScript, no build step): asks for the admin token once, keeps
// it in sessionStorage, fetches GET /admin/dashboard/data with it as a bearer header (never in a URL) and draws the
// charts as inline SVG, again every `refresh_seconds`. A refused token clears it and shows the form again.
export const CLIENT_SCRIPT = String.raw`(function () {
  "use strict";
  var KEY = "quotagate.adminToken";
  var NS = "http://www.w3.org/2000/svg";
  var COLORS = { allowed: "#2e7d32", denied: "#c62828", shadow: "#ef6c00", blocks: "#6a1b9a", calls: "#1565c0", commands: "#00838f", latency: "#5d4037" };
  var timer = null;
  function $(id) { return document.getElementById(id); }
  function el(name, attrs, text) {
    var e = document.createElementNS(NS, name);
    for (var k in attrs) e.setAttribute(k, String(attrs[k]));
    if (text !== undefined) e.textContent = text;
    return e;
  }
  function clear(node) { while (node.firstChild) node.removeChild(node.firstChild); }
  function fmt(x, digits) {
    if (typeof x !== "number" || !isFinite(x)) return "\u2014";
    return x.toLocaleString("en-US", { maximumFractionDigits: digits === undefined ? 2 : digits });
  }
  // Small sums keep three significant digits ($0.0000288), larger ones cents.
  function usd(x) {
    if (typeof x !== "number" || !isFinite(x)) return "\u2014";
    if (x === 0 || x >= 1) return "$" + fmt(x, 2);
    return "$" + x.toLocaleString("en-US", { maximumSignificantDigits: 3, maximumFractionDigits: 20 });
  }
  function hhmm(iso) { return iso.slice(11, 16); }
  function setStatus(text) { $("status").textContent = text; }
  function schedule(seconds) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(load, Math.max(2, seconds) * 1000);
  }
  function showLogin(message) {
    if (timer) { clearTimeout(timer); timer = null; }
    $("dash").hidden = true;
    $("signout").hidden = true;
    $("login").hidden = false;
    $("login-error").textContent = message || "";
    setStatus("");
  }
  // Charts are drawn in CSS pixels at the width the layout gives them, so text keeps its size on any screen.
  function size(svg, height) {
    var w = Math.max(240, Math.round(svg.getBoundingClientRect().width) || 600);
    svg.setAttribute("viewBox", "0 0 " + w + " " + height);
    return w;
  }
  function empty(svg, message) {
    var w = size(svg, 60);
    svg.setAttribute("data-points", "0");
    svg.appendChild(el("text", { x: w / 2, y: 34, "text-anchor": "middle", class: "muted" }, message || "no data yet"));
  }

  // Lines over the minutes: one polyline and its points per series, the largest value on the axis.
  function lineChart(svg, labels, series) {
    clear(svg);
    var H = 200, L = 44, R = 10, T = 12, B = 28;
    var W = size(svg, H);
    var max = 0, points = 0;
    series.forEach(function (s) { s.values.forEach(function (v) { if (v > max) max = v; }); });
    if (max === 0) max = 1;
    var x = function (i) { return L + (labels.length > 1 ? (i * (W - L - R)) / (labels.length - 1) : 0); };
    var y = function (v) { return T + (H - T - B) * (1 - v / max); };
    svg.appendChild(el("line", { x1: L, y1: H - B, x2: W - R, y2: H - B, class: "axis" }));
    svg.appendChild(el("line", { x1: L, y1: T, x2: L, y2: H - B, class: "axis" }));
    svg.appendChild(el("text", { x: L - 6, y: T + 4, "text-anchor": "end", class: "tick" }, fmt(max)));
    svg.appendChild(el("text", { x: L - 6, y: H - B, "text-anchor": "end", class: "tick" }, "0"));
    svg.appendChild(el("text", { x: L, y: H - 8, class: "tick" }, hhmm(labels[0])));
    svg.appendChild(el("text", { x: W - R, y: H - 8, "text-anchor": "end", class: "tick" }, hhmm(labels[labels.length - 1])));
    series.forEach(function (s) {
      var d = s.values.map(function (v, i) { return x(i).toFixed(1) + "," + y(v).toFixed(1); }).join(" ");
      svg.appendChild(el("polyline", { points: d, fill: "none", stroke: s.color, "stroke-width": 2, "data-series": s.name }));
      s.values.forEach(function (v, i) {
        if (v <= 0) return;
        points++;
        var c = el("circle", { cx: x(i), cy: y(v), r: 3, fill: s.color, "data-series": s.name });
        c.appendChild(el("title", {}, s.name + " " + hhmm(labels[i]) + ": " + fmt(v, 3)));
        svg.appendChild(c);
      });
    });
    svg.setAttribute("data-points", String(points));
  }

  // Horizontal bars, largest first.
  function barChart(svg, items, color) {
    clear(svg);
    if (!items.length) return empty(svg);
    var rowH = 22, H = items.length * rowH + 8;
    var W = size(svg, H), labelW = Math.min(170, Math.round(W * 0.4));
    var max = Math.max.apply(null, items.map(function (i) { return i.value; })) || 1;
    items.forEach(function (it, i) {
      var y = 4 + i * rowH;
      var w = Math.max(2, ((W - labelW - 60) * it.value) / max);
      var room = Math.max(6, Math.floor(labelW / 7.5));
      var label = it.label.length > room ? it.label.slice(0, room - 1) + "\u2026" : it.label;
      svg.appendChild(el("text", { x: labelW - 6, y: y + 15, "text-anchor": "end", class: "tick" }, label));
      var bar = el("rect", { x: labelW, y: y + 3, width: w, height: rowH - 6, fill: color, "data-series": "bar" });
      bar.appendChild(el("title", {}, it.label + ": " + fmt(it.value, 0)));
      svg.appendChild(bar);
      svg.appendChild(el("text", { x: labelW + w + 6, y: y + 15, class: "tick" }, fmt(it.value, 0)));
    });
    svg.setAttribute("data-points", String(items.length));
  }

  // A ring: the share of decisions taken from the isolate cache.
  function donut(svg, percent, total) {
    clear(svg);
    if (!total) return empty(svg);
    var cx = size(svg, 170) / 2, r = 62, c = 2 * Math.PI * r;
    svg.appendChild(el("circle", { cx: cx, cy: 85, r: r, fill: "none", stroke: "#e0e0e0", "stroke-width": 22 }));
    svg.appendChild(el("circle", { cx: cx, cy: 85, r: r, fill: "none", stroke: COLORS.allowed, "stroke-width": 22,
      "stroke-dasharray": ((c * percent) / 100).toFixed(1) + " " + c.toFixed(1), transform: "rotate(-90 " + cx + " 85)", "data-series": "hit rate" }));
    svg.appendChild(el("text", { x: cx, y: 94, "text-anchor": "middle", class: "big" }, fmt(percent, 1) + "%"));
    svg.setAttribute("data-points", "1");
  }

  function tiles(node, items) {
    clear(node);
    items.forEach(function (it) {
      var div = document.createElement("div");
      div.className = "tile";
      var v = document.createElement("strong");
      v.textContent = it[1];
      var k = document.createElement("span");
      k.textContent = it[0];
      div.appendChild(v);
      div.appendChild(k);
      node.appendChild(div);
    });
  }

  function denyTable(entries) {
    var body = $("deny-rows");
    clear(body);
    $("deny-empty").hidden = entries.length > 0;
    entries.forEach(function (e) {
      var tr = document.createElement("tr");
      [e.kind, e.value, e.reason || "", e.created_at.slice(0, 16).replace("T", " ")].forEach(function (t) {
        var td = document.createElement("td");
        td.textContent = t;
        tr.appendChild(td);
      });
      body.appendChild(tr);
    });
  }

  var last = null;
  function render(d) {
    last = d;
    var labels = d.minutes.map(function (m) { return m.minute; });
    var col = function (k) { return d.minutes.map(function (m) { return m[k]; }); };
    lineChart($("chart-decisions"), labels, [
      { name: "allowed", color: COLORS.allowed, values: col("allowed") },
      { name: "denied", color: COLORS.denied, values: col("denied") },
      { name: "shadow-denied", color: COLORS.shadow, values: col("shadow_denied") },
      { name: "deny list", color: COLORS.blocks, values: col("deny_blocks") }
    ]);
    barChart($("chart-top-usage"), d.top_usage.map(function (t) { return { label: t.tenant, value: t.requests }; }), COLORS.allowed);
    barChart($("chart-top-denials"), d.top_denials.map(function (t) { return { label: t.tenant, value: t.denials }; }), COLORS.denied);
    donut($("chart-cache"), d.cache.hit_rate_percent, d.cache.hits + d.cache.misses);
    lineChart($("chart-store-calls"), labels, [
      { name: "round trips / request", color: COLORS.calls, values: col("store_calls_per_request") },
      { name: "commands / request", color: COLORS.commands, values: col("store_commands_per_request") }
    ]);
    lineChart($("chart-store-latency"), labels, [{ name: "mean ms", color: COLORS.latency, values: col("store_latency_ms") }]);
    var fleet = d.cost.fleet;
    var flushed = fleet && fleet.requests > 0;
    tiles($("cost-tiles"), [
      ["USD per day (fleet, projected)", flushed ? usd(fleet.usd_per_day) : "\u2014 (no fleet totals yet)"],
      ["USD per million requests", usd(flushed ? fleet.usd_per_million_requests : d.cost.isolate.usd_per_million_requests)],
      ["Redis commands per request", fmt(d.cost.isolate.commands_per_request, 3)],
      ["price per 100k commands", usd(d.cost.price_per_100k_commands_usd)]
    ]);
    tiles($("cache-tiles"), [
      ["decisions from the cache", fmt(d.cache.hits, 0) + " / " + fmt(d.cache.hits + d.cache.misses, 0)],
      ["plan cache hit rate", fmt(d.cache.plan_hit_rate_percent, 1) + "%"],
      ["store round trips", fmt(d.store_latency.calls, 0)],
      ["mean store latency", fmt(d.store_latency.mean_ms, 2) + " ms"]
    ]);
    tiles($("lease-tiles"), [
      ["leases held", fmt(d.leases.held, 0)],
      ["grants", fmt(d.leases.grants, 0)],
      ["units granted", fmt(d.leases.units_granted, 0)],
      ["units returned", fmt(d.leases.units_returned, 0)]
    ]);
    denyTable(d.deny.entries);
    $("deny-total").textContent = String(d.deny.total);
    setStatus("store " + d.store + " \u00b7 updated " + d.generated_at.slice(11, 19) + " UTC \u00b7 every " + d.refresh_seconds + " s");
    $("login").hidden = true;
    $("dash").hidden = false;
    $("signout").hidden = false;
  }

  function load() {
    var token = sessionStorage.getItem(KEY);
    if (!token) return showLogin("");
    fetch("/admin/dashboard/data", { headers: { authorization: "Bearer " + token }, cache: "no-store" })
      .then(function (res) {
        if (res.status === 401) {
          sessionStorage.removeItem(KEY);
          showLogin("The gateway refused this token.");
          return null;
        }
        if (!res.ok) throw new Error("HTTP " + res.status);
        return res.json();
      })
      .then(function (data) {
        if (!data) return;
        render(data);
        schedule(data.refresh_seconds);
      })
      .catch(function (err) {
        setStatus("could not refresh (" + err.message + "); retrying");
        schedule(10);
      });
  }

  $("login").addEventListener("submit", function (ev) {
    ev.preventDefault();
    var value = $("token").value.trim();
    $("token").value = "";
    if (!value) return;
    sessionStorage.setItem(KEY, value);
    load();
  });
  var resizing = null;
  window.addEventListener("resize", function () {
    if (resizing) clearTimeout(resizing);
    resizing = setTimeout(function () { if (last && !$("dash").hidden) render(last); }, 150);
  });
  $("signout").addEventListener("click", function () {
    sessionStorage.removeItem(KEY);
    showLogin("");
  });
  load();
})();
`;

// The live dashboard: polls /platform/overview every 2 s, loads the last 10 minutes of reports once
// for the chart's history, and draws with the DOM and SVG only (no library, no build step).
"use strict";
(function () {
  var POLL_MS = 2000;
  var WINDOW_MS = 10 * 60 * 1000;
  var MAX_POINTS = 600;
  var COLORS = ["#0b5cad", "#c2410c", "#1a7f37", "#7c3aed", "#b91c1c", "#0e7490", "#a16207", "#be185d", "#4d7c0f", "#475569"];
  var base = location.pathname.replace(/dashboard\/?$/, "");
  var series = {}; // tenant -> [{t: millis, v: throughput}], oldest first
  var colorOf = {};
  var nextColor = 0;

  function $(id) { return document.getElementById(id); }

  function el(tag, text, cls) {
    var e = document.createElement(tag);
    if (text !== undefined && text !== null) e.textContent = String(text);
    if (cls) e.className = cls;
    return e;
  }

  function color(tenant) {
    if (!colorOf[tenant]) colorOf[tenant] = COLORS[nextColor++ % COLORS.length];
    return colorOf[tenant];
  }

  function shortNode(node) {
    if (!node) return "—";
    var m = /@([^:]+:\d+)$/.exec(node);
    return m ? m[1] : node;
  }

  function fmt(n, digits) {
    if (n === null || n === undefined || n < 0) return "—";
    return Number(n).toLocaleString("en", { maximumFractionDigits: digits === undefined ? 1 : digits });
  }

  function addPoint(tenant, t, v) {
    var s = series[tenant] || (series[tenant] = []);
    if (s.length && s[s.length - 1].t >= t) return;
    s.push({ t: t, v: v });
    while (s.length > MAX_POINTS) s.shift();
  }

  function replaceRows(tbody, rows, emptyText, columns) {
    tbody.textContent = "";
    if (!rows.length) {
      var tr = el("tr");
      var td = el("td", emptyText, "empty");
      td.colSpan = columns;
      tr.appendChild(td);
      tbody.appendChild(tr);
      return;
    }
    rows.forEach(function (r) { tbody.appendChild(r); });
  }

  function renderTenants(tenants) {
    replaceRows($("tenants"), tenants.map(function (t) {
      var tr = el("tr");
      tr.setAttribute("data-tenant", t.tenant);
      tr.setAttribute("data-throughput", String(t.throughput));
      var name = el("td");
      var sw = el("span", null, "swatch");
      sw.style.background = color(t.tenant);
      name.appendChild(sw);
      name.appendChild(document.createTextNode(t.tenant));
      tr.appendChild(name);
      tr.appendChild(el("td", shortNode(t.node)));
      tr.appendChild(el("td", t.state, "state-" + t.state));
      tr.appendChild(el("td", fmt(t.throughput), "num throughput"));
      tr.appendChild(el("td", fmt(t.backlog, 0), "num"));
      tr.appendChild(el("td", fmt(t.latencyP99Millis, 0), "num"));
      tr.appendChild(el("td", fmt(t.errors, 0), "num"));
      return tr;
    }), "no tenant has reported yet", 7);
  }

  function renderNodes(nodes) {
    replaceRows($("nodes"), nodes.map(function (n) {
      var tr = el("tr");
      tr.setAttribute("data-node", n.node);
      tr.appendChild(el("td", shortNode(n.node), n.saturated ? "saturated" : ""));
      tr.appendChild(el("td", n.status, "status-" + n.status));
      tr.appendChild(el("td", fmt(n.cpu * 100, 0) + " %" + (n.busy ? " (busy)" : ""), "num"));
      tr.appendChild(el("td", fmt(n.demand), "num"));
      tr.appendChild(el("td", n.tenants, "num"));
      return tr;
    }), "no members", 5);
  }

  function renderDecisions(decisions, inFlight) {
    var moving = {};
    inFlight.forEach(function (d) { moving[d.id] = true; });
    replaceRows($("decisions"), decisions.map(function (d) {
      var tr = el("tr");
      tr.appendChild(el("td", new Date(d.decided_at).toLocaleTimeString()));
      tr.appendChild(el("td", d.tenant));
      tr.appendChild(el("td", d.kind));
      tr.appendChild(el("td", shortNode(d.from) + " → " + shortNode(d.to)));
      var handOff = moving[d.id] ? "in flight" : d.hand_off_ms === undefined ? "—" : fmt(d.hand_off_ms / 1000, 2) + " s";
      tr.setAttribute("data-kind", d.kind);
      tr.appendChild(el("td", handOff, "num"));
      tr.appendChild(el("td", d.reason, "reason"));
      return tr;
    }), "no decisions yet", 6);
  }

  var SVG = "http://www.w3.org/2000/svg";
  function svg(tag, attrs, text) {
    var e = document.createElementNS(SVG, tag);
    Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined) e.textContent = text;
    return e;
  }

  function renderChart(now) {
    var chart = $("chart");
    var W = 900, H = 260, L = 48, R = 8, T = 8, B = 22;
    var max = 0, earliest = now;
    Object.keys(series).forEach(function (k) {
      series[k] = series[k].filter(function (p) { return p.t >= now - WINDOW_MS; });
      series[k].forEach(function (p) { if (p.v > max) max = p.v; if (p.t < earliest) earliest = p.t; });
    });
    // The window: the data's span, at least a minute and at most ten.
    var span = Math.min(WINDOW_MS, Math.max(60000, now - earliest));
    var from = now - span;
    max = max > 0 ? max * 1.1 : 1;
    function x(t) { return L + (t - from) / span * (W - L - R); }
    function y(v) { return T + (1 - v / max) * (H - T - B); }
    chart.textContent = "";
    for (var i = 0; i <= 4; i++) {
      var v = max * i / 4;
      chart.appendChild(svg("line", { x1: L, x2: W - R, y1: y(v), y2: y(v), stroke: "#eceef2" }));
      chart.appendChild(svg("text", { x: L - 6, y: y(v) + 4, "text-anchor": "end" }, fmt(v, v < 10 ? 1 : 0)));
    }
    for (var k = 0; k <= 5; k++) {
      var ago = span * (5 - k) / 5;
      var label = k === 5 ? "now" : ago >= 120000 ? "-" + Math.round(ago / 60000) + " min" : "-" + Math.round(ago / 1000) + " s";
      chart.appendChild(svg("text", { x: x(now - ago), y: H - 6, "text-anchor": k === 0 ? "start" : k === 5 ? "end" : "middle" }, label));
    }
    var legend = $("legend");
    legend.textContent = "";
    Object.keys(series).sort().forEach(function (tenant) {
      var pts = series[tenant];
      if (!pts.length) return;
      var d = pts.map(function (p) { return x(p.t).toFixed(1) + "," + y(p.v).toFixed(1); }).join(" ");
      chart.appendChild(svg("polyline", { points: d, fill: "none", stroke: color(tenant), "stroke-width": 2, "data-tenant": tenant }));
      var last = pts[pts.length - 1];
      chart.appendChild(svg("circle", { cx: x(last.t), cy: y(last.v), r: 3, fill: color(tenant) }));
      var item = el("span");
      var sw = el("span", null, "swatch");
      sw.style.background = color(tenant);
      item.appendChild(sw);
      item.appendChild(document.createTextNode(tenant + " " + fmt(last.v) + "/s"));
      legend.appendChild(item);
    });
  }

  function getJson(path) {
    return fetch(base + path, { cache: "no-store" }).then(function (r) {
      if (!r.ok) return r.text().then(function (t) { throw new Error(r.status + " " + t.slice(0, 200)); });
      return r.json();
    });
  }

  function poll() {
    getJson("platform/overview").then(function (o) {
      var at = Date.parse(o.at);
      $("self").textContent = shortNode(o.node);
      $("balancer").textContent = shortNode(o.balancerNode);
      if (o.nodesWanted) {
        $("nodes-count").textContent = o.nodesWanted.nodes;
        $("nodes-wanted").textContent = o.nodesWanted.nodesWanted;
        $("nodes-wanted").title = o.nodesWanted.reason || "";
      }
      $("updated").textContent = new Date(at).toLocaleTimeString();
      $("error").textContent = "";
      o.tenants.forEach(function (t) { if (t.reportedAt) addPoint(t.tenant, Date.parse(t.reportedAt), t.throughput); });
      renderTenants(o.tenants);
      renderNodes(o.nodes);
      renderDecisions(o.decisions, o.inFlight || []);
      renderChart(at);
    }).catch(function (e) {
      $("error").textContent = "(" + e.message + ")";
    }).then(function () { setTimeout(poll, POLL_MS); });
  }

  getJson("platform/reports?minutes=10").then(function (r) {
    r.reports.slice().reverse().forEach(function (p) { addPoint(p.tenant, Date.parse(p.at), p.throughput); });
  }).catch(function () { /* history is a nicety: the live polls still draw */ }).then(poll);
})();

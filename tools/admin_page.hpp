// The status page `peerlite serve --admin` serves at `/`: one HTML document with its CSS and
// script inline, fetching nothing but /_status from the same server (no fonts, no CDN), so it
// works on an offline machine. It polls /_status every second and shows the live connection
// count (the element with id "connections", read by tests/tools/admin_test.cpp), documents
// per second in and out computed from successive polls, the totals, and a table of the live
// connections.
//
// Thread safety: a constant.
#pragma once

#include <string_view>

namespace peerlite::tools {

inline constexpr std::string_view kAdminPage = R"PAGE(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>peerlite hub</title>
<style>
  :root { --fg: #1d2330; --muted: #6b7385; --line: #e3e6ec; --accent: #2f6fdb; --bad: #c0392b; }
  * { box-sizing: border-box; }
  body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif;
         color: var(--fg); background: #f6f7f9; }
  header { padding: 14px 24px; background: #fff; border-bottom: 1px solid var(--line);
           display: flex; align-items: baseline; gap: 16px; }
  header h1 { font-size: 18px; margin: 0; }
  #state { color: var(--muted); }
  #state.bad { color: var(--bad); }
  main { padding: 20px 24px; }
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(170px, 1fr));
           gap: 12px; margin-bottom: 20px; }
  .tile { background: #fff; border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px; }
  .tile .label { color: var(--muted); font-size: 12px; text-transform: uppercase;
                 letter-spacing: .04em; }
  .tile .value { font-size: 26px; font-weight: 600; font-variant-numeric: tabular-nums; }
  .tile .sub { color: var(--muted); font-size: 12px; }
  .tile .value.small { font-size: 19px; line-height: 39px; white-space: nowrap; }
  table { width: 100%; border-collapse: collapse; background: #fff;
          border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
  th, td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line);
           font-variant-numeric: tabular-nums; white-space: nowrap; }
  th { background: #fafbfc; color: var(--muted); font-weight: 600; font-size: 12px; }
  td.num, th.num { text-align: right; }
  .pill { display: inline-block; padding: 1px 8px; border-radius: 10px; font-size: 12px;
          background: #eef1f6; }
  .pill.busy { background: #dbe8ff; color: var(--accent); }
  .pill.idle { background: #e4f5ea; color: #23784a; }
  #empty { color: var(--muted); padding: 10px 0; }
</style>
</head>
<body>
<header>
  <h1>peerlite hub</h1>
  <span id="state">connecting to /_status&hellip;</span>
</header>
<main>
  <div class="tiles">
    <div class="tile"><div class="label">Live connections</div>
      <div class="value" id="connections">&ndash;</div><div class="sub" id="states"></div></div>
    <div class="tile"><div class="label">Docs/s in</div>
      <div class="value" id="rate-in">&ndash;</div><div class="sub" id="total-in"></div></div>
    <div class="tile"><div class="label">Docs/s out</div>
      <div class="value" id="rate-out">&ndash;</div><div class="sub" id="total-out"></div></div>
    <div class="tile"><div class="label">Network</div>
      <div class="value small" id="bytes">&ndash;</div><div class="sub">received / sent</div></div>
    <div class="tile"><div class="label">Commits</div>
      <div class="value" id="commits">&ndash;</div><div class="sub" id="commit-sub"></div></div>
    <div class="tile"><div class="label">Errors</div>
      <div class="value" id="errors">&ndash;</div><div class="sub" id="error-sub"></div></div>
    <div class="tile"><div class="label">Memory</div>
      <div class="value" id="rss">&ndash;</div><div class="sub" id="fds"></div></div>
  </div>
  <table>
    <thead><tr><th>id</th><th>transport</th><th>peer</th><th>user</th><th>activity</th>
      <th class="num">docs in</th><th class="num">docs out</th><th>connected</th></tr></thead>
    <tbody id="rows"></tbody>
  </table>
  <div id="empty">No live connections.</div>
</main>
<script>
"use strict";
const POLL_MS = 1000;  // how often /_status is read
let last = null;       // the previous reading: {t, docs_in, docs_out}

const $ = (id) => document.getElementById(id);
const sum = (o) => Object.values(o || {}).reduce((a, b) => a + b, 0);
function bytes(n) {
  const units = ["B", "KiB", "MiB", "GiB", "TiB"];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i ? n.toFixed(1) : String(n)) + " " + units[i];
}
function duration(s) {
  if (s === null || s === undefined) return "";
  s = Math.floor(s);
  const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), r = s % 60;
  return h ? h + "h " + m + "m" : m ? m + "m " + r + "s" : r + "s";
}
function cell(row, text, cls) {
  const td = document.createElement("td");
  td.textContent = text;
  if (cls) td.className = cls;
  row.appendChild(td);
  return td;
}

function show(s, now) {
  $("connections").textContent = String(s.live_connections);
  const states = [];
  for (const [transport, by] of Object.entries(s.states))
    for (const [name, n] of Object.entries(by))
      if (n) states.push(n + " " + transport + " " + name);
  $("states").textContent = states.join(", ");
  if (last) {
    const dt = (now - last.t) / 1000;
    $("rate-in").textContent = dt > 0 ? Math.round((s.docs_in - last.docs_in) / dt) : "0";
    $("rate-out").textContent = dt > 0 ? Math.round((s.docs_out - last.docs_out) / dt) : "0";
  }
  last = {t: now, docs_in: s.docs_in, docs_out: s.docs_out};
  $("total-in").textContent = "total " + s.docs_in;
  $("total-out").textContent = "total " + s.docs_out;
  $("bytes").textContent = bytes(s.bytes_in) + " / " + bytes(s.bytes_out);
  const c = s.commit_seconds, g = s.group_commit_revisions;
  $("commits").textContent = String(c.count);
  $("commit-sub").textContent = c.count
      ? "avg " + (1000 * c.sum / c.count).toFixed(2) + " ms, " +
        (g.count ? (g.sum / g.count).toFixed(1) : 0) + " revs each"
      : "none yet";
  const errors = sum(s.replication_errors), refused = sum(s.refused);
  $("errors").textContent = String(errors + s.revs_rejected.in + s.revs_rejected.out);
  $("error-sub").textContent = "refused " + refused + " (auth " + s.auth_failures +
      "), rejected revs " + (s.revs_rejected.in + s.revs_rejected.out);
  $("rss").textContent = bytes(s.process.resident_memory_bytes);
  $("fds").textContent =
      s.process.open_fds + " open files, cpu " + s.process.cpu_seconds.toFixed(1) + " s";
  const rows = $("rows");
  rows.textContent = "";
  for (const conn of s.connections) {
    const tr = document.createElement("tr");
    cell(tr, String(conn.id));
    cell(tr, conn.transport);
    cell(tr, conn.peer === null ? "?" : conn.peer);
    cell(tr, conn.user === null ? "" : conn.user);
    const act = cell(tr, "");
    const pill = document.createElement("span");
    pill.className = "pill " + conn.activity;
    pill.textContent = conn.activity;
    act.appendChild(pill);
    cell(tr, String(conn.docs_in), "num");
    cell(tr, String(conn.docs_out), "num");
    cell(tr, duration(conn.connected_seconds)).title = conn.since || "";
    rows.appendChild(tr);
  }
  $("empty").style.display = s.connections.length ? "none" : "block";
}

async function poll() {
  try {
    const res = await fetch("/_status", {cache: "no-store"});
    if (!res.ok) throw new Error("HTTP " + res.status);
    const s = await res.json();
    show(s, Date.now());
    $("state").textContent = "updated " + new Date().toLocaleTimeString();
    $("state").className = "";
  } catch (e) {
    $("state").textContent = "cannot read /_status: " + e.message;
    $("state").className = "bad";
  }
  setTimeout(poll, POLL_MS);
}
poll();
</script>
</body>
</html>
)PAGE";

}  // namespace peerlite::tools

/**
 * Live latency page for the control plane: a static HTML page that fetches a JSON snapshot every second and shows
 * the current percentiles per hop (last interval and since start), with a bar per row for the total p99.
 *
 * Mount (src/control):
 *   GET /latency       -> latencyPageHtml({ jsonUrl: '/latency.json' })   (text/html)
 *   GET /latency.json  -> latencySnapshotJson(monitor)                    (application/json)
 * The page forwards a `token` query parameter of its own URL to the JSON request, both as `?token=` and as an
 * `Authorization: Bearer` header, so that it works behind the control plane's token check either way.
 */
import type { LatencyMonitor, LiveSnapshot } from '../util/monitor.js';
import { escapeXml } from '../util/plot.js';

export interface LatencyPageOptions {
  /** URL of the JSON snapshot, relative to the page (default 'latency.json') */
  jsonUrl?: string;
  /** refresh period, ms (default 1000) */
  refreshMs?: number;
  title?: string;
}

export function latencySnapshot(monitor: LatencyMonitor): LiveSnapshot {
  return monitor.snapshot();
}

export function latencySnapshotJson(monitor: LatencyMonitor): string {
  return JSON.stringify(monitor.snapshot());
}

export function latencyPageHtml(opts: LatencyPageOptions = {}): string {
  const jsonUrl = JSON.stringify(opts.jsonUrl ?? 'latency.json');
  const refresh = Math.max(200, Math.floor(opts.refreshMs ?? 1000));
  const title = escapeXml(opts.title ?? 'tickwire latency');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title}</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
 body { font: 13px/1.35 system-ui, sans-serif; margin: 16px; color: #222; background: #fafafa; }
 h1 { font-size: 18px; margin: 0 0 4px; }
 #status { color: #666; margin-bottom: 10px; }
 #status.err { color: #b00020; font-weight: bold; }
 table { border-collapse: collapse; background: #fff; }
 th, td { padding: 3px 8px; border-bottom: 1px solid #e4e4e4; text-align: right; white-space: nowrap; }
 th { background: #f0f0f0; position: sticky; top: 0; }
 td.k, th.k { text-align: left; }
 tr.hop-start td { border-top: 2px solid #bbb; }
 .grp { border-left: 2px solid #ccc; }
 .bar { display: inline-block; height: 9px; background: #4a7fd0; vertical-align: middle; }
 .none { color: #aaa; }
</style></head>
<body>
<h1>${title}</h1>
<div id="status">loading…</div>
<table id="t"><thead>
<tr><th class="k">hop</th><th class="k">venue</th><th class="k">transport</th>
<th class="grp">interval n</th><th>p50</th><th>p99</th><th>max</th>
<th class="grp">total n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th><th class="k">p99</th></tr>
</thead><tbody id="rows"></tbody></table>
<p style="color:#666">latencies in µs (ms where marked); interval = the last completed interval; total = since the engine started.</p>
<script>
(function () {
  var jsonUrl = ${jsonUrl};
  var refreshMs = ${refresh};
  var token = new URLSearchParams(location.search).get('token');
  var HOPS = ['parse','apply','state_write','decide','risk','sign','write','ack','fill','feed_delay','recv_to_state','tick_to_trade','socket_to_send','loop_lateness'];
  function fmt(ns) {
    var us = ns / 1000;
    if (us >= 1000) return (us / 1000).toFixed(us >= 100000 ? 0 : 2) + ' ms';
    if (us >= 100) return us.toFixed(0);
    if (us >= 10) return us.toFixed(1);
    return us.toFixed(2);
  }
  function td(text, cls) { var e = document.createElement('td'); e.textContent = text; if (cls) e.className = cls; return e; }
  function render(snap) {
    var rows = snap.rows.slice().sort(function (a, b) {
      return (HOPS.indexOf(a.hop) - HOPS.indexOf(b.hop)) || a.venue.localeCompare(b.venue) || a.transport.localeCompare(b.transport);
    });
    var maxP99 = 1;
    rows.forEach(function (r) { if (r.total.p99 > maxP99) maxP99 = r.total.p99; });
    var body = document.getElementById('rows');
    var frag = document.createDocumentFragment();
    var prevHop = null;
    rows.forEach(function (r) {
      var tr = document.createElement('tr');
      tr.setAttribute('data-hop', r.hop);
      if (r.hop !== prevHop) tr.className = 'hop-start';
      prevHop = r.hop;
      tr.appendChild(td(r.hop, 'k'));
      tr.appendChild(td(r.venue, 'k'));
      tr.appendChild(td(r.transport, 'k'));
      var i = r.interval;
      tr.appendChild(td(i ? String(i.count) : '0', 'grp' + (i ? '' : ' none')));
      tr.appendChild(td(i ? fmt(i.p50) : '-', i ? '' : 'none'));
      tr.appendChild(td(i ? fmt(i.p99) : '-', i ? '' : 'none'));
      tr.appendChild(td(i ? fmt(i.max) : '-', i ? '' : 'none'));
      var t = r.total;
      tr.appendChild(td(String(t.count), 'grp'));
      tr.appendChild(td(fmt(t.p50)));
      tr.appendChild(td(fmt(t.p90)));
      tr.appendChild(td(fmt(t.p99)));
      tr.appendChild(td(fmt(t.p999)));
      tr.appendChild(td(fmt(t.p9999)));
      tr.appendChild(td(fmt(t.max)));
      var barCell = td('', 'k');
      var bar = document.createElement('span');
      bar.className = 'bar';
      bar.style.width = Math.max(1, Math.round(160 * t.p99 / maxP99)) + 'px';
      barCell.appendChild(bar);
      tr.appendChild(barCell);
      frag.appendChild(tr);
    });
    body.replaceChildren(frag);
    var st = document.getElementById('status');
    st.className = '';
    st.textContent = 'pid ' + snap.pid + ' · ' + rows.length + ' series · interval ' + snap.intervalMs + ' ms · updated ' +
      new Date(snap.at).toISOString().slice(11, 23) + ' UTC';
  }
  function tick() {
    var url = jsonUrl;
    var headers = {};
    if (token) { url += (url.indexOf('?') < 0 ? '?' : '&') + 'token=' + encodeURIComponent(token); headers['authorization'] = 'Bearer ' + token; }
    fetch(url, { headers: headers, cache: 'no-store' })
      .then(function (r) { if (!r.ok) throw new Error('HTTP ' + r.status); return r.json(); })
      .then(render)
      .catch(function (e) { var st = document.getElementById('status'); st.className = 'err'; st.textContent = 'fetch failed: ' + e.message; })
      .then(function () { setTimeout(tick, refreshMs); });
  }
  tick();
})();
</script>
</body></html>
`;
}

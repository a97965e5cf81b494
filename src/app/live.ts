/**
 * Live latency page for the control plane: a static HTML page that fetches a JSON snapshot every second and shows,
 * per hop, two inline SVG plots drawn by the page's own script (no external resource):
 *   - the percentile distribution since start, as `tickwire hist plot` draws it (x: 0%..99.999% on the log-odds
 *     axis log10(1/(1-p)), y: latency), one curve per venue/transport;
 *   - p50 (solid) and p99 (dashed) of each recent interval over the last minutes (the monitor's ring);
 * with a "log latency axis" toggle for both (also `?logy=1` in the URL), then the table of current percentiles
 * per row (last interval and since start) with a bar for the total p99.
 *
 * Mount (src/app/control.ts):
 *   GET /latency                 -> latencyPageHtml({ jsonUrl: 'latency.json' })   (text/html)
 *   GET /latency.json[?since=MS] -> latencySnapshotJson(monitor, since)            (application/json)
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

export function latencySnapshot(monitor: LatencyMonitor, sinceMs?: number): LiveSnapshot {
  return monitor.snapshot(sinceMs);
}

/**
 * latency.json. `sinceMs`: the end (epoch ms) of the last interval the page has; the p50/p99 series then carry only
 * later intervals (a page that keeps 10 minutes of them asks for the whole ring once, then one point per refresh).
 */
export function latencySnapshotJson(monitor: LatencyMonitor, sinceMs?: number): string {
  return JSON.stringify(monitor.snapshot(sinceMs));
}

/** The `since` query parameter of latency.json: absent, or an epoch ms as a plain non-negative integer. */
export function parseSince(v: string | null): number | undefined | 'invalid' {
  if (v === null) return undefined;
  return /^[0-9]{1,15}$/.test(v) ? Number(v) : 'invalid';
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
 h2 { font-size: 14px; margin: 0 0 4px; }
 #status { color: #666; margin-bottom: 10px; }
 #status.err { color: #b00020; font-weight: bold; }
 #controls { margin-bottom: 10px; }
 #controls .note { color: #666; margin-left: 12px; }
 #plots { display: flex; flex-direction: column; gap: 12px; margin-bottom: 16px; }
 section.hop { background: #fff; border: 1px solid #e4e4e4; padding: 8px; }
 section.hop .pair { display: flex; flex-wrap: wrap; gap: 8px; }
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
<div id="controls"><label><input type="checkbox" id="logy"> log latency axis</label><span class="note" id="note"></span></div>
<div id="plots"><div id="noplots" class="none">no samples yet: the plots appear with the first recorded latencies</div></div>
<table id="t"><thead>
<tr><th class="k">hop</th><th class="k">venue</th><th class="k">transport</th>
<th class="grp">interval n</th><th>p50</th><th>p99</th><th>max</th>
<th class="grp">total n</th><th>p50</th><th>p90</th><th>p99</th><th>p99.9</th><th>p99.99</th><th>max</th><th class="k">p99</th></tr>
</thead><tbody id="rows"><tr class="none"><td class="k" colspan="15">no samples yet</td></tr></tbody></table>
<p style="color:#666">latencies in µs (ms where marked); interval = the last completed interval; total = since the engine started.</p>
<script>
(function () {
  var jsonUrl = ${jsonUrl};
  var refreshMs = ${refresh};
  var params = new URLSearchParams(location.search);
  var token = params.get('token');
  var HOPS = ['parse','apply','state_write','decide','risk','sign','write','ack','fill','feed_delay','recv_to_state','tick_to_trade','socket_to_send','loop_lateness'];
  var COLORS = ['#1f77b4','#d62728','#2ca02c','#ff7f0e','#9467bd','#8c564b','#e377c2','#7f7f7f','#bcbd22','#17becf'];
  var W = 520, H = 300, M = { l: 64, r: 40, t: 30, b: 40 };
  var PW = W - M.l - M.r, PH = H - M.t - M.b;
  var last = null;
  var logBox = document.getElementById('logy');
  logBox.checked = params.get('logy') === '1';
  logBox.addEventListener('change', function () {
    var q = new URLSearchParams(location.search);
    if (logBox.checked) q.set('logy', '1'); else q.delete('logy');
    var qs = q.toString();
    history.replaceState(null, '', location.pathname + (qs ? '?' + qs : ''));
    if (last) render(last);
  });
  function fmt(ns) {
    var us = ns / 1000;
    if (us >= 1000) return (us / 1000).toFixed(us >= 100000 ? 0 : 2) + ' ms';
    if (us >= 100) return us.toFixed(0);
    if (us >= 10) return us.toFixed(1);
    return us.toFixed(2);
  }
  function esc(s) { return String(s).replace(/[<>&'"]/g, function (c) { return { '<': '&lt;', '>': '&gt;', '&': '&amp;', "'": '&apos;', '"': '&quot;' }[c]; }); }
  function num(v) { return String(Number(v.toPrecision(4))); }
  function td(text, cls) { var e = document.createElement('td'); e.textContent = text; if (cls) e.className = cls; return e; }
  /** as src/util/plot.ts: 0 -> 0%, 1 -> 90%, 2 -> 99%, 3 -> 99.9% ... */
  function decadeLabel(d) { return d === 0 ? '0%' : (100 - 100 / Math.pow(10, d)).toFixed(Math.max(0, d - 2)) + '%'; }
  function niceCeil(v) {
    if (!(v > 0)) return 1;
    var e = Math.pow(10, Math.floor(Math.log10(v)));
    var ms = [1, 1.2, 1.5, 2, 2.5, 3, 4, 5, 6, 8, 10];
    for (var i = 0; i < ms.length; i++) if (ms[i] * e >= v) return ms[i] * e;
    return 10 * e;
  }
  /**
   * Latency axis over [lo, hi] ns: µs, or ms from 10 ms up (as hist plot); linear from 0 to a round ceiling, or log
   * from the decade below the smallest positive value to the decade above the largest.
   * Returns { unit, y(ns) -> px, ticks: [ns] }.
   */
  function latencyAxis(lo, hi, log) {
    var div = hi >= 1e7 ? 1e6 : 1e3;
    var unit = div === 1e6 ? 'ms' : 'µs';
    var ticks = [];
    if (!log) {
      var top = niceCeil(hi / div);
      for (var i = 0; i <= 5; i++) ticks.push((top * i / 5) * div);
      return { unit: unit, div: div, ticks: ticks, y: function (ns) { return M.t + PH - (ns / div / top) * PH; } };
    }
    var a = Math.floor(Math.log10(Math.max(lo, 1) / div));
    var b = Math.ceil(Math.log10(Math.max(hi, 1) / div));
    if (b <= a) b = a + 1;
    for (var d = a; d <= b; d++) {
      ticks.push(Math.pow(10, d) * div);
      if (b - a <= 2 && d < b) { ticks.push(2 * Math.pow(10, d) * div); ticks.push(5 * Math.pow(10, d) * div); }
    }
    return { unit: unit, div: div, ticks: ticks, y: function (ns) {
      var v = Math.log10(Math.max(ns, Math.pow(10, a) * div) / div);
      return M.t + PH - ((v - a) / (b - a)) * PH;
    } };
  }
  function frame(out, title, ax, xlabel) {
    out.push('<rect x="0" y="0" width="' + W + '" height="' + H + '" fill="#ffffff"/>');
    out.push('<text x="' + (W / 2) + '" y="18" text-anchor="middle" font-size="13">' + esc(title) + '</text>');
    ax.ticks.forEach(function (ns) {
      var y = ax.y(ns).toFixed(1);
      out.push('<line x1="' + M.l + '" y1="' + y + '" x2="' + (M.l + PW) + '" y2="' + y + '" stroke="#dddddd"/>');
      out.push('<text class="ytick" x="' + (M.l - 6) + '" y="' + (Number(y) + 4).toFixed(1) + '" text-anchor="end">' + num(ns / ax.div) + '</text>');
    });
    out.push('<rect x="' + M.l + '" y="' + M.t + '" width="' + PW + '" height="' + PH + '" fill="none" stroke="#333333"/>');
    out.push('<text x="' + (M.l + PW / 2) + '" y="' + (H - 6) + '" text-anchor="middle">' + xlabel + '</text>');
    out.push('<text x="14" y="' + (M.t + PH / 2) + '" text-anchor="middle" transform="rotate(-90 14 ' + (M.t + PH / 2) + ')">Latency (' + ax.unit + ')</text>');
  }
  function legend(out, rows, extra) {
    var wide = 0;
    rows.forEach(function (r) { wide = Math.max(wide, (r.venue + '/' + r.transport).length); });
    out.push('<rect x="' + (M.l + 4) + '" y="' + (M.t + 3) + '" width="' + (28 + wide * 6.2).toFixed(0) + '" height="' + (rows.length * 15 + 4) + '" fill="#ffffff" fill-opacity="0.85"/>');
    rows.forEach(function (r, i) {
      var y = M.t + 14 + i * 15;
      out.push('<rect x="' + (M.l + 8) + '" y="' + (y - 6) + '" width="14" height="3" fill="' + COLORS[i % COLORS.length] + '"/>');
      out.push('<text x="' + (M.l + 26) + '" y="' + (y - 2) + '" font-size="11">' + esc(r.venue + '/' + r.transport) + '</text>');
    });
    if (extra) out.push(extra);
  }
  function svgOpen(cls, hop, log, more) {
    return '<svg xmlns="http://www.w3.org/2000/svg" class="' + cls + '" data-hop="' + esc(hop) + '" data-yscale="' + (log ? 'log' : 'linear') + '"' + (more || '') +
      ' width="' + W + '" height="' + H + '" viewBox="0 0 ' + W + ' ' + H + '" font-family="sans-serif" font-size="11">';
  }
  /** The percentile distribution since start, one curve per venue/transport (as tickwire hist plot). */
  function distSvg(hop, rows, log) {
    var lo = Infinity, hi = 1, xMax = 1;
    rows.forEach(function (r) {
      r.curve.y.forEach(function (v) { if (v > hi) hi = v; if (v > 0 && v < lo) lo = v; });
      r.curve.x.forEach(function (x) { if (x > xMax) xMax = x; });
    });
    var ax = latencyAxis(lo === Infinity ? 1 : lo, hi, log);
    var decades = Math.max(2, Math.ceil(xMax));
    var X = function (x) { return M.l + (x / decades) * PW; };
    var out = [svgOpen('dist', hop, log)];
    frame(out, hop + ': percentile distribution since start', ax, 'Percentile');
    for (var d = 0; d <= decades; d++) {
      var x = X(d).toFixed(1);
      out.push('<line x1="' + x + '" y1="' + M.t + '" x2="' + x + '" y2="' + (M.t + PH) + '" stroke="#dddddd"/>');
      out.push('<text class="xtick" x="' + x + '" y="' + (M.t + PH + 14) + '" text-anchor="middle">' + decadeLabel(d) + '</text>');
    }
    rows.forEach(function (r, i) {
      var c = r.curve, pts = [];
      for (var k = 0; k < c.x.length; k++) pts.push((k === 0 ? 'M' : 'L') + X(c.x[k]).toFixed(1) + ',' + ax.y(c.y[k]).toFixed(1));
      out.push('<path class="curve" data-series="' + esc(r.venue + '/' + r.transport) + '" data-n="' + c.x.length + '" d="' + pts.join(' ') +
        '" fill="none" stroke="' + COLORS[i % COLORS.length] + '" stroke-width="2"><title>' + esc(r.venue + '/' + r.transport) + '</title></path>');
    });
    legend(out, rows);
    out.push('</svg>');
    return out.join('');
  }
  /** p50 (solid) and p99 (dashed) of each recent interval; a gap where an interval recorded nothing. */
  function recentSvg(hop, rows, t, log) {
    var lo = Infinity, hi = 1;
    rows.forEach(function (r) {
      r.recent.p50.concat(r.recent.p99).forEach(function (v) { if (v !== null) { if (v > hi) hi = v; if (v > 0 && v < lo) lo = v; } });
    });
    var ax = latencyAxis(lo === Infinity ? 1 : lo, hi, log);
    var t1 = t.length ? t[t.length - 1] : 0;
    var t0 = t.length > 1 ? t[0] : t1 - 1000;
    var X = function (ms) { return M.l + ((ms - t0) / (t1 - t0)) * PW; };
    var span = t1 - t0;
    var out = [svgOpen('recent', hop, log, ' data-points="' + t.length + '"')];
    var mins = span / 60000;
    var win = mins >= 1 ? mins.toFixed(mins < 10 ? 1 : 0) + ' min' : span >= 2000 ? Math.round(span / 1000) + ' s' : t.length + ' intervals';
    frame(out, hop + ': p50 / p99 per ' + (last && last.intervalMs ? last.intervalMs / 1000 + ' s' : 'interval') + ', last ' + win, ax, 'time before the last interval (UTC ' + new Date(t1).toISOString().slice(11, 19) + ')');
    var steps = [1000, 5000, 10000, 15000, 30000, 60000, 120000, 300000, 600000];
    var step = steps[steps.length - 1];
    for (var i = 0; i < steps.length; i++) if (span / steps[i] <= 8) { step = steps[i]; break; }
    for (var ago = 0; ago <= span; ago += step) {
      var x = X(t1 - ago).toFixed(1);
      out.push('<line x1="' + x + '" y1="' + M.t + '" x2="' + x + '" y2="' + (M.t + PH) + '" stroke="#eeeeee"/>');
      var lab = ago === 0 ? 'now' : ago % 60000 === 0 ? '-' + ago / 60000 + 'm' : '-' + ago / 1000 + 's';
      out.push('<text class="xtick" x="' + x + '" y="' + (M.t + PH + 14) + '" text-anchor="middle">' + lab + '</text>');
    }
    rows.forEach(function (r, i) {
      ['p50', 'p99'].forEach(function (which) {
        var vs = r.recent[which], d = [], n = 0, pen = false;
        for (var k = 0; k < vs.length && k < t.length; k++) {
          if (vs[k] === null) { pen = false; continue; }
          n++;
          var px = X(t[k]).toFixed(1), py = ax.y(vs[k]).toFixed(1);
          d.push((pen ? 'L' : 'M') + px + ',' + py + (pen ? '' : ' l0.1,0'));
          pen = true;
        }
        out.push('<path class="' + which + '" data-series="' + esc(r.venue + '/' + r.transport) + '" data-n="' + n + '" d="' + (d.join(' ') || 'M0,0') +
          '" fill="none" stroke="' + COLORS[i % COLORS.length] + '" stroke-width="' + (which === 'p50' ? 2 : 1.5) + '" stroke-linecap="round"' +
          (which === 'p99' ? ' stroke-dasharray="5,3"' : '') + '><title>' + esc(r.venue + '/' + r.transport + ' ' + which) + '</title></path>');
      });
    });
    legend(out, rows, '<text x="' + (M.l + PW - 8) + '" y="' + (M.t + 12) + '" text-anchor="end" font-size="11">solid p50 · dashed p99</text>');
    out.push('</svg>');
    return out.join('');
  }
  function sortRows(rows) {
    return rows.slice().sort(function (a, b) {
      return (HOPS.indexOf(a.hop) - HOPS.indexOf(b.hop)) || a.venue.localeCompare(b.venue) || a.transport.localeCompare(b.transport);
    });
  }
  function renderPlots(snap, rows) {
    var log = logBox.checked;
    var byHop = [];
    rows.forEach(function (r) {
      var g = byHop.length ? byHop[byHop.length - 1] : null;
      if (!g || g.hop !== r.hop) byHop.push(g = { hop: r.hop, rows: [] });
      g.rows.push(r);
    });
    var html = byHop.map(function (g) {
      return '<section class="hop" data-hop="' + esc(g.hop) + '"><h2>' + esc(g.hop) + '</h2><div class="pair">' +
        distSvg(g.hop, g.rows, log) + recentSvg(g.hop, g.rows, snap.recentEndMs || [], log) + '</div></section>';
    }).join('');
    document.getElementById('plots').innerHTML = html || '<div id="noplots" class="none">no samples yet: the plots appear with the first recorded latencies</div>';
  }
  function renderTable(rows) {
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
    if (!rows.length) {
      var empty = document.createElement('tr');
      empty.className = 'none';
      var cell = td('no samples yet', 'k');
      cell.colSpan = 15;
      empty.appendChild(cell);
      frag.appendChild(empty);
    }
    body.replaceChildren(frag);
  }
  var hist = null;
  function keyOf(r) { return r.hop + '/' + r.venue + '/' + r.transport; }
  function orNull(v) { return v === undefined ? null : v; }
  /**
   * Keep the p50/p99 series across refreshes: the first answer brings the server's whole ring, later ones (asked
   * with ?since=) only the intervals after the last one kept; a restarted engine or an answer that does not continue
   * what is kept starts over. Keeps at most recentMax intervals.
   */
  function merge(snap) {
    var t = snap.recentEndMs || [];
    var lastT = hist && hist.t.length ? hist.t[hist.t.length - 1] : null;
    var cont = hist && snap.recentSince !== null && snap.recentSince !== undefined && snap.recentSince === lastT &&
      hist.pid === snap.pid && hist.startedAt === snap.startedAt;
    if (!cont) hist = { pid: snap.pid, startedAt: snap.startedAt, t: [], s: {} };
    var old = hist.t.length;
    snap.rows.forEach(function (r) {
      var k = keyOf(r), e = hist.s[k];
      if (!e) {
        e = hist.s[k] = { p50: [], p99: [] };
        for (var i = 0; i < old; i++) { e.p50.push(null); e.p99.push(null); }
      }
      for (var j = 0; j < t.length; j++) { e.p50.push(orNull(r.recent.p50[j])); e.p99.push(orNull(r.recent.p99[j])); }
    });
    hist.t = hist.t.concat(t);
    var cut = Math.max(0, hist.t.length - (snap.recentMax || hist.t.length));
    hist.t = hist.t.slice(cut);
    Object.keys(hist.s).forEach(function (k) {
      var e = hist.s[k];
      while (e.p50.length < old + t.length) { e.p50.push(null); e.p99.push(null); }
      e.p50 = e.p50.slice(cut);
      e.p99 = e.p99.slice(cut);
    });
    snap.rows.forEach(function (r) { r.recent = hist.s[keyOf(r)]; });
    snap.recentEndMs = hist.t;
  }
  function render(snap) {
    merge(snap);
    last = snap;
    var rows = sortRows(snap.rows);
    renderTable(rows); // first: the table stays up to date even if a plot cannot be drawn
    renderPlots(snap, rows);
    var t = snap.recentEndMs || [];
    document.getElementById('note').textContent = 'distribution: since start · p50/p99: ' + t.length + ' intervals of ' + snap.intervalMs + ' ms';
    var st = document.getElementById('status');
    st.className = '';
    st.textContent = 'pid ' + snap.pid + ' · ' + rows.length + ' series · interval ' + snap.intervalMs + ' ms · updated ' +
      new Date(snap.at).toISOString().slice(11, 23) + ' UTC';
  }
  function tick() {
    var q = [];
    var headers = {};
    if (token) { q.push('token=' + encodeURIComponent(token)); headers['authorization'] = 'Bearer ' + token; }
    if (hist && hist.t.length) q.push('since=' + hist.t[hist.t.length - 1]);
    var url = jsonUrl + (q.length ? (jsonUrl.indexOf('?') < 0 ? '?' : '&') + q.join('&') : '');
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

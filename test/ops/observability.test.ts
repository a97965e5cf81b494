/**
 * deploy/observability and the units of the processes beside the engine: the Grafana dashboard and the Prometheus
 * files parse, every metric name they use exists in a real engine's /metrics (the embedded simulator, Binance Spot
 * and Bybit linear, with a journal), the hop names they filter on are the engine's, and the rules cover every event
 * `tickwire bot` alerts on. `promtool check rules` and `systemd-analyze verify` run where installed.
 */
import { spawnSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readFileSync, writeFileSync, chmodSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { request } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { ALERT_KEYS } from '../../src/app/alertrules.js';
import { runEngine } from '../../src/app/run.js';
import { HOP_NAMES } from '../../src/util/hops.js';
import { rmDir, tmpDir, until } from '../core/helpers.js';

const REPO = resolve(import.meta.dirname, '../..');
const OBS = join(REPO, 'deploy/observability');
const TOKYO = join(REPO, 'deploy/tokyo');
const TOKEN = 'observability-test-token-0123456789';
const dir = tmpDir('obs');
afterAll(() => rmDir(dir));

const has = (tool: string): boolean => spawnSync('sh', ['-c', `command -v ${tool}`]).status === 0;

interface Panel {
  type: string;
  id: number;
  title: string;
  gridPos?: unknown;
  targets?: Array<{ expr: string }>;
  panels?: Panel[];
}
const dashboard = JSON.parse(readFileSync(join(OBS, 'grafana-tickwire.json'), 'utf8')) as {
  uid: string;
  title: string;
  panels: Panel[];
  templating: { list: Array<{ query: unknown }> };
  annotations: { list: Array<{ expr?: string }> };
};
const rules = parseYaml(readFileSync(join(OBS, 'prometheus-rules.yml'), 'utf8')) as {
  groups: Array<{ name: string; rules: Array<{ alert: string; expr: string; labels: Record<string, string>; annotations: Record<string, string> }> }>;
};
const allRules = rules.groups.flatMap((g) => g.rules);
const panels = dashboard.panels.flatMap((p) => [p, ...(p.panels ?? [])]);

/** every PromQL expression of the dashboard (panels, variables, annotations) and of the rules */
const exprs: Array<{ where: string; expr: string }> = [
  ...panels.flatMap((p) => (p.targets ?? []).map((t) => ({ where: `panel "${p.title}"`, expr: t.expr }))),
  ...dashboard.templating.list.flatMap((v) => {
    const q = typeof v.query === 'object' && v.query !== null ? (v.query as { query?: string }).query : undefined;
    return q?.includes('(') ? [{ where: 'variable', expr: q }] : [];
  }),
  ...dashboard.annotations.list.flatMap((a) => (a.expr ? [{ where: 'annotation', expr: a.expr }] : [])),
  ...allRules.map((r) => ({ where: `rule ${r.alert}`, expr: r.expr })),
];
const METRIC = /\b(?:tickwire|process|nodejs)_[a-zA-Z0-9_]+\b/g;

let families = new Map<string, string>();
let metricsText = '';

beforeAll(async () => {
  let failure: unknown;
  let done = false;
  await runEngine({
    durationSec: 40,
    print: false,
    signals: false,
    simRate: 200,
    env: { TICKWIRE_CONTROL_TOKEN: TOKEN },
    overrides: {
      log: { level: 'silent', destinations: [{ to: 'stderr', level: 'silent' }] },
      persistence: { dir: join(dir, 'data') },
      instruments: [
        { venue: 'binanceSpot', symbol: 'BTCUSDT' },
        { venue: 'bybitLinear', symbol: 'BTCUSDT' },
      ],
    },
    stopWhen: () => done,
    onReady: ({ engine, control }) => {
      void (async () => {
        try {
          await until(() => engine.instruments.every((i) => engine.state.tradable(i.slot)) && engine.acks > 0, 20_000, 'books and an ack');
          // hop totals are merged from the recorder once per monitor interval (1 s): wait for the first merge
          for (const end = Date.now() + 20_000; !/^tickwire_hop_latency_seconds\{hop="parse"/m.test(metricsText); ) {
            if (Date.now() > end) throw new Error('no hop latency in /metrics after 20 s');
            await new Promise((r) => setTimeout(r, 200));
            const res = await request(`${control!.url}/metrics`, { headers: { authorization: `Bearer ${TOKEN}` } });
            metricsText = await res.body.text();
          }
        } catch (e) {
          failure = e;
        } finally {
          done = true;
        }
      })();
    },
  });
  if (failure) throw failure;
  families = new Map([...metricsText.matchAll(/^# TYPE (\S+) (\S+)$/gm)].map((m) => [m[1]!, m[2]!]));
}, 60_000);

/** a sample name's family: X_sum / X_count / X_bucket of a summary or histogram X */
function familyOf(name: string): string | undefined {
  if (families.has(name)) return name;
  const m = /^(.*)_(sum|count|bucket)$/.exec(name);
  const base = m?.[1];
  return base && (families.get(base) === 'summary' || families.get(base) === 'histogram') ? base : undefined;
}

describe('deploy/observability', () => {
  it('the dashboard is a Grafana dashboard: uid, unique panel ids, every panel placed, every query named', () => {
    expect(dashboard.uid).toBe('tickwire-engine');
    const ids = panels.map((p) => p.id);
    expect(new Set(ids).size).toBe(ids.length);
    for (const p of panels) expect(p.gridPos, p.title).toBeDefined();
    expect(panels.filter((p) => p.type !== 'row').length).toBeGreaterThanOrEqual(25);
    for (const p of panels) for (const t of p.targets ?? []) expect(t.expr.length, p.title).toBeGreaterThan(0);
  });

  it('every metric the dashboard and the rules name exists in a real engine’s /metrics output', () => {
    expect(families.size).toBeGreaterThan(50);
    const missing: string[] = [];
    const used = new Set<string>();
    for (const { where, expr } of exprs) {
      const names = expr.match(METRIC) ?? [];
      // an expression with no metric of the engine in it can only be Prometheus' own `up`
      if (names.length === 0) expect(expr, where).toMatch(/^up\{/);
      for (const n of names) {
        const f = familyOf(n);
        if (f) used.add(f);
        else missing.push(`${where}: ${n}`);
      }
    }
    expect(missing).toEqual([]);
    // what the issue asks the dashboard to show
    for (const f of [
      'tickwire_hop_latency_seconds',
      'tickwire_orders_sent_total',
      'tickwire_rejects_total',
      'tickwire_orders_refused_local_total',
      'tickwire_venue_halted',
      'tickwire_md_resyncs_total',
      'tickwire_loop_skipped_total',
      'process_resident_memory_bytes',
      'nodejs_eventloop_lag_p99_seconds',
    ])
      expect(used.has(f), f).toBe(true);
  });

  it('the hops they filter on are the engine’s hop names', () => {
    const hops = exprs.flatMap(({ expr }) => [...expr.matchAll(/hop=~?"([^"$]+)"/g)].flatMap((m) => m[1]!.split('|')));
    expect(hops.length).toBeGreaterThan(3);
    for (const h of hops) expect(HOP_NAMES as readonly string[]).toContain(h);
    // and the engine did report one of them with these labels
    expect(metricsText).toMatch(/^tickwire_hop_latency_seconds\{hop="parse",venue="binanceSpot",quantile="0\.99"\} /m);
  });

  it('the rules parse, cover every event the bot alerts on, and say how bad and what happened', () => {
    expect(rules.groups.length).toBe(1);
    const events = new Set(allRules.map((r) => r.labels.event));
    for (const k of ALERT_KEYS) expect(events.has(k), k).toBe(true);
    for (const r of allRules) {
      expect(r.alert, JSON.stringify(r)).toMatch(/^Tickwire[A-Za-z]+$/);
      expect(['critical', 'warning']).toContain(r.labels.severity);
      expect(r.annotations.summary, r.alert).toBeTruthy();
      expect(r.annotations.description, r.alert).toBeTruthy();
    }
    expect(new Set(allRules.map((r) => r.alert)).size).toBe(allRules.length);
    const scrape = parseYaml(readFileSync(join(OBS, 'prometheus-scrape.example.yml'), 'utf8')) as {
      rule_files: string[];
      scrape_configs: Array<{ job_name: string; authorization: { type: string; credentials_file: string }; static_configs: Array<{ targets: string[] }> }>;
    };
    // the rules select job="tickwire": the example scrape job has that name, on loopback, with the token from a file
    expect(scrape.scrape_configs[0]?.job_name).toBe('tickwire');
    expect(scrape.scrape_configs[0]?.authorization.type).toBe('Bearer');
    expect(scrape.scrape_configs[0]?.static_configs[0]?.targets[0]).toMatch(/^127\.0\.0\.1:\d+$/);
  });

  it.skipIf(!has('promtool'))('promtool accepts the rules', () => {
    const r = spawnSync('promtool', ['check', 'rules', join(OBS, 'prometheus-rules.yml')], { encoding: 'utf8' });
    expect(r.status, r.stdout + r.stderr).toBe(0);
  });
});

describe('deploy/tokyo: the units beside the engine', () => {
  it.skipIf(!has('systemd-analyze'))('systemd-analyze verify accepts tickwire-watchdog@ and tickwire-bot@', () => {
    const root = join(dir, 'sysroot');
    const lib = ['/usr/lib/systemd/system', '/lib/systemd/system'].find((d) => existsSync(join(d, 'sysinit.target')));
    expect(lib, 'standard units of this machine').toBeDefined();
    cpSync(lib as string, join(root, 'usr/lib/systemd/system'), { recursive: true, dereference: false });
    mkdirSync(join(root, 'etc/systemd/system'), { recursive: true });
    for (const u of ['tickwire-watchdog@.service', 'tickwire-bot@.service']) cpSync(join(TOKYO, u), join(root, 'etc/systemd/system', u));
    // what the units execute, as installed
    mkdirSync(join(root, 'usr/bin'), { recursive: true });
    writeFileSync(join(root, 'usr/bin/node'), '#!/bin/sh\n');
    chmodSync(join(root, 'usr/bin/node'), 0o755);
    cpSync(join(REPO, 'bin'), join(root, 'opt/tickwire/bin'), { recursive: true });
    const r = spawnSync('systemd-analyze', ['verify', `--root=${root}`, 'tickwire-watchdog@tokyo.service', 'tickwire-bot@tokyo.service'], {
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(r.stderr + r.stdout).toBe('');
    expect(r.status).toBe(0);
    const wd = readFileSync(join(TOKYO, 'tickwire-watchdog@.service'), 'utf8');
    for (const key of ['Restart=always', 'EnvironmentFile=/etc/tickwire/%i-watchdog.env', 'ExecStart=/usr/bin/node', 'CPUAffinity=0 1'])
      expect(wd).toContain(key);
    expect(wd).toMatch(/ExecStart=.* watchdog$/m);
    expect(readFileSync(join(TOKYO, 'tickwire-bot@.service'), 'utf8')).toMatch(/ExecStart=.* bot$/m);
  });

  it('the watchdog environment example holds no secrets', () => {
    const env = readFileSync(join(TOKYO, 'tickwire-watchdog.env.example'), 'utf8');
    for (const line of env.split('\n')) {
      const m = /^(TICKWIRE_[A-Z0-9_]+)=(.*)$/.exec(line);
      if (m && /KEY$|SECRET$|TOKEN$/.test(m[1]!)) expect(m[2], m[1]).toBe('');
    }
    expect(env).toMatch(/^TICKWIRE_BINANCE_API_KEY=$/m);
  });
});

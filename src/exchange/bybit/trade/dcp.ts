/**
 * Bybit Disconnection Protection (DCP), the exchange's dead man's switch, set up by the gateways' shared private
 * stream at start (bybit.md §6):
 *
 * 1. `GET /v5/account/query-dcp-info` -> `dcpInfos[{product, dcpStatus:"ON", timeWindow}]` (empty unless Bybit's account
 *    manager switched DCP on; not self-service).
 * 2. For each gateway's product (linear -> DERIVATIVES, spot -> SPOT) that is ON: `POST /v5/order/disconnected-cancel-all`
 *    `{product, timeWindow}` when the configured window (default 10 s) differs from the account's.
 * 3. Subscribe `dcp.future` / `dcp.spot` on the private stream, now and after every reconnect (DCP does nothing without
 *    it). Once every dcp-subscribed private connection is gone for the window, Bybit cancels all active orders of the
 *    product (`cancelType: CancelByDCP`); the reconnect's reconcile then learns those cancels.
 *
 * Not available (or the query failed): logged once; the engine's own watchdog / kill switch is the only protection.
 * Never fails the start.
 */
import type { ExtraMetric } from '../../../util/metric.js';
import { log } from '../../../util/log.js';
import type { BybitCategory } from './template.js';

export type BybitDcpProduct = 'DERIVATIVES' | 'SPOT';

export interface BybitDcpOptions {
  /** seconds, 3..300 (Bybit's range; clamped with a warning); default 10 */
  timeWindowSec?: number;
}

export interface BybitDcpStatus {
  product: BybitDcpProduct;
  /**
   * `unchecked` before start (or without a private stream); `on` DCP on for the product (window set, topic
   * subscribed); `unavailable` the account has no DCP for the product; `off` disabled in the gateway config;
   * `error` the query failed.
   */
  state: 'unchecked' | 'on' | 'unavailable' | 'off' | 'error';
  enabled: boolean;
  /** the account's window in seconds (0 unless on) */
  timeWindowSec: number;
  /** the current private connection's dcp subscribe was acknowledged */
  subscribed: boolean;
  detail: string;
}

export const DEFAULT_DCP_WINDOW_SEC = 10;
export const DCP_TOPIC: Record<BybitDcpProduct, string> = { DERIVATIVES: 'dcp.future', SPOT: 'dcp.spot' };

export function dcpProductOf(category: BybitCategory): BybitDcpProduct {
  return category === 'linear' ? 'DERIVATIVES' : 'SPOT';
}

export function initialDcpStatus(category: BybitCategory): BybitDcpStatus {
  return { product: dcpProductOf(category), state: 'unchecked', enabled: false, timeWindowSec: 0, subscribed: false, detail: '' };
}

export function clampDcpWindow(sec: number): number {
  const s = Math.round(sec);
  if (!Number.isFinite(s)) return DEFAULT_DCP_WINDOW_SEC;
  return Math.min(300, Math.max(3, s));
}

/** what setupDcp needs of a gateway (BybitRestGateway) */
export interface DcpGateway {
  readonly category: BybitCategory;
  readonly cfg: { dcp?: BybitDcpOptions | false };
  dcp: BybitDcpStatus;
  queryDcp(): Promise<Map<string, number>>;
  setDcpWindow(product: BybitDcpProduct, sec: number): Promise<void>;
}

/**
 * Query once, set each product's window, and hand the topics to the private stream. Every REST call goes through
 * `gws[0]` (the gateway whose start() runs this, clock already synced). Call before the stream starts so that its
 * first connection subscribes them.
 */
export async function setupDcp(gws: readonly DcpGateway[], stream: { setDcpTopics(topics: string[]): void }): Promise<void> {
  const want = gws.filter((g) => g.cfg.dcp !== false);
  for (const g of gws) if (g.cfg.dcp === false) g.dcp = { ...initialDcpStatus(g.category), state: 'off', detail: 'disabled in the gateway config' };
  const rest = gws[0];
  if (!rest || want.length === 0) return;
  let infos: Map<string, number>;
  try {
    infos = await rest.queryDcp();
  } catch (err) {
    const detail = `query-dcp-info failed: ${String(err instanceof Error ? err.message : err)}`;
    for (const g of want) g.dcp = { ...initialDcpStatus(g.category), state: 'error', detail };
    log().warn({ err: detail }, "bybit DCP unknown (query failed): the engine's own watchdog / kill switch is the only protection");
    return;
  }
  const topics: string[] = [];
  for (const g of want) {
    const product = dcpProductOf(g.category);
    const current = infos.get(product);
    if (current === undefined) {
      g.dcp = { ...initialDcpStatus(g.category), state: 'unavailable', detail: 'DCP not enabled for the account (Bybit account manager)' };
      log().info({ product }, "bybit DCP not available for the account: the engine's own watchdog / kill switch is the only protection there");
      continue;
    }
    const asked = (g.cfg.dcp === false ? undefined : g.cfg.dcp?.timeWindowSec) ?? DEFAULT_DCP_WINDOW_SEC;
    const sec = clampDcpWindow(asked);
    if (sec !== asked) log().warn({ product, asked, used: sec }, 'bybit DCP window outside 3..300 s: clamped');
    let window = current;
    let detail = '';
    if (sec !== current) {
      try {
        await rest.setDcpWindow(product, sec);
        window = sec;
      } catch (err) {
        detail = `window not changed (${current} s kept): ${String(err instanceof Error ? err.message : err)}`;
        log().warn({ product, err: detail }, 'bybit DCP window could not be set');
      }
    }
    g.dcp = { product, state: 'on', enabled: true, timeWindowSec: window, subscribed: false, detail };
    if (!topics.includes(DCP_TOPIC[product])) topics.push(DCP_TOPIC[product]);
    log().info({ product, timeWindowSec: window, topic: DCP_TOPIC[product] }, 'bybit DCP on');
  }
  if (topics.length > 0) stream.setDcpTopics(topics);
}

/**
 * Gauges for /metrics (ControlDeps.extraMetrics): per gateway venue and product, DCP enabled (0/1), its window in
 * seconds, and whether the private connection's dcp subscribe is acknowledged (0/1).
 */
export function dcpMetrics(gws: ReadonlyArray<{ readonly venue: string; readonly dcpStatus: BybitDcpStatus }>): ExtraMetric[] {
  const rows = gws.map((g) => ({ labels: { venue: g.venue, product: g.dcpStatus.product }, st: g.dcpStatus }));
  return [
    {
      name: 'tickwire_bybit_dcp_enabled',
      help: 'Bybit Disconnection Protection on for the account and product (1) or not (0).',
      type: 'gauge',
      samples: rows.map((r) => ({ labels: r.labels, value: r.st.enabled ? 1 : 0 })),
    },
    {
      name: 'tickwire_bybit_dcp_window_seconds',
      help: 'Bybit DCP time window (0 when off).',
      type: 'gauge',
      samples: rows.map((r) => ({ labels: r.labels, value: r.st.timeWindowSec })),
    },
    {
      name: 'tickwire_bybit_dcp_subscribed',
      help: 'Private stream dcp topic subscribed on the current connection (1) or not (0).',
      type: 'gauge',
      samples: rows.map((r) => ({ labels: r.labels, value: r.st.subscribed ? 1 : 0 })),
    },
  ];
}

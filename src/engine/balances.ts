/**
 * Spot balance reconciliation, the balance part of the engine's one reconciliation (src/engine/reconcile.ts does
 * orders and futures positions; this does wallets). Off the hot path: REST reads on a timer.
 *
 * - Wallets: one per spot venue among the instruments: Binance Spot (`GET /api/v3/account`), Bybit's unified wallet
 *   (`GET /v5/account/wallet-balance`; its linear trading moves the same USDT, so linear realized PnL and fees are part
 *   of what the engine expects there; funding, which the engine does not book, shows as drift on a real account).
 * - Start (`start()`, after the order reconciliation, before the strategy): each wallet's balances are read (a read
 *   that fails fails the start: fail closed) and become the baseline, together with what the portfolio's booked fills
 *   had moved until then (`Portfolio.walletDeltas`).
 * - Every `intervalMs` (`check()`): expected = baseline balance + (what booked fills moved since the baseline: base
 *   and quote of spot fills, futures realized PnL in the shared wallet, every fee in its own asset). For each asset the
 *   engine books (every instrument's base and quote, BNB, any fee asset seen), drift = actual - expected. A drift
 *   above `alertDrift` is read again after `settleMs` (a fill the venue made but whose event is still in flight looks
 *   like drift for a moment); still there, it is an alert: a log line and `tickwire_balance_drift_total{wallet,asset}`.
 *   Above the asset's `haltDrift` (else `haltDriftDefault`) trading stops (the engine stops the strategy and cancels
 *   its orders), logged at error and counted in `tickwire_balance_halts_total`. A read that fails is counted
 *   (`tickwire_balance_check_failures_total`) and logged; the next interval reads again.
 * Drift after an operator's resume halts again at the next check until the cause is gone; a restart takes a new
 * baseline.
 */
import type { BalanceReconcileConfig } from '../config/schema.js';
import type { VenueId } from '../model/types.js';
import { walletOfVenue, type WalletId } from '../orders/portfolio.js';
import type { DegradationSample, DegradationSource } from '../util/degrade.js';
import type { Logger } from '../util/log.js';
import type { Engine } from './engine.js';

export interface BalanceDrift {
  wallet: WalletId;
  asset: string;
  expected: number;
  actual: number;
  drift: number;
  /** beyond the asset's halt limit */
  halt: boolean;
}

export interface BalanceCheck {
  atMs: number;
  /** wallets read (venue -> wallet) */
  wallets: WalletId[];
  /** confirmed drifts above alertDrift */
  drifts: BalanceDrift[];
  /** this check stopped trading */
  halted: boolean;
  /** a read that failed (the check compared nothing for that wallet) */
  errors: string[];
}

interface Baseline {
  venue: VenueId;
  wallet: WalletId;
  balances: Map<string, number>;
  /** Portfolio.walletDeltas at the baseline */
  ledger: Record<string, number>;
}

export class BalanceReconciler {
  private readonly baselines: Baseline[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<BalanceCheck> | undefined;
  /** per wallet|asset: drift alerts, halts */
  private readonly alerts = new Map<string, number>();
  private readonly halts = new Map<string, number>();
  private readonly failures = new Map<string, number>();
  checks = 0;
  last: BalanceCheck | undefined;
  /** trading was stopped by a drift beyond its limit */
  halted = false;

  constructor(
    private readonly engine: Engine,
    private readonly cfg: BalanceReconcileConfig,
    private readonly log: Logger,
  ) {}

  /** the spot venues of the engine's instruments, one per wallet */
  private spotVenues(): Array<{ venue: VenueId; wallet: WalletId }> {
    const out: Array<{ venue: VenueId; wallet: WalletId }> = [];
    for (const i of this.engine.instruments) {
      if (i.venue !== 'binanceSpot' && i.venue !== 'bybitSpot') continue;
      if (!out.some((x) => x.venue === i.venue)) out.push({ venue: i.venue, wallet: walletOfVenue(i.venue) });
    }
    return out;
  }

  /** Read every spot wallet and take it as the baseline. Throws (naming the wallet) when one cannot be read. */
  async start(): Promise<BalanceCheck> {
    const p = this.engine.portfolio;
    for (const { venue, wallet } of this.spotVenues()) {
      let balances: Map<string, number> | undefined;
      try {
        balances = await this.engine.orders.balances(venue);
      } catch (e) {
        throw new Error(`balance reconciliation: the ${wallet} wallet could not be read at start (${(e as Error).message})`);
      }
      if (!balances) {
        this.log.info({ venue }, 'balance reconciliation: this venue does not report balances (paper): not reconciled');
        continue;
      }
      const ledger = p.walletDeltas(wallet);
      this.baselines.push({ venue, wallet, balances, ledger });
      const shown: Record<string, number> = {};
      for (const a of Object.keys(ledger)) shown[a] = balances.get(a) ?? 0;
      this.log.info({ wallet, balances: shown }, 'balance reconciliation: start balances');
    }
    this.last = { atMs: Date.now(), wallets: this.baselines.map((b) => b.wallet), drifts: [], halted: false, errors: [] };
    return this.last;
  }

  /** Check every `intervalMs` (0: never); overlapping runs are skipped. */
  startTimer(): void {
    if (this.cfg.intervalMs <= 0 || this.timer || this.baselines.length === 0) return;
    this.timer = setInterval(() => {
      if (this.running) return;
      this.running = this.check().finally(() => (this.running = undefined));
    }, this.cfg.intervalMs);
    this.timer.unref?.();
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  private haltLimit(asset: string): number {
    return this.cfg.haltDrift[asset] ?? this.cfg.haltDriftDefault;
  }

  /** drifts above alertDrift of one wallet now (reads the venue) */
  private async driftsOf(b: Baseline): Promise<BalanceDrift[]> {
    const actual = await this.engine.orders.balances(b.venue);
    if (!actual) return [];
    const now = this.engine.portfolio.walletDeltas(b.wallet);
    const out: BalanceDrift[] = [];
    for (const [asset, moved] of Object.entries(now)) {
      const expected = (b.balances.get(asset) ?? 0) + moved - (b.ledger[asset] ?? 0);
      const have = actual.get(asset) ?? 0;
      const drift = have - expected;
      if (Math.abs(drift) > this.cfg.alertDrift)
        out.push({ wallet: b.wallet, asset, expected, actual: have, drift, halt: Math.abs(drift) > this.haltLimit(asset) });
    }
    return out;
  }

  /** One reconciliation of every wallet: alerts, and a halt when a confirmed drift is beyond its limit. */
  async check(): Promise<BalanceCheck> {
    const res: BalanceCheck = { atMs: Date.now(), wallets: this.baselines.map((b) => b.wallet), drifts: [], halted: false, errors: [] };
    this.checks++;
    for (const b of this.baselines) {
      try {
        let d = await this.driftsOf(b);
        if (d.length > 0 && this.cfg.settleMs > 0) {
          // fills in flight: the venue's view and the booked fills may differ for a moment; a drift must persist
          await new Promise((r) => setTimeout(r, this.cfg.settleMs));
          d = await this.driftsOf(b);
        }
        res.drifts.push(...d);
      } catch (e) {
        const msg = `${b.wallet}: ${(e as Error).message}`;
        res.errors.push(msg);
        this.failures.set(b.wallet, (this.failures.get(b.wallet) ?? 0) + 1);
        this.log.warn({ wallet: b.wallet, err: (e as Error).message }, 'balance reconciliation: the wallet could not be read');
      }
    }
    for (const d of res.drifts) {
      const k = `${d.wallet}|${d.asset}`;
      this.alerts.set(k, (this.alerts.get(k) ?? 0) + 1);
      if (d.halt) this.halts.set(k, (this.halts.get(k) ?? 0) + 1);
      (d.halt ? this.log.error : this.log.warn).call(
        this.log,
        { event: d.halt ? 'balance_halt' : 'balance_drift', ...d, limit: d.halt ? this.haltLimit(d.asset) : this.cfg.alertDrift },
        d.halt ? 'balance drift beyond its limit: trading stops' : 'balance drift: the account differs from the booked fills',
      );
    }
    if (res.drifts.some((d) => d.halt)) {
      res.halted = true;
      this.halted = true;
      // fail closed: the strategy stops and its orders are cancelled; an operator resumes after finding the cause
      this.engine.stopTrading();
      this.engine.cancelAll();
    }
    this.last = res;
    return res;
  }

  /** counters for the degradation reporter (log lines and /metrics) */
  degradations(): DegradationSource {
    return () => {
      const out: DegradationSample[] = [];
      const split = (k: string): { wallet: string; asset: string } => {
        const i = k.indexOf('|');
        return { wallet: k.slice(0, i), asset: k.slice(i + 1) };
      };
      for (const [k, v] of this.alerts)
        out.push({
          event: 'balance_drift',
          metric: 'tickwire_balance_drift_total',
          help: 'Balance checks that found an asset of a spot wallet off what the booked fills (net of fees) explain.',
          labels: split(k),
          value: v,
          msg: 'balance drift',
        });
      for (const [k, v] of this.halts)
        out.push({
          event: 'balance_halt',
          metric: 'tickwire_balance_halts_total',
          help: 'Trading stops for a balance drift beyond its configured limit.',
          labels: split(k),
          value: v,
          level: 'error',
          msg: 'trading stopped: balance drift beyond its limit',
        });
      for (const [w, v] of this.failures)
        out.push({
          event: 'balance_check_failed',
          metric: 'tickwire_balance_check_failures_total',
          help: 'Balance checks that could not read a wallet.',
          labels: { wallet: w },
          value: v,
          msg: 'balance check: wallet not read',
        });
      const unvalued = this.engine.portfolio.unvaluedFees;
      if (unvalued > 0)
        out.push({
          event: 'fee_unvalued',
          metric: 'tickwire_fees_unvalued_total',
          help: 'Fills whose fee was paid in an asset no configured instrument prices in the quote (kept per asset, not in PnL).',
          labels: {},
          value: unvalued,
          msg: 'fee in an asset without a price: not in PnL',
        });
      return out;
    };
  }
}

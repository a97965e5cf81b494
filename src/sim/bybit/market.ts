/**
 * Bybit v5 public market REST beyond the order book: `GET /v5/market/recent-trade`, `/v5/market/kline`,
 * `/v5/market/tickers` (list items), kept per symbol from the core's public trades. And the static JSON of the
 * account/housekeeping endpoints ccxt probes (`/v5/asset/coin/query-info`, `/v5/user/query-api`, `/v5/account/info`).
 * Shapes follow Bybit's v5 docs (market/recent-trade, market/kline, market/tickers, asset/coin-info, user/apikey-info,
 * account/account-info).
 */
import type { SimAccountProfile, SimPublicTrade } from '../core/types.js';
import { InstrumentFmt, q, uuidFromCounter, type Category } from './common.js';

/** recent trades kept per symbol (Bybit serves up to 60 spot / 1000 linear) */
export const MAX_RECENT_TRADES = 1000;
/** one-minute candles kept per symbol */
export const MAX_CANDLES = 10_000;

export interface Candle {
  startMs: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volumeLots: number;
  turnover: number;
}

/** Public trade history of one symbol: a ring of recent trades and one-minute candles. */
export class MarketHistory {
  private readonly ring: SimPublicTrade[] = [];
  private head = 0; // next write index once the ring is full
  readonly candles: Candle[] = [];

  constructor(
    readonly category: Category,
    readonly fmt: InstrumentFmt,
  ) {}

  /** per public trade: copies into the ring's own records (allocation only while the ring fills up) */
  onTrade(t: SimPublicTrade): void {
    if (this.ring.length < MAX_RECENT_TRADES) {
      this.ring.push({ tradeId: t.tradeId, priceTicks: t.priceTicks, qtyLots: t.qtyLots, takerSide: t.takerSide, timeMs: t.timeMs });
    } else {
      const r = this.ring[this.head]!;
      r.tradeId = t.tradeId;
      r.priceTicks = t.priceTicks;
      r.qtyLots = t.qtyLots;
      r.takerSide = t.takerSide;
      r.timeMs = t.timeMs;
      this.head = (this.head + 1) % MAX_RECENT_TRADES;
    }
    const start = t.timeMs - (t.timeMs % 60_000);
    const last = this.candles[this.candles.length - 1];
    const turnover = this.fmt.priceFloat(t.priceTicks) * this.fmt.qtyFloat(t.qtyLots);
    if (last && last.startMs === start) {
      if (t.priceTicks > last.high) last.high = t.priceTicks;
      if (t.priceTicks < last.low) last.low = t.priceTicks;
      last.close = t.priceTicks;
      last.volumeLots += t.qtyLots;
      last.turnover += turnover;
    } else if (!last || start > last.startMs) {
      this.candles.push({ startMs: start, open: t.priceTicks, high: t.priceTicks, low: t.priceTicks, close: t.priceTicks, volumeLots: t.qtyLots, turnover });
      if (this.candles.length > MAX_CANDLES) this.candles.splice(0, this.candles.length - MAX_CANDLES);
    }
  }

  /** newest first */
  recent(limit: number): SimPublicTrade[] {
    const out: SimPublicTrade[] = [];
    const n = this.ring.length;
    for (let i = 0; i < n && out.length < limit; i++) {
      const idx = (this.head - 1 - i + 2 * n) % n;
      out.push(this.ring[idx]!);
    }
    return out;
  }

  /** the public trade id as the `publicTrade` stream shows it (`i`) */
  execId(tradeId: number): string {
    return this.category === 'spot' ? '229' + String(tradeId).padStart(16, '0') : uuidFromCounter(0x9188a0a, tradeId);
  }

  recentTradeJson(t: SimPublicTrade, symbol: string): string {
    return (
      `{"execId":${q(this.execId(t.tradeId))},"symbol":"${symbol}","price":"${this.fmt.price(t.priceTicks)}",` +
      `"size":"${this.fmt.qty(t.qtyLots)}","side":"${t.takerSide === 'BUY' ? 'Buy' : 'Sell'}","time":"${t.timeMs}",` +
      `"isBlockTrade":false,"isRPITrade":false}`
    );
  }

  /** kline rows `[start, open, high, low, close, volume, turnover]`, newest first, of the interval (ms) in [start, end] */
  klines(intervalMs: number, calendar: 'M' | undefined, startMs: number | undefined, endMs: number, limit: number): string[] {
    const buckets: Candle[] = [];
    for (const c of this.candles) {
      if (c.startMs > endMs) break;
      const b = calendar === 'M' ? monthStart(c.startMs) : c.startMs - (c.startMs % intervalMs);
      const last = buckets[buckets.length - 1];
      if (last && last.startMs === b) {
        if (c.high > last.high) last.high = c.high;
        if (c.low < last.low) last.low = c.low;
        last.close = c.close;
        last.volumeLots += c.volumeLots;
        last.turnover += c.turnover;
      } else buckets.push({ ...c, startMs: b });
    }
    const out: string[] = [];
    for (let i = buckets.length - 1; i >= 0 && out.length < limit; i--) {
      const c = buckets[i]!;
      if (startMs !== undefined && c.startMs < startMs) break;
      const f = this.fmt;
      out.push(
        `["${c.startMs}","${f.price(c.open)}","${f.price(c.high)}","${f.price(c.low)}","${f.price(c.close)}",` +
          `"${f.qty(c.volumeLots)}","${InstrumentFmt.amount(c.turnover)}"]`,
      );
    }
    return out;
  }
}

function monthStart(ms: number): number {
  const d = new Date(ms);
  return Date.UTC(d.getUTCFullYear(), d.getUTCMonth(), 1);
}

/** `interval` of /v5/market/kline -> ms (M: calendar month), undefined if Bybit does not accept it */
export function klineIntervalMs(interval: string): { ms: number; calendar?: 'M' } | undefined {
  const minutes = ['1', '3', '5', '15', '30', '60', '120', '240', '360', '720'];
  if (minutes.includes(interval)) return { ms: Number(interval) * 60_000 };
  if (interval === 'D') return { ms: 86_400_000 };
  if (interval === 'W') return { ms: 7 * 86_400_000 };
  if (interval === 'M') return { ms: 31 * 86_400_000, calendar: 'M' };
  return undefined;
}

/** /v5/asset/coin/query-info row of a coin (one chain, deposits and withdrawals open) */
export function coinInfoJson(coin: string): string {
  const chain = coin === 'USDT' || coin === 'USDC' ? 'ETH' : coin;
  return (
    `{"name":${q(coin)},"coin":${q(coin)},"remainAmount":"1500000","chains":[{"chainType":${q(chain === 'ETH' ? 'ERC20' : coin)},` +
    `"confirmation":"6","withdrawFee":"1","depositMin":"0","withdrawMin":"1","chain":${q(chain)},"chainDeposit":"1",` +
    `"chainWithdraw":"1","minAccuracy":"8","withdrawPercentageFee":"0","contractAddress":"","safeConfirmNumber":"6"}]}`
  );
}

/** /v5/user/query-api result for the run's key: a unified trading account (uta 1), read-write, trading permissions */
export function apiKeyInfoJson(apiKey: string, userId: number, createdMs: number, profile: SimAccountProfile): string {
  const created = new Date(createdMs).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return (
    `{"id":"${userId % 100_000_000}","note":"tickwire sim","apiKey":${q(apiKey)},"readOnly":0,"secret":"",` +
    `"permissions":{"ContractTrade":["Order","Position"],"Spot":["SpotTrade"],"Wallet":["AccountTransfer","SubMemberTransfer"${profile.withdrawals ? ',"Withdraw"' : ''}],` +
    `"Options":["OptionsTrade"],"Derivatives":[],"CopyTrading":[],"BlockTrade":[],"Exchange":[],"NFT":[],"Affiliate":[],"Earn":[]},` +
    `"ips":${profile.ipRestrict ? '["127.0.0.1"]' : '["*"]'},"type":1,"deadlineDay":-1,"expiredAt":"","createdAt":"${created}","unified":0,"uta":${profile.bybitUnified ? 1 : 0},` +
    `"userID":${userId},"inviterID":0,"vipLevel":"No VIP","mktMakerLevel":"0","affiliateID":0,"rsaPublicKey":"","isMaster":true,` +
    `"parentUid":"0","kycLevel":"LEVEL_DEFAULT","kycRegion":""}`
  );
}

/** /v5/account/info result: UTA 2.0 Pro (unifiedMarginStatus 6), or a classic account (1) */
export function accountInfoJson(marginMode: string, updatedMs: number, unified = true): string {
  return (
    `{"marginMode":"${marginMode}","updatedTime":"${updatedMs}","unifiedMarginStatus":${unified ? 6 : 1},"dcpStatus":"OFF","timeWindow":10,` +
    `"smpGroup":0,"isMasterTrader":false,"spotHedgingStatus":"OFF"}`
  );
}

/**
 * Test harness: an in-process simulator plus an OrderManager over the gateway under test.
 */
import { expect } from 'vitest';
import type { Instrument, VenueId } from '../../src/model/types.js';
import { OrderManager } from '../../src/orders/manager.js';
import type { VenueGateway } from '../../src/orders/gateway.js';
import type { OrderEvent, OrderState } from '../../src/model/orders.js';
import { startSim, type SimHandle } from '../../src/sim/index.js';
import { createBinanceGateway } from '../../src/exchange/binance/trade/index.js';
import type { MatchingBook } from '../../src/sim/core/book.js';

export type { SimHandle };

export async function sim(venues: Array<'binanceSpot' | 'binanceUsdm' | 'bybit'>): Promise<SimHandle> {
  return startSim({ venues, seed: 7, symbols: ['BTCUSDT'], rate: 200 });
}

export function instrumentOf(s: SimHandle, venue: VenueId, slot = 0): Instrument {
  const ins = s.ctx.instruments.get(venue)?.find((i) => i.symbol === 'BTCUSDT');
  if (!ins) throw new Error(`no BTCUSDT on ${venue}`);
  return {
    venue,
    symbol: ins.symbol,
    base: ins.base,
    quote: ins.quote,
    tickSize: ins.tickSize,
    stepSize: ins.stepSize,
    minQty: ins.minQty,
    minNotional: ins.minNotional,
    priceDecimals: ins.priceDecimals,
    qtyDecimals: ins.qtyDecimals,
    tickUnits: 1,
    lotUnits: 1,
    slot,
  };
}

/** best bid / ask in price units of the instrument */
export function bbo(s: SimHandle, venue: VenueId): { bid: number; ask: number } {
  const b = s.books.get(venue)?.get('BTCUSDT');
  const bid = b?.bestBid()?.priceTicks;
  const ask = b?.bestAsk()?.priceTicks;
  if (bid === undefined || ask === undefined) throw new Error('empty book');
  return { bid, ask };
}

/** Move the simulator's market so that the best bid (up) or best ask (down) is `to`: a synthetic quote there
 * takes out the other side up to it (the way the generator moves the market). Stop the generator first for a
 * market that stays there. */
export function moveMarket(book: MatchingBook, side: 'up' | 'down', to: number): void {
  book.setSynthetic(side === 'up' ? 'BUY' : 'SELL', to, 1_000_000);
}

export class Recorder {
  readonly events: OrderEvent[] = [];
  onOrderEvent(ev: OrderEvent): void {
    this.events.push({ ...ev });
  }
}

export async function until(cond: () => boolean, ms = 4000, what = 'condition'): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timeout waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

export async function untilState(m: OrderManager, id: string, states: OrderState[], ms = 4000): Promise<void> {
  await until(() => states.includes(m.order(id)?.state ?? 'NEW_PENDING'), ms, `${id} in ${states.join('|')} (is ${m.order(id)?.state})`);
}

export function manager(inst: Instrument, gw: VenueGateway): { m: OrderManager; rec: Recorder } {
  const m = new OrderManager({ instruments: [inst], gateways: [gw] });
  const rec = new Recorder();
  m.subscribe(rec);
  return { m, rec };
}

/**
 * What a BUY's fills add to the engine's position, in quantity units, under the simulator's default fee table: a
 * spot buy pays its fee (0.1 %, maker or taker) in the base asset, so the position received is smaller by the fee
 * the order booked (`feesBase`, base asset), which must itself be 0.1 % of the filled quantity (8-decimal rounding
 * per fill); futures pay in the quote and keep the whole quantity.
 */
export function netOfBaseFee(inst: Instrument, filledUnits: number, feesBase: number): number {
  if (inst.venue !== 'binanceSpot' && inst.venue !== 'bybitSpot') return filledUnits;
  const scale = 10 ** inst.qtyDecimals;
  expect(Math.abs(feesBase - (filledUnits / scale) * 0.001)).toBeLessThan(1e-7);
  return filledUnits - feesBase * scale;
}

/**
 * A Binance gateway (Spot or USD-M) on the simulator's endpoints and keys (HMAC and Ed25519), for one instrument;
 * `extra` overrides any field (transport, recovery, limits, ...).
 */
export function binanceGatewayOn(
  s: SimHandle,
  venue: 'binanceSpot' | 'binanceUsdm',
  extra: Partial<Parameters<typeof createBinanceGateway>[0]> = {},
): ReturnType<typeof createBinanceGateway> {
  const ep = s.endpoints[venue]!;
  const i = instrumentOf(s, venue);
  return createBinanceGateway({
    venue,
    restBaseUrl: ep.restBaseUrl,
    wsApiUrl: ep.wsApiUrl,
    wsStreamBaseUrl: ep.wsStreamBaseUrl,
    apiKey: ep.apiKey,
    apiSecret: ep.apiSecret,
    ed25519ApiKey: ep.ed25519ApiKey!,
    ed25519PrivateKeyPem: ep.ed25519PrivateKeyPem!,
    instruments: [{ symbol: i.symbol, priceDecimals: i.priceDecimals, qtyDecimals: i.qtyDecimals }],
    timeoutMs: 2000,
    ...extra,
  });
}

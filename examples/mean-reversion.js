/**
 * A small mean-reversion quoter: a tickwire plug-in strategy (docs/strategy-guide.md).
 *
 *   tickwire run --strategy examples/mean-reversion.js --duration 30
 *   tickwire run --config examples/mean-reversion.json --duration 30      (the same, with its parameters)
 *
 * It follows an exponential moving average of the mid. When the mid is `entryTicks` ticks below the average it bids at
 * the best bid (post-only: it never takes), when it is `entryTicks` above it offers at the best ask; it pulls a quote once
 * the move has faded or the touch has moved away from it. Sizes stay inside `maxPosition` and inside what risk still
 * allows (`ctx.risk.headroom`). One order per side at a time.
 *
 * Plain JavaScript, no build step; the JSDoc types come from the 'tickwire' package (editors check them).
 */

/** @typedef {import('tickwire').Strategy} Strategy */
/** @typedef {import('tickwire').StrategyContext} StrategyContext */
/** @typedef {import('tickwire').OrderEvent} OrderEvent */
/** @typedef {import('tickwire').OrderRequest} OrderRequest */

const DEFAULTS = { venue: 'binanceSpot', symbol: 'BTCUSDT', size: 0.001, window: 50, entryTicks: 2, maxPosition: 0.003, maxAwayTicks: 2 };

/** Check the parameters whole: a bad one throws (at start: the start fails; on reload: the reload is refused). */
function checkParams(raw) {
  const p = { ...DEFAULTS, ...(raw ?? {}) };
  for (const k of ['size', 'window', 'entryTicks', 'maxPosition']) {
    if (typeof p[k] !== 'number' || !(p[k] > 0)) throw new Error(`params.${k} must be a positive number, got ${JSON.stringify(p[k])}`);
  }
  if (!Number.isInteger(p.maxAwayTicks) || p.maxAwayTicks < 0) throw new Error('params.maxAwayTicks must be a whole number >= 0');
  return p;
}

/** @implements {Strategy} */
class MeanReversion {
  name = 'meanReversion';
  /** @type {StrategyContext} */ ctx;
  slot = -1;
  tick = 1;
  lot = 1;
  qtyScale = 1;
  ema = 0;
  /** client order ids of the working bid / ask ('' = none) */
  bidId = '';
  askId = '';
  /** one request object per side, reused: placing an order allocates nothing of ours */
  /** @type {OrderRequest} */ bidReq = { slot: 0, side: 'BUY', type: 'LIMIT', tif: 'POST_ONLY', price: 0, qty: 0 };
  /** @type {OrderRequest} */ askReq = { slot: 0, side: 'SELL', type: 'LIMIT', tif: 'POST_ONLY', price: 0, qty: 0 };
  fills = 0;

  constructor(params) {
    this.p = checkParams(params);
  }

  /** @param {StrategyContext} ctx */
  start(ctx) {
    this.ctx = ctx;
    this.resolve();
    ctx.log.info('mean reversion started', { venue: this.p.venue, symbol: this.p.symbol, entryTicks: this.p.entryTicks });
  }

  resolve() {
    const slot = this.ctx.slotOf(this.p.venue, this.p.symbol);
    if (slot < 0) throw new Error(`${this.p.venue} ${this.p.symbol} is not among the configured instruments`);
    const ins = this.ctx.instruments[slot];
    this.slot = slot;
    this.tick = ins.tickUnits;
    this.lot = ins.lotUnits;
    this.qtyScale = 10 ** ins.qtyDecimals;
    this.bidReq.slot = slot;
    this.askReq.slot = slot;
  }

  /** @param {number} slot */
  onBook(slot) {
    if (slot !== this.slot) return;
    const top = this.ctx.market.top(slot);
    if (!top.tradable) return this.pullAll();
    // the average, in price units
    const a = 2 / (this.p.window + 1);
    this.ema = this.ema === 0 ? top.mid : this.ema + a * (top.mid - this.ema);
    const dev = (top.mid - this.ema) / this.tick; // in ticks
    const pos = this.ctx.portfolio.position(slot) / this.qtyScale;
    const away = this.p.maxAwayTicks * this.tick;

    // below the average: bid at the touch; pull the bid when the dip is over or the touch left it behind
    const bid = this.bidId === '' ? undefined : this.ctx.order(this.bidId);
    if (bid === undefined && dev <= -this.p.entryTicks && pos < this.p.maxPosition) this.bidId = this.place(this.bidReq, top.bidPx);
    else if (bid !== undefined && (dev > -this.p.entryTicks / 2 || top.bidPx - bid.price > away)) this.ctx.orders.cancel(this.bidId);

    const ask = this.askId === '' ? undefined : this.ctx.order(this.askId);
    if (ask === undefined && dev >= this.p.entryTicks && pos > -this.p.maxPosition) this.askId = this.place(this.askReq, top.askPx);
    else if (ask !== undefined && (dev < this.p.entryTicks / 2 || ask.price - top.askPx > away)) this.ctx.orders.cancel(this.askId);
  }

  /** Place at `price` for the configured size, cut to what risk still allows; returns the id or ''. */
  place(req, price) {
    const want = Math.max(this.lot, Math.round((this.p.size * this.qtyScale) / this.lot) * this.lot);
    const qty = Math.min(want, this.ctx.risk.headroom(this.slot, req.side));
    if (qty < this.lot || this.ctx.risk.ordersLeftThisSecond() === 0) return '';
    req.price = price;
    req.qty = qty;
    return this.ctx.orders.place(req) ?? '';
  }

  /** @param {OrderEvent} ev */
  onFill(ev) {
    this.fills++;
    this.ctx.log.info('fill', { side: ev.clientOrderId === this.bidId ? 'BUY' : 'SELL', price: ev.fillPrice, qty: ev.fillQty, state: ev.state });
    this.forget(ev);
  }

  /** @param {OrderEvent} ev */
  onCancel(ev) {
    this.forget(ev);
  }

  /** @param {OrderEvent} ev */
  onReject(ev) {
    this.ctx.log.warn('order rejected', { code: ev.code, reason: ev.reason });
    this.forget(ev);
  }

  /** An order that is done frees its side. */
  forget(ev) {
    const done = ev.state === 'FILLED' || ev.state === 'CANCELED' || ev.state === 'REJECTED' || ev.state === 'EXPIRED';
    if (!done) return;
    if (ev.clientOrderId === this.bidId) this.bidId = '';
    if (ev.clientOrderId === this.askId) this.askId = '';
  }

  pullAll() {
    if (this.bidId !== '') this.ctx.orders.cancel(this.bidId);
    if (this.askId !== '') this.ctx.orders.cancel(this.askId);
  }

  /** `tickwire reload`: new parameters, checked whole before anything changes */
  setParams(params) {
    const next = checkParams(params);
    this.p = next;
    this.resolve();
  }

  stop() {
    this.bidId = '';
    this.askId = '';
  }
}

/** The module's default export: the factory tickwire calls with `strategy.params`. */
export default function createStrategy(params) {
  return new MeanReversion(params);
}

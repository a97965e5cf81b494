/**
 * Binance order payloads built from a per-instrument template: the symbol (percent-encoded once), the constant
 * tails and the market's spelling of each order type are prepared at start; per order only side, type/tif,
 * quantity, price, client id, timestamp and the signature are written into a reused buffer.
 *
 * REST body (form-encoded, signed as sent):
 *   symbol=BTCUSDT&side=BUY&type=LIMIT&timeInForce=GTC&quantity=0.00100&price=50000.00
 *   &newClientOrderId=...&newOrderRespType=RESULT[&reduceOnly=true]&recvWindow=5000&timestamp=...&signature=<hex>
 * WS API (after session.logon, so no apiKey/signature): the same params as a JSON object.
 */
import type { OrderFields, PayloadSigner } from '../../../codec/template.js';
import { AsciiWriter, percentEncode } from '../../../codec/wire.js';

/** constant pieces, prepared once */
const C0 = Buffer.from('&quantity=', 'latin1');
const C1 = Buffer.from('&price=', 'latin1');
const C2 = Buffer.from('&newClientOrderId=', 'latin1');
const C3 = Buffer.from('&newOrderRespType=', 'latin1');
const C4 = Buffer.from('&reduceOnly=true', 'latin1');
const C5 = Buffer.from('&signature=', 'latin1');
const C6 = Buffer.from('{"id":"', 'latin1');
const C7 = Buffer.from(',"side":"', 'latin1');
const C8 = Buffer.from(',"quantity":"', 'latin1');
const C9 = Buffer.from(',"price":"', 'latin1');
const C10 = Buffer.from(',"newClientOrderId":"', 'latin1');
const C11 = Buffer.from('","newOrderRespType":"', 'latin1');
const C12 = Buffer.from(',"reduceOnly":"true"', 'latin1');
const C13 = Buffer.from(',"recvWindow":', 'latin1');
const C14 = Buffer.from('","method":"order.place","params":{"symbol":', 'latin1');
const C15 = Buffer.from('",', 'latin1');
const C16 = Buffer.from(',"timestamp":', 'latin1');
const C17 = Buffer.from('}}', 'latin1');

export type BinanceMarket = 'spot' | 'usdm';

const HEAD_KEYS = ['MARKET', 'GTC', 'IOC', 'FOK', 'POST_ONLY'] as const;

/** index of the prepared head for side x (MARKET | tif) */
function headIndex(side: OrderFields['side'], type: OrderFields['type'], tif: OrderFields['tif']): number {
  const k = type === 'MARKET' ? 0 : tif === 'GTC' ? 1 : tif === 'IOC' ? 2 : tif === 'FOK' ? 3 : 4;
  return (side === 'BUY' ? 0 : 5) + k;
}

export interface TemplateInstrument {
  symbol: string;
  priceDecimals: number;
  qtyDecimals: number;
}

export class BinanceOrderTemplate {
  private readonly symbolPart: Buffer;
  private readonly wsSymbolPart: Buffer;
  private readonly tail: Buffer;

  constructor(
    readonly market: BinanceMarket,
    readonly inst: TemplateInstrument,
    recvWindow = 5000,
    private readonly respType: 'ACK' | 'RESULT' = 'RESULT',
  ) {
    this.symbolPart = Buffer.from('symbol=' + percentEncode(inst.symbol) + '&side=', 'latin1');
    this.wsSymbolPart = Buffer.from(JSON.stringify(inst.symbol), 'utf8');
    this.tail = Buffer.from('&recvWindow=' + String(recvWindow) + '&timestamp=', 'latin1');
    this.prepareTypes();
    this.prepareHeads(recvWindow);
  }

  /** type/timeInForce parameters in this market's spelling, prepared per combination: [form, json] */
  private readonly typeBytes = new Map<string, [Buffer, Buffer]>();

  private prepareTypes(): void {
    const combos: Array<[string, Array<[string, string]>]> = [
      ['MARKET', [['type', 'MARKET']]],
      [
        'GTC',
        [
          ['type', 'LIMIT'],
          ['timeInForce', 'GTC'],
        ],
      ],
      [
        'IOC',
        [
          ['type', 'LIMIT'],
          ['timeInForce', 'IOC'],
        ],
      ],
      [
        'FOK',
        [
          ['type', 'LIMIT'],
          ['timeInForce', 'FOK'],
        ],
      ],
      [
        'POST_ONLY',
        this.market === 'spot'
          ? [['type', 'LIMIT_MAKER']]
          : [
              ['type', 'LIMIT'],
              ['timeInForce', 'GTX'],
            ],
      ],
    ];
    for (const [key, kv] of combos) {
      const form = kv.map(([k, v]) => `${k}=${v}`).join('&');
      const json = kv.map(([k, v]) => `"${k}":"${v}"`).join(',');
      this.typeBytes.set(key, [Buffer.from(form, 'latin1'), Buffer.from(json, 'latin1')]);
    }
  }

  /** "symbol=..&side=..&type=..[&timeInForce=..]&quantity=" per side and type/tif: one copy per order;
   * indexed by headIndex (no key string built per order) */
  private readonly heads: Buffer[] = [];
  /** "&newOrderRespType=..[&reduceOnly=true]&recvWindow=..&timestamp=" */
  private tailPlain: Buffer = Buffer.alloc(0);
  private tailReduce: Buffer = Buffer.alloc(0);

  private prepareHeads(recvWindow: number): void {
    for (const side of ['BUY', 'SELL'] as const) {
      for (const key of HEAD_KEYS) {
        const form = this.typeBytes.get(key)![0];
        this.heads[headIndex(side, key === 'MARKET' ? 'MARKET' : 'LIMIT', key === 'MARKET' ? 'GTC' : key)] = Buffer.concat([
          this.symbolPart,
          Buffer.from(side + '&', 'latin1'),
          form,
          C0,
        ]);
      }
    }
    const rest = '&recvWindow=' + String(recvWindow) + '&timestamp=';
    this.tailPlain = Buffer.from('&newOrderRespType=' + this.respType + rest, 'latin1');
    this.tailReduce = Buffer.from('&newOrderRespType=' + this.respType + (this.market === 'usdm' ? '&reduceOnly=true' : '') + rest, 'latin1');
  }

  /**
   * The signed REST body as a string (the fast path): prepared head, qty, price, client id, prepared tail,
   * timestamp; the unsigned text is hashed and `&signature=` appended by string concatenation.
   */
  restBodyText(w: AsciiWriter, f: OrderFields, sign: (unsigned: string) => string): string {
    w.reset();
    w.bytes(this.heads[headIndex(f.side, f.type, f.tif)]!).scaled(f.qty, this.inst.qtyDecimals);
    if (f.type !== 'MARKET') w.bytes(C1).scaled(f.price, this.inst.priceDecimals);
    w.bytes(C2).str(f.clientOrderId);
    w.bytes(f.reduceOnly ? this.tailReduce : this.tailPlain).int(f.timestampMs);
    const unsigned = w.toString();
    return unsigned + '&signature=' + sign(unsigned);
  }

  private typeParams(w: AsciiWriter, f: OrderFields, json: boolean): void {
    const t = this.typeBytes.get(f.type === 'MARKET' ? 'MARKET' : f.tif)!;
    w.bytes(json ? t[1] : t[0]);
  }

  /**
   * Write the signed REST body into w (reset first). Returns the writer; `w.view()` is the body to send.
   */
  restBody(w: AsciiWriter, f: OrderFields, signer: PayloadSigner): AsciiWriter {
    w.reset();
    w.bytes(this.symbolPart).str(f.side).byte(38 /* & */);
    this.typeParams(w, f, false);
    w.bytes(C0).scaled(f.qty, this.inst.qtyDecimals);
    if (f.type !== 'MARKET') w.bytes(C1).scaled(f.price, this.inst.priceDecimals);
    w.bytes(C2).str(f.clientOrderId);
    w.bytes(C3).str(this.respType);
    if (f.reduceOnly && this.market === 'usdm') w.bytes(C4);
    w.bytes(this.tail).int(f.timestampMs);
    const end = w.pos;
    w.bytes(C5);
    signer.appendSignature(w, 0, end);
    return w;
  }

  /** WS API `order.place` frame for a logged-on session (no apiKey/signature). */
  wsPlace(w: AsciiWriter, reqId: string, f: OrderFields, recvWindow = 5000): AsciiWriter {
    w.reset();
    w.bytes(C6).str(reqId).bytes(C14).bytes(this.wsSymbolPart);
    w.bytes(C7).str(f.side).bytes(C15);
    this.typeParams(w, f, true);
    w.bytes(C8).scaled(f.qty, this.inst.qtyDecimals).byte(34);
    if (f.type !== 'MARKET') w.bytes(C9).scaled(f.price, this.inst.priceDecimals).byte(34);
    w.bytes(C10).str(f.clientOrderId);
    w.bytes(C11).str(this.respType).byte(34);
    if (f.reduceOnly && this.market === 'usdm') w.bytes(C12);
    w.bytes(C13).int(recvWindow).bytes(C16).int(f.timestampMs).bytes(C17);
    return w;
  }
}

export { AsciiWriter };

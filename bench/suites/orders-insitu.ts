/**
 * The order path as it runs in situ (issue 14): one order at a time, with the caches as a live engine finds them.
 * Orders are rare next to market data, so in production the path runs cold: between two orders the process (and,
 * on a shared vCPU, the simulator or anything else) evicts its code and data. The hot benchmarks
 * (orders-path, orders-sign) run it back to back, which hides that.
 *
 * One iteration = Engine.place (risk -> the one order record -> send) -> a venue stub that builds and sends nowhere
 * the real Binance WS API `order.place` frame (BinanceOrderTemplate, as the gateway does on a logged-on session),
 * then ack + cancel + canceled (the state stays bounded). Tasks:
 *   warm:      iterations back to back
 *   disturbed: before each iteration (not timed) a 32 MB buffer is read and written, which evicts L1, L2 and the
 *              last-level cache: what a rare order meets after the simulator's or another process's work
 *   disturbed + warm-up: the same, then a never-sent order is built and signed (what loop.warmUs does between
 *              orders) before the timed one: how much of the cold cost keep-warm takes back
 * Ratios within one run are what to read (disturbed / warm); the machine is shared and noisy.
 * Run: npm run bench -- --filter orders-insitu
 */
import type { Bench } from 'tinybench';
import { orderPath, type OrderPath } from '../orderpath.js';
import { BinanceOrderTemplate } from '../../src/exchange/binance/trade/template.js';
import { blankOrderFields, setOrderFields } from '../../src/codec/template.js';
import { AsciiWriter } from '../../src/codec/wire.js';
import type { GatewayOrder } from '../../src/orders/gateway.js';
import { warmOrder } from '../../src/orders/basegw.js';

/** bigger than this machine's last-level cache */
const EVICT_BYTES = 32 * 1024 * 1024;

export default async function register(bench: Bench): Promise<void> {
  const evict = new Uint8Array(EVICT_BYTES);
  let sink = 0;
  const disturb = (): void => {
    // touch every cache line: read and write, so dirty lines leave too
    for (let i = 0; i < EVICT_BYTES; i += 64) {
      sink += evict[i]!;
      evict[i] = sink & 0xff;
    }
  };
  for (const journal of [true, false]) {
    const tag = journal ? 'journal' : 'no journal';
    const p: OrderPath = await orderPath({ journal });
    const tpl = new BinanceOrderTemplate('spot', p.instrument);
    const w = new AsciiWriter(2048);
    const f = blankOrderFields();
    let frameBytes = 0;
    // the venue stub builds the real WS API frame on place, as BinanceWsApiGateway.sendPlace does
    const place0 = p.venue.place.bind(p.venue);
    p.venue.place = (o: GatewayOrder): void => {
      setOrderFields(f, o, 1_763_776_800_000);
      frameBytes = tpl.wsPlace(w, 'r1', f, 5000).view().length;
      place0(o);
    };
    const warm = warmOrder(p.instrument.symbol);
    const warmUp = (): void => {
      setOrderFields(f, warm, 1_763_776_800_000);
      tpl.wsPlace(w, 'warm', f, 5000);
    };
    const cycle = (): void => {
      p.cancelCycle();
      p.flush(); // the journal's batch timer, per order: the state stays bounded
    };
    for (let i = 0; i < 20_000; i++) cycle();
    bench.add(`order in situ, ${tag}: place -> WS API frame, ack, cancel; warm (back to back)`, cycle);
    bench.add(`order in situ, ${tag}: the same, caches disturbed before each order`, cycle, { beforeEach: disturb });
    bench.add(`order in situ, ${tag}: the same, caches disturbed, then a never-sent frame built (keep-warm)`, cycle, {
      beforeEach() {
        disturb();
        warmUp();
      },
      afterAll(mode) {
        if (mode === 'run') {
          p.close();
          process.stdout.write(`orders-insitu (${tag}): ${p.cycles} orders, frame ${frameBytes} B, sink ${sink & 1}\n`);
        }
      },
    });
  }
}

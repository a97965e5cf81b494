import { describe, expect, it } from 'vitest';
import { StrategyRunner, type Strategy } from '../../src/strategy/types.js';
import { blankOrderEvent } from '../../src/model/orders.js';

class Boom implements Strategy {
  readonly name = 'boom';
  calls = 0;
  stopped = false;
  onTick(): void {
    this.calls++;
    throw new Error('tick failed');
  }
  onBook(): void {
    this.calls++;
    throw new Error('book failed');
  }
  onOrderEvent(): void {
    this.calls++;
    throw new Error('event failed');
  }
  stop(): void {
    this.stopped = true;
  }
}

describe('strategy runner', () => {
  it('catches and counts exceptions, disables the strategy after N, then stops calling it', () => {
    const s = new Boom();
    const r = new StrategyRunner(s, 3);
    let why = '';
    r.onDisabled = (w) => (why = w);
    expect(() => r.tick(0)).not.toThrow();
    r.book(1);
    expect(r.disabled).toBe(false);
    r.orderEvent(blankOrderEvent());
    expect(r.errors).toBe(3);
    expect(r.disabled).toBe(true);
    expect(s.stopped).toBe(true);
    expect(why).toContain('event failed');
    r.tick(0);
    r.book(0);
    expect(s.calls).toBe(3);
    r.reset();
    r.tick(0);
    expect(s.calls).toBe(4);
  });
});

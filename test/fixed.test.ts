import { describe, expect, it } from 'vitest';
import { decimalsOfStep, formatScaled, parseScaled } from '../src/util/fixed.js';

describe('scaled integers', () => {
  it('reads step sizes as exchanges publish them', () => {
    expect(decimalsOfStep('0.01000000')).toBe(2);
    expect(decimalsOfStep('1.00000000')).toBe(0);
    expect(decimalsOfStep('0.00001')).toBe(5);
    expect(decimalsOfStep('10')).toBe(0);
  });
  it('parses and formats round trip', () => {
    expect(parseScaled('27123.45', 2)).toBe(2712345);
    expect(parseScaled('27123.4500', 2)).toBe(2712345);
    expect(parseScaled('0.00000000', 8)).toBe(0);
    expect(parseScaled('5', 3)).toBe(5000);
    expect(formatScaled(2712345, 2)).toBe('27123.45');
    expect(formatScaled(5, 3)).toBe('0.005');
    expect(formatScaled(7, 0)).toBe('7');
  });
  it('rejects what is not a plain decimal or is too precise', () => {
    for (const bad of ['', '-1', '1e5', '1.2.3', 'abc', '1.005']) expect(parseScaled(bad, 2)).toBeNaN();
  });
});

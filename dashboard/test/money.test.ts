import { describe, expect, test } from 'vitest';
import { dollarsToMicros, microsToDollars, usd } from '../src/lib/format';

describe('money in micro-dollars', () => {
  test('dollars typed by the owner become exact micro-dollars', () => {
    expect(dollarsToMicros('2.50')).toBe(2_500_000);
    expect(dollarsToMicros('$0.000001')).toBe(1);
    expect(dollarsToMicros('9.99')).toBe(9_990_000);
    expect(dollarsToMicros('0.1')).toBe(100_000);
    expect(dollarsToMicros('12')).toBe(12_000_000);
    for (const bad of ['', '.', '-1', '1.0000001', 'abc', '1,5']) expect(dollarsToMicros(bad)).toBeNull();
  });

  test('micro-dollars show as dollars, small amounts to the micro-dollar', () => {
    expect(usd(0)).toBe('$0.00');
    expect(usd(105_075)).toBe('$0.105075');
    expect(usd(12_340_000)).toBe('$12.34');
    expect(usd(75)).toBe('$0.000075');
    expect(usd(-5_000)).toBe('−$0.005');
    expect(usd(null)).toBe('—');
    expect(microsToDollars(2_500_000)).toBe('2.5');
    expect(microsToDollars(7)).toBe('0.000007');
    expect(dollarsToMicros(microsToDollars(123_456_789))).toBe(123_456_789);
  });
});

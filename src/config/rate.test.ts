import { describe, expect, it } from 'vitest';
import { parseRate } from './rate.ts';

describe('parseRate', () => {
  it.each([
    ['30/60s', { points: 30, durationSeconds: 60 }],
    ['10/15m', { points: 10, durationSeconds: 900 }],
    [' 5 / 1h ', { points: 5, durationSeconds: 3600 }],
    ['3/2', { points: 3, durationSeconds: 2 }],
  ])('reads %j', (value, expected) => {
    expect(parseRate(value)).toEqual(expected);
  });

  it('reads off', () => {
    expect(parseRate('OFF')).toBe('off');
  });

  it.each(['', '30', '0/1m', '-1/1m', '1/0s', '1/soon', '1.5/1m', '1/1m/1', '1/30d', 'unlimited'])('refuses %j', (value) => {
    expect(parseRate(value)).toBeUndefined();
  });
});

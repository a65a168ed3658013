import { parseDurationSeconds } from './duration.ts';

/** At most `points` attempts per fixed window of `durationSeconds`. */
export interface Rate {
  points: number;
  durationSeconds: number;
}

/**
 * Parses a rate such as `30/60s`, `10/15m` or `5/1h` (attempts per window, at most 24 days), or `off`. Returns
 * undefined for anything else, so the caller can name the bad variable.
 */
export function parseRate(value: string): Rate | 'off' | undefined {
  const trimmed = value.trim();
  if (trimmed.toLowerCase() === 'off') return 'off';
  const match = /^(\d{1,9})\s*\/\s*(\S+)$/.exec(trimmed);
  if (!match) return undefined;
  const points = Number(match[1]);
  const durationSeconds = parseDurationSeconds(match[2] ?? '');
  // The in-memory store expires counters with timers, which top out at 24.8 days.
  if (points < 1 || durationSeconds === null || durationSeconds > 24 * 86400) return undefined;
  return { points, durationSeconds };
}

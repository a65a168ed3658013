// Durations in configuration are written like "15m", "7d", "1h", "30s" or plain seconds ("900").
const UNIT_SECONDS: Record<string, number> = { s: 1, m: 60, h: 3600, d: 86400 };

/** Parses a duration to whole seconds; returns null for anything malformed or not positive. */
export function parseDurationSeconds(value: string): number | null {
  const match = /^\s*(\d+)\s*([smhd]?)\s*$/.exec(value);
  if (!match) return null;
  const amount = Number(match[1]);
  const seconds = amount * (UNIT_SECONDS[match[2] || 's'] ?? 1);
  return Number.isSafeInteger(seconds) && seconds > 0 ? seconds : null;
}

/**
 * Calendar periods in a time zone, for quotas: the id of the period an instant falls in
 * (`2026-11-27` for a day, `2026-11` for a month) and the instant that period ends (the next
 * local midnight, DST included).
 */
export type CalendarUnit = 'day' | 'month';

export interface CalendarPeriod {
  readonly id: string;
  readonly startMs: number;
  readonly endMs: number;
}

export interface Calendar {
  readonly unit: CalendarUnit;
  readonly timeZone: string;
  period(nowMs: number): CalendarPeriod;
}

/** Throws RangeError for an unknown time zone (call at config load). */
export function createCalendar(unit: CalendarUnit, timeZone: string): Calendar {
  const format = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: 'numeric',
    day: 'numeric',
    hour: 'numeric',
    minute: 'numeric',
    second: 'numeric',
  });
  const fields = (ms: number): number[] => {
    const out = [0, 0, 0, 0, 0, 0];
    for (const part of format.formatToParts(ms)) {
      const index = ['year', 'month', 'day', 'hour', 'minute', 'second'].indexOf(part.type);
      if (index >= 0) out[index] = Number(part.value);
    }
    return out;
  };
  /** Local wall-clock fields minus UTC at `ms`: the zone offset in ms. */
  const offset = (ms: number): number => {
    const [y = 0, mo = 1, d = 1, h = 0, mi = 0, s = 0] = fields(ms);
    return Date.UTC(y, mo - 1, d, h, mi, s) - Math.floor(ms / 1000) * 1000;
  };
  /** The instant local midnight of (y, m, d) happens (the first instant at or after it). */
  const localMidnight = (y: number, m: number, d: number): number => {
    const wall = Date.UTC(y, m - 1, d);
    let guess = wall - offset(wall);
    guess = wall - offset(guess);
    return guess;
  };
  let cache: CalendarPeriod | undefined;
  return {
    unit,
    timeZone,
    period(nowMs) {
      if (cache !== undefined && nowMs >= cache.startMs && nowMs < cache.endMs) return cache;
      const [y = 0, m = 1, d = 1] = fields(nowMs);
      const pad = (n: number): string => String(n).padStart(2, '0');
      cache =
        unit === 'day'
          ? {
              id: `${y}-${pad(m)}-${pad(d)}`,
              startMs: localMidnight(y, m, d),
              endMs: localMidnight(y, m, d + 1),
            }
          : { id: `${y}-${pad(m)}`, startMs: localMidnight(y, m, 1), endMs: localMidnight(y, m + 1, 1) };
      return cache;
    },
  };
}

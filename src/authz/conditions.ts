import { BlockList, isIP } from 'node:net';
import type { TimeWindowConfig } from './config.js';

/** Source address lists compiled into `net.BlockList`s (IPv4 and IPv6; IPv4-mapped IPv6 is seen as IPv4). */
export interface AddressList {
  has(address: string): boolean;
}

/** Compiles CIDRs and single addresses; throws TypeError naming the bad entry. */
export function compileAddressList(entries: readonly string[]): AddressList {
  const list = new BlockList();
  for (const entry of entries) {
    const slash = entry.indexOf('/');
    const address = slash === -1 ? entry : entry.slice(0, slash);
    const family = isIP(address);
    if (family === 0) throw new TypeError(`"${entry}" is not an IP address or CIDR`);
    const type = family === 4 ? 'ipv4' : 'ipv6';
    if (slash === -1) {
      list.addAddress(address, type);
      continue;
    }
    const prefixText = entry.slice(slash + 1);
    const prefix = Number(prefixText);
    if (!/^[0-9]{1,3}$/.test(prefixText) || prefix > (family === 4 ? 32 : 128)) {
      throw new TypeError(`"${entry}" has an invalid prefix length`);
    }
    list.addSubnet(address, prefix, type);
  }
  return {
    has(address) {
      const plain = unmapIpv4(address);
      const family = isIP(plain);
      if (family === 0) return false;
      return list.check(plain, family === 4 ? 'ipv4' : 'ipv6');
    },
  };
}

/** `::ffff:10.0.0.1` -> `10.0.0.1`, so IPv4 rules hold on dual-stack listeners. */
export function unmapIpv4(address: string): string {
  const lower = address.toLowerCase();
  return lower.startsWith('::ffff:') && isIP(lower.slice(7)) === 4 ? lower.slice(7) : address;
}

export function isValidIp(address: string): boolean {
  return isIP(unmapIpv4(address)) !== 0;
}

const DAYS = ['sun', 'mon', 'tue', 'wed', 'thu', 'fri', 'sat'] as const;
const WEEKDAY: Readonly<Record<string, number>> = { Sun: 0, Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6 };
const CLOCK = /^([01][0-9]|2[0-3]):([0-5][0-9])$|^24:00$/;

/** Time windows in which a route may be used; the answer is cached per minute. */
export interface TimeWindows {
  isOpen(nowMs: number): boolean;
}

/** Compiles windows; throws TypeError for a bad clock time or time zone. */
export function compileTimeWindows(windows: readonly TimeWindowConfig[]): TimeWindows {
  const compiled = windows.map((window) => {
    const from = minutes(window.from);
    const to = minutes(window.to);
    if (from === to) throw new TypeError(`time window ${window.from}-${window.to} is empty`);
    let format: Intl.DateTimeFormat;
    try {
      format = new Intl.DateTimeFormat('en-US', {
        timeZone: window.tz ?? 'UTC',
        weekday: 'short',
        hour: '2-digit',
        minute: '2-digit',
        hourCycle: 'h23',
      });
    } catch {
      throw new TypeError(`unknown time zone "${window.tz}"`);
    }
    const days = new Set((window.days ?? DAYS).map((day) => DAYS.indexOf(day)));
    return { from, to, format, days };
  });
  let cachedMinute = Number.NaN;
  let cachedOpen = false;
  return {
    isOpen(nowMs) {
      const minute = Math.floor(nowMs / 60_000);
      if (minute === cachedMinute) return cachedOpen;
      cachedOpen = compiled.some((window) => {
        const { day, clock } = localTime(window.format, nowMs);
        if (window.from < window.to) return window.days.has(day) && clock >= window.from && clock < window.to;
        // overnight window, e.g. 22:00-06:00: the early part belongs to the previous day's window
        return (
          (window.days.has(day) && clock >= window.from) ||
          (window.days.has((day + 6) % 7) && clock < window.to)
        );
      });
      cachedMinute = minute;
      return cachedOpen;
    },
  };
}

function minutes(clock: string): number {
  if (!CLOCK.test(clock)) throw new TypeError(`"${clock}" is not a HH:MM time`);
  const [hours, mins] = clock.split(':').map(Number) as [number, number];
  return hours * 60 + mins;
}

function localTime(format: Intl.DateTimeFormat, nowMs: number): { day: number; clock: number } {
  let day = 0;
  let hour = 0;
  let minute = 0;
  for (const part of format.formatToParts(nowMs)) {
    if (part.type === 'weekday') day = WEEKDAY[part.value] ?? 0;
    else if (part.type === 'hour') hour = Number(part.value);
    else if (part.type === 'minute') minute = Number(part.value);
  }
  return { day, clock: hour * 60 + minute };
}

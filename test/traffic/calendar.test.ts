import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createCalendar } from '../../src/traffic/calendar.js';

test('days in UTC', () => {
  const cal = createCalendar('day', 'UTC');
  const p = cal.period(Date.UTC(2026, 10, 27, 23, 59, 59));
  assert.equal(p.id, '2026-11-27');
  assert.equal(p.startMs, Date.UTC(2026, 10, 27));
  assert.equal(p.endMs, Date.UTC(2026, 10, 28));
  assert.equal(cal.period(Date.UTC(2026, 10, 28)).id, '2026-11-28');
});

test('days in a zone east of UTC: the local date decides', () => {
  const cal = createCalendar('day', 'Asia/Tokyo'); // UTC+9, no DST
  const p = cal.period(Date.UTC(2026, 10, 27, 16, 0)); // 01:00 on the 28th in Tokyo
  assert.equal(p.id, '2026-11-28');
  assert.equal(p.startMs, Date.UTC(2026, 10, 27, 15, 0));
  assert.equal(p.endMs, Date.UTC(2026, 10, 28, 15, 0));
});

test('a DST day is 23 or 25 hours long', () => {
  const cal = createCalendar('day', 'Europe/Berlin');
  const spring = cal.period(Date.UTC(2026, 2, 29, 12)); // 29 March 2026: clocks go forward
  assert.equal(spring.id, '2026-03-29');
  assert.equal(spring.endMs - spring.startMs, 23 * 3_600_000);
  const autumn = cal.period(Date.UTC(2026, 9, 25, 12)); // 25 October 2026: clocks go back
  assert.equal(autumn.endMs - autumn.startMs, 25 * 3_600_000);
  assert.equal(autumn.startMs, Date.UTC(2026, 9, 24, 22));
});

test('months, including the year boundary, in a zone west of UTC', () => {
  const cal = createCalendar('month', 'America/New_York');
  const p = cal.period(Date.UTC(2027, 0, 1, 3)); // still 31 Dec 22:00 in New York
  assert.equal(p.id, '2026-12');
  assert.equal(p.startMs, Date.UTC(2026, 11, 1, 5));
  assert.equal(p.endMs, Date.UTC(2027, 0, 1, 5));
});

test('an unknown time zone is refused', () => {
  assert.throws(() => createCalendar('day', 'Mars/Olympus'), RangeError);
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { compileAddressList, compileTimeWindows } from '../../src/authz/conditions.js';

describe('address lists', () => {
  const list = compileAddressList(['10.0.0.0/8', '192.168.1.7', '2001:db8::/32', '::1/128']);

  test('IPv4, IPv6, single addresses and mapped IPv4', () => {
    assert.ok(list.has('10.255.0.1'));
    assert.ok(list.has('192.168.1.7'));
    assert.ok(!list.has('192.168.1.8'));
    assert.ok(list.has('2001:db8:ffff::1'));
    assert.ok(list.has('::1'));
    assert.ok(list.has('::ffff:10.0.0.1'));
    assert.ok(list.has('::FFFF:10.0.0.1'));
    assert.ok(!list.has('::ffff:11.0.0.1'));
    assert.ok(!list.has('2001:db9::1'));
  });

  test('garbage addresses are never in a list', () => {
    for (const bad of ['', 'localhost', '10.0.0', '10.0.0.1.1', '::g', 'unknown'])
      assert.ok(!list.has(bad), bad);
  });

  test('bad entries are refused at load', () => {
    for (const bad of ['10.0.0.0/33', '::/129', 'example.com', '10.0.0.0/x', '10.0.0.0/-1']) {
      assert.throws(() => compileAddressList([bad]), TypeError, bad);
    }
  });
});

describe('time windows', () => {
  const at = (iso: string) => Date.parse(iso);

  test('weekday office hours in UTC', () => {
    const w = compileTimeWindows([{ days: ['mon', 'tue', 'wed', 'thu', 'fri'], from: '08:00', to: '18:00' }]);
    assert.ok(w.isOpen(at('2026-11-23T08:00:00Z')), 'Monday 08:00 is inside');
    assert.ok(
      !compileTimeWindows([{ days: ['mon'], from: '08:00', to: '18:00' }]).isOpen(at('2026-11-23T18:00:00Z')),
      'to is exclusive',
    );
    assert.ok(!w.isOpen(at('2026-11-23T07:59:00Z')));
    assert.ok(!w.isOpen(at('2026-11-28T12:00:00Z')), 'Saturday');
  });

  test('time zones', () => {
    const w = compileTimeWindows([{ days: ['mon'], from: '08:00', to: '09:00', tz: 'Asia/Tokyo' }]);
    assert.ok(w.isOpen(at('2026-11-22T23:30:00Z')), 'Sunday 23:30 UTC is Monday 08:30 in Tokyo');
    assert.ok(
      !compileTimeWindows([{ days: ['mon'], from: '08:00', to: '09:00', tz: 'Asia/Tokyo' }]).isOpen(
        at('2026-11-23T08:30:00Z'),
      ),
    );
  });

  test('overnight windows belong to the day they start', () => {
    const night = () => compileTimeWindows([{ days: ['fri'], from: '22:00', to: '06:00' }]);
    assert.ok(night().isOpen(at('2026-11-27T23:00:00Z')), 'Friday 23:00');
    assert.ok(night().isOpen(at('2026-11-28T05:59:00Z')), 'Saturday 05:59 continues Friday night');
    assert.ok(!night().isOpen(at('2026-11-28T22:30:00Z')), 'Saturday night is not Friday night');
    assert.ok(!night().isOpen(at('2026-11-27T05:00:00Z')), 'Friday early morning continues Thursday night');
  });

  test('bad windows are refused at load', () => {
    assert.throws(() => compileTimeWindows([{ from: '8:00', to: '18:00' }]), TypeError);
    assert.throws(() => compileTimeWindows([{ from: '08:00', to: '25:00' }]), TypeError);
    assert.throws(() => compileTimeWindows([{ from: '08:00', to: '08:00' }]), TypeError);
    assert.throws(
      () => compileTimeWindows([{ from: '08:00', to: '18:00', tz: 'Mars/Olympus' }]),
      /time zone/,
    );
  });
});

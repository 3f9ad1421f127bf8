import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ipGroup } from '../../src/traffic/ip-prefix.js';

test('IPv6 addresses in one /64 share a group; other /64s do not', () => {
  const a = ipGroup('2001:db8:1:2:aaaa::1');
  assert.equal(a, '2001:db8:1:2:0:0:0:0/64');
  assert.equal(ipGroup('2001:db8:1:2:ffff:ffff:ffff:ffff'), a);
  assert.equal(ipGroup('2001:0db8:0001:0002::'), a);
  assert.notEqual(ipGroup('2001:db8:1:3::1'), a);
});

test('IPv6 prefix lengths that cut a hextet', () => {
  assert.equal(ipGroup('2001:db8:abcd:1234::1', 56), '2001:db8:abcd:1200:0:0:0:0/56');
  assert.equal(ipGroup('::1', 128), '0:0:0:0:0:0:0:1/128');
  assert.equal(ipGroup('fe80::1%eth0', 64), 'fe80:0:0:0:0:0:0:0/64');
  assert.equal(ipGroup('::ffff:0:1.2.3.4', 96), '0:0:0:0:ffff:0:0:0/96');
});

test('IPv4 and IPv4-mapped addresses', () => {
  assert.equal(ipGroup('203.0.113.7'), '203.0.113.7');
  assert.equal(ipGroup('::ffff:203.0.113.7'), '203.0.113.7');
  assert.equal(ipGroup('203.0.113.7', 64, 24), '203.0.113.0/24');
  assert.equal(ipGroup('203.0.113.200', 64, 25), '203.0.113.128/25');
});

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileKey, compileKeyParts } from '../../src/traffic/limit-key.js';
import { fakeContext } from './fakes.js';

const options = { ipv6Prefix: 64, ipv4Prefix: 32 };

test('head + subject is the key; a fixed tag moves into the head', () => {
  const ctx = fakeContext({
    ip: '203.0.113.9',
    identity: { consumerId: 'acme', credentialId: 'key-1' },
    headers: { 'x-tenant': 't1' },
    route: 'orders',
  });
  const cases: [string[], string, string][] = [
    [['ip'], 'p:ip:', '203.0.113.9'],
    [['route'], 'p:r:', 'orders'],
    [['header:X-Tenant'], 'p:h:', 't1'],
    [['consumer'], 'p:', 'c:acme'],
    [['credential'], 'p:', 'k:key-1'],
    [['operation'], 'p:', 'r:orders'],
    [['ip', 'header:x-tenant'], 'p:', '14.ip:203.0.113.94.h:t1'],
  ];
  for (const [parts, head, subject] of cases) {
    const compiled = compileKeyParts(parts, { ...options, prefix: 'p:' });
    assert.equal(compiled.head, head, parts.join());
    assert.equal(compiled.subject(ctx), subject, parts.join());
    assert.equal(compileKey(parts, { ...options, prefix: 'p:' })(ctx), head + subject);
    assert.equal(compileKey(parts, options)(ctx), head.slice(2) + subject);
  }
});

test('an IPv4 subject is the request address itself; IPv6 is grouped', () => {
  const ip = ['192', '0', '2', '1'].join('.');
  const { subject } = compileKeyParts(['ip'], options);
  assert.equal(subject(fakeContext({ ip })), ip);
  assert.equal(subject(fakeContext({ ip: '2001:db8:0:1::5' })), '2001:db8:0:1:0:0:0:0/64');
  assert.equal(
    compileKeyParts(['ip'], { ...options, ipv4Prefix: 24 }).subject(fakeContext({ ip })),
    '192.0.2.0/24',
  );
});

test('an unauthenticated consumer key falls back to the IP, tagged so it cannot meet a consumer id', () => {
  const { head, subject } = compileKeyParts(['consumer'], options);
  assert.equal(head + subject(fakeContext({ ip: '192.0.2.1' })), 'ip:192.0.2.1');
  assert.equal(head + subject(fakeContext({ identity: { consumerId: '192.0.2.1' } })), 'c:192.0.2.1');
});

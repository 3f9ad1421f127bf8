import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

describe('authorization conditions through the gateway', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({
      consumers: [{ name: 'alice', roles: ['user'] }],
      roles: { user: { permissions: ['*'] } },
      extra: {
        trustedProxies: ['127.0.0.1/32', '::1/128'],
        listeners: [
          { host: '127.0.0.1', port: 0 },
          { host: '::1', port: 0 },
        ],
      },
      routes: [
        {
          name: 'internal',
          match: { pathPrefix: '/internal' },
          authorization: {
            conditions: {
              ipAllow: ['10.0.0.0/8', '2001:db8::/32'],
              ipDeny: ['10.66.0.0/16', '2001:db8:bad::/48'],
            },
          },
        },
        {
          name: 'loopback',
          match: { pathPrefix: '/loopback' },
          authorization: { conditions: { ipAllow: ['::1/128'] } },
        },
        {
          name: 'mtls',
          match: { pathPrefix: '/mtls' },
          authorization: { conditions: { requireMtls: true } },
        },
        {
          name: 'always',
          match: { pathPrefix: '/always' },
          authorization: {
            conditions: { timeWindows: [{ from: '00:00', to: '24:00', tz: 'Europe/Zurich' }] },
          },
        },
        {
          name: 'never',
          match: { pathPrefix: '/never' },
          authorization: { conditions: { timeWindows: [{ days: [], from: '00:00', to: '24:00' }] } },
        },
      ],
    });
  });
  after(() => h.close());

  const from = (ip: string, path = '/internal/x') =>
    h.call('alice', path, { headers: { 'x-forwarded-for': ip } });

  test('IPv4 allow and deny lists', async () => {
    assert.equal((await from('10.1.2.3')).status, 200);
    assert.equal((await from('10.66.1.1')).status, 403, 'deny wins over allow');
    assert.equal((await from('192.168.1.1')).status, 403);
    assert.equal((await from('11.0.0.1')).status, 403);
    assert.equal((await from('::ffff:10.1.2.3')).status, 200, 'IPv4-mapped IPv6 is judged as IPv4');
    assert.equal((await from('::ffff:10.66.0.1')).status, 403);
  });

  test('IPv6 allow and deny lists', async () => {
    assert.equal((await from('2001:db8:1::5')).status, 200);
    assert.equal((await from('2001:DB8:1::5')).status, 200);
    assert.equal((await from('2001:db8:bad::1')).status, 403);
    assert.equal((await from('2001:db9::1')).status, 403);
    assert.equal((await from('fe80::1')).status, 403);
  });

  test('a real IPv6 client on ::1', async () => {
    const v6 = h.gw.urls.find((url) => url.includes('['));
    assert.ok(v6, 'an IPv6 listener');
    const res = await fetch(`${v6}/loopback/x`, { headers: { 'x-api-key': h.keys.alice as string } });
    assert.equal(res.status, 200);
    assert.equal((await h.call('alice', '/loopback/x')).status, 403, '127.0.0.1 is not ::1');
  });

  test('requireMtls refuses a plain-HTTP caller', async () => {
    assert.equal((await h.call('alice', '/mtls/x')).status, 403);
  });

  test('time windows', async () => {
    assert.equal((await h.call('alice', '/always/x')).status, 200);
    assert.equal((await h.call('alice', '/never/x')).status, 403);
    assert.ok(h.audits().some((line) => line.reason === 'outside_time_window'));
  });
});

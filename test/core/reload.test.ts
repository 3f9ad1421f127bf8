import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

function configFor(url: string, extra: Record<string, unknown> = {}) {
  return {
    version: 1,
    listeners: [{ host: '127.0.0.1', port: 0 }],
    upstreams: { u: { targets: [{ url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    ...extra,
  };
}

describe('hot reload', () => {
  let first: TestUpstream;
  let second: TestUpstream;
  let slow: TestUpstream;
  let gw: TestGateway;
  before(async () => {
    first = await startUpstream((_req, res) => res.end('first'));
    second = await startUpstream((_req, res) => res.end('second'));
    slow = await startUpstream((_req, res) => {
      setTimeout(() => res.end('slow-done'), 600);
    });
    gw = await startGateway(configFor(first.url));
  });
  after(async () => {
    await gw.close();
    await Promise.all([first.close(), second.close(), slow.close()]);
  });

  test('an invalid config is rejected and the old one keeps serving', async () => {
    const bad = configFor(first.url, {
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'missing', public: true }],
    });
    await assert.rejects(
      gw.reload(bad),
      (e: unknown) => e instanceof ConfigError && /unknown upstream "missing"/.test(e.message),
    );
    await assert.rejects(gw.reload('version: 1\nlisteners: [oops'), ConfigError);
    assert.equal(await (await fetch(`${gw.url}/x`)).text(), 'first');
    assert.ok(
      gw.logs.some((l) => /reload rejected/.test(String(l.msg))),
      'the rejection is logged',
    );
  });

  test('a valid config swaps atomically', async () => {
    const before = gw.gateway.generation;
    await gw.reload(configFor(second.url));
    assert.equal(gw.gateway.generation, before + 1);
    assert.equal(await (await fetch(`${gw.url}/x`)).text(), 'second');
  });

  test('requests in flight during a reload complete on the old route table', async () => {
    await gw.reload(configFor(slow.url));
    const inflight = fetch(`${gw.url}/slow`).then((r) => r.text());
    await new Promise((r) => setTimeout(r, 100));
    await gw.reload(configFor(first.url));
    assert.equal(await inflight, 'slow-done');
    assert.equal(await (await fetch(`${gw.url}/x`)).text(), 'first');
  });
});

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

describe('introspection through the running gateway', () => {
  let upstream: TestUpstream;
  let idp: Server;
  let idpUrl: string;
  let gw: TestGateway;
  const state = { down: false };

  before(async () => {
    upstream = await startUpstream();
    idp = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        if (state.down) {
          res.writeHead(503).end();
          return;
        }
        const token = new URLSearchParams(body).get('token');
        const answer =
          token === 'opaque-good'
            ? { active: true, sub: 'carol', scope: 'orders:read', exp: Math.floor(Date.now() / 1000) + 600 }
            : { active: false };
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => idp.listen(0, '127.0.0.1', resolve));
    idpUrl = `http://127.0.0.1:${(idp.address() as AddressInfo).port}/introspect`;
    gw = await startGateway({
      authn: {
        bruteForce: { maxFailures: 1000 },
        introspection: {
          servers: {
            idp: {
              url: idpUrl,
              clientId: 'gw',
              clientSecret: 'gw-secret',
              timeoutMs: 1000,
              cache: { maxTtlSec: 1, negativeTtlSec: 0 },
            },
          },
        },
      },
      upstreams: { echo: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'orders',
          match: { pathPrefix: '/orders' },
          upstream: 'echo',
          authorization: { roles: { authenticated: { permissions: ['*'] } } },
          authentication: {
            anyOf: ['introspection:idp'],
            forwardHeaders: { 'x-consumer-subject': 'subject' },
          },
        },
      ],
    });
  });
  after(async () => {
    await gw?.close();
    await upstream?.close();
    idp.closeAllConnections();
    await new Promise<void>((resolve) => idp.close(() => resolve()));
  });

  const get = (token: string) =>
    fetch(`${gw.url}/orders/1`, { headers: { authorization: `Bearer ${token}` } });

  test('active token passes, inactive is 401', async () => {
    const ok = await get('opaque-good');
    assert.equal(ok.status, 200);
    assert.equal(
      ((await ok.json()) as { headers: Record<string, string> }).headers['x-consumer-subject'],
      'carol',
    );
    const bad = await get('opaque-bad');
    assert.equal(bad.status, 401);
    assert.match(bad.headers.get('www-authenticate') ?? '', /error="invalid_token"/);
  });

  test('server failing: 503 authn_unavailable with Retry-After (fail closed)', async () => {
    state.down = true;
    try {
      const response = await get('opaque-fresh-token');
      assert.equal(response.status, 503);
      assert.ok(Number(response.headers.get('retry-after')) > 0);
      const problem = (await response.json()) as Record<string, unknown>;
      assert.equal(problem.code, 'authn_unavailable');
      assert.equal(
        upstream.requests.filter((r) => r.headers.authorization === 'Bearer opaque-fresh-token').length,
        0,
      );
    } finally {
      state.down = false;
    }
  });
});

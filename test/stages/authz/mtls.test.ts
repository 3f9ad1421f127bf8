import assert from 'node:assert/strict';
import { request } from 'node:https';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { createTestPki, type TestPki } from '../../authn/client-cert-fixtures.js';
import { authzGateway, type AuthzGateway } from './harness.js';

function get(
  url: string,
  options: { ca: string; cert?: string; key?: string; apiKey: string },
): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(
      `${url}/secure/x`,
      {
        ca: options.ca,
        ...(options.cert === undefined ? {} : { cert: options.cert, key: options.key }),
        headers: { 'x-api-key': options.apiKey },
      },
      (res) => {
        res.resume();
        res.on('end', () => resolve(res.statusCode ?? 0));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

describe('requireMtls through a TLS listener', () => {
  let pki: TestPki;
  let h: AuthzGateway;
  before(async () => {
    pki = createTestPki();
    h = await authzGateway({
      consumers: [{ name: 'alice', roles: ['user'] }],
      roles: { user: { permissions: ['*'] } },
      extra: {
        listeners: [
          {
            host: '127.0.0.1',
            port: 0,
            tls: {
              certificates: [{ cert: pki.server.certFile, key: join(pki.dir, 'server.key') }],
              clientAuth: { mode: 'request', ca: pki.ca.certFile },
            },
          },
        ],
      },
      routes: [
        {
          name: 'secure',
          match: { pathPrefix: '/secure' },
          authorization: { conditions: { requireMtls: true } },
        },
      ],
    });
  });
  after(async () => {
    await h.close();
    pki.cleanup();
  });

  test('a verified client certificate passes; none, or an untrusted one, is refused', async () => {
    const apiKey = h.keys.alice as string;
    const url = h.gw.url;
    const ca = pki.server.cert; // the listener's self-signed certificate
    assert.equal(await get(url, { ca, cert: pki.client.cert, key: pki.client.key, apiKey }), 200);
    assert.equal(await get(url, { ca, apiKey }), 403);
    const rogue = await get(url, { ca, cert: pki.rogue.cert, key: pki.rogue.key, apiKey }).catch(() => 0);
    assert.ok(rogue === 403 || rogue === 0, `rogue certificate -> ${rogue}`);
  });
});

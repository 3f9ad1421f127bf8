import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../authn/client-cert-fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';

describe('upstream TLS', () => {
  let pki: TestPki;
  let server: Server;
  let url: string;
  const gateways: TestGateway[] = [];
  before(async () => {
    pki = createTestPki();
    server = createServer(
      {
        cert: pki.server.cert,
        key: readFileSync(join(pki.dir, 'server.key')),
        ca: pki.ca.cert,
        requestCert: true,
        rejectUnauthorized: false,
      },
      (req, res) => {
        const socket = req.socket as TLSSocket;
        res.end(
          JSON.stringify({ clientCert: socket.authorized ? socket.getPeerCertificate().subject.CN : null }),
        );
      },
    );
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `https://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    for (const g of gateways) await g.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    pki.cleanup();
  });

  async function via(tls: Record<string, unknown> | undefined): Promise<Response> {
    const gw = await startGateway({
      upstreams: { u: { targets: [{ url }], retries: { attempts: 0 }, ...(tls ? { tls } : {}) } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
    gateways.push(gw);
    return fetch(`${gw.url}/x`);
  }

  test('the upstream certificate is verified by default: a self-signed upstream is refused', async () => {
    const res = await via(undefined);
    assert.equal(res.status, 502);
    await res.body?.cancel();
  });

  test('a custom CA bundle makes it trusted', async () => {
    const res = await via({ ca: pki.server.certFile });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { clientCert: null });
  });

  test('a client certificate is presented for upstream mTLS', async () => {
    const res = await via({
      ca: pki.server.certFile,
      cert: pki.client.certFile,
      key: join(pki.dir, 'client.key'),
    });
    assert.equal(res.status, 200);
    assert.deepEqual(await res.json(), { clientCert: 'svc-a' });
  });
});

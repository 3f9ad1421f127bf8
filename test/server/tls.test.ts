import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { connect as h2connect } from 'node:http2';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect as tlsConnect, type ConnectionOptions, type TLSSocket } from 'node:tls';
import { createTestPki, type TestPki } from '../authn/client-cert-fixtures.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

function serverCert(dir: string, name: string, cn: string): void {
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'ec',
      '-pkeyopt',
      'ec_paramgen_curve:P-256',
      '-nodes',
      '-keyout',
      `${name}.key`,
      '-out',
      `${name}.crt`,
      '-subj',
      `/CN=${cn}`,
      '-days',
      '2',
      '-addext',
      `subjectAltName=DNS:${cn}`,
    ],
    { cwd: dir, stdio: 'ignore' },
  );
}

function handshake(url: string, options: ConnectionOptions): Promise<TLSSocket> {
  const { hostname, port } = new URL(url);
  return new Promise((resolve, reject) => {
    const socket = tlsConnect(
      { host: hostname, port: Number(port), rejectUnauthorized: false, ...options },
      () => resolve(socket),
    );
    socket.once('error', reject);
  });
}

function get(
  url: string,
  options: Record<string, unknown> = {},
): Promise<{ status: number; headers: Record<string, unknown>; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false, ...options }, (res) => {
      let body = '';
      res.on('data', (c: Buffer) => (body += c.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('TLS listeners', () => {
  let pki: TestPki;
  let upstream: TestUpstream;
  let gw: TestGateway;
  let tlsUrl: string;
  let mtlsUrl: string;
  let plainUrl: string;
  before(async () => {
    pki = createTestPki();
    serverCert(pki.dir, 'a', 'a.test');
    serverCert(pki.dir, 'b', 'b.test');
    serverCert(pki.dir, 'wild', 'w.example');
    upstream = await startUpstream();
    gw = await startGateway({
      version: 1,
      listeners: [
        {
          name: 'tls',
          host: '127.0.0.1',
          port: 0,
          tls: {
            certificates: [
              { cert: join(pki.dir, 'a.crt'), key: join(pki.dir, 'a.key') },
              { cert: join(pki.dir, 'b.crt'), key: join(pki.dir, 'b.key'), serverNames: ['b.test'] },
              {
                cert: join(pki.dir, 'wild.crt'),
                key: join(pki.dir, 'wild.key'),
                serverNames: ['*.wild.test'],
              },
            ],
            hsts: { maxAge: 63072000, includeSubDomains: true },
          },
        },
        {
          name: 'mtls',
          host: '127.0.0.1',
          port: 0,
          tls: {
            certificates: [{ cert: pki.server.certFile, key: join(pki.dir, 'server.key') }],
            clientAuth: { mode: 'require', ca: pki.ca.certFile },
          },
        },
        { name: 'plain', host: '127.0.0.1', port: 0 },
      ],
      upstreams: { u: { targets: [{ url: upstream.url }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
    [tlsUrl, mtlsUrl, plainUrl] = gw.urls as [string, string, string];
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    pki.cleanup();
  });

  test('TLS 1.0 and 1.1 are refused; 1.2 and 1.3 work', async () => {
    for (const version of ['TLSv1', 'TLSv1.1'] as const) {
      await assert.rejects(
        handshake(tlsUrl, { minVersion: version, maxVersion: version, ciphers: 'DEFAULT@SECLEVEL=0' }),
      );
    }
    for (const version of ['TLSv1.2', 'TLSv1.3'] as const) {
      const socket = await handshake(tlsUrl, { minVersion: version, maxVersion: version });
      assert.equal(socket.getProtocol(), version);
      socket.destroy();
    }
  });

  test('non-forward-secret and non-AEAD TLS 1.2 suites are refused', async () => {
    for (const cipher of ['AES128-SHA', 'AES256-GCM-SHA384', 'ECDHE-ECDSA-AES128-SHA']) {
      await assert.rejects(handshake(tlsUrl, { maxVersion: 'TLSv1.2', ciphers: cipher }), cipher);
    }
  });

  test('HTTP/2 is negotiated by ALPN, with HTTP/1.1 fallback', async () => {
    const socket = await handshake(tlsUrl, { ALPNProtocols: ['h2', 'http/1.1'] });
    assert.equal(socket.alpnProtocol, 'h2');
    socket.destroy();
    const client = h2connect(tlsUrl, { rejectUnauthorized: false });
    const body = await new Promise<string>((resolve, reject) => {
      const stream = client.request({ ':path': '/h2', ':method': 'GET' });
      let text = '';
      stream.on('data', (c: Buffer) => (text += c.toString()));
      stream.on('end', () => resolve(text));
      stream.on('error', reject);
      stream.end();
    });
    client.close();
    assert.equal((JSON.parse(body) as { url: string }).url, '/h2');
    const h1 = await get(`${tlsUrl}/h1`);
    assert.equal(h1.status, 200);
  });

  test('certificates are chosen by SNI (exact and wildcard), with the first as default', async () => {
    const cn = async (servername: string) => {
      const socket = await handshake(tlsUrl, { servername });
      const subject = socket.getPeerCertificate().subject.CN;
      socket.destroy();
      return subject;
    };
    assert.equal(await cn('b.test'), 'b.test');
    assert.equal(await cn('api.wild.test'), 'w.example');
    assert.equal(await cn('unknown.test'), 'a.test');
  });

  test('HSTS is sent on HTTPS answers, including errors', async () => {
    const ok = await get(`${tlsUrl}/x`);
    assert.equal(ok.headers['strict-transport-security'], 'max-age=63072000; includeSubDomains');
    const plain = await fetch(`${plainUrl}/x`);
    assert.equal(plain.headers.get('strict-transport-security'), null);
    await plain.body?.cancel();
  });

  test('a client certificate is required and verified against the CA', async () => {
    const good = await get(`${mtlsUrl}/x`, { cert: pki.client.cert, key: pki.client.key });
    assert.equal(good.status, 200);
    await assert.rejects(get(`${mtlsUrl}/x`), 'no certificate');
    await assert.rejects(get(`${mtlsUrl}/x`, { cert: pki.rogue.cert, key: pki.rogue.key }), 'untrusted CA');
    await assert.rejects(get(`${mtlsUrl}/x`, { cert: pki.expired.cert, key: pki.expired.key }), 'expired');
  });

  test('certificate files are reloaded when they change', async () => {
    const original = readFileSync(join(pki.dir, 'b.crt'));
    const originalKey = readFileSync(join(pki.dir, 'b.key'));
    serverCert(pki.dir, 'b2', 'b.test');
    writeFileSync(join(pki.dir, 'b.key'), readFileSync(join(pki.dir, 'b2.key')));
    writeFileSync(join(pki.dir, 'b.crt'), readFileSync(join(pki.dir, 'b2.crt')));
    const fingerprint = async () => {
      const socket = await handshake(tlsUrl, { servername: 'b.test' });
      const fp = socket.getPeerCertificate().fingerprint256;
      socket.destroy();
      return fp;
    };
    const { X509Certificate } = await import('node:crypto');
    const expected = new X509Certificate(readFileSync(join(pki.dir, 'b2.crt'))).fingerprint256;
    let seen = '';
    for (let i = 0; i < 40 && seen !== expected; i++) {
      await new Promise((r) => setTimeout(r, 200));
      seen = await fingerprint();
    }
    assert.equal(seen, expected);
    void original;
    void originalKey;
  });
});

describe('development certificate and HTTPS redirect', () => {
  let gw: TestGateway;
  before(async () => {
    gw = await startGateway({
      listeners: [
        { host: '127.0.0.1', port: 0, tls: { devCertificate: true } },
        { host: '127.0.0.1', port: 0, redirectToHttps: { port: 8443 } },
      ],
      upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } },
      routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'u', public: true }],
    });
  });
  after(() => gw.close());

  test('a generated certificate is clearly labelled as a development certificate', async () => {
    const socket = await handshake(gw.urls[0]!, {});
    assert.match(String(socket.getPeerCertificate().subject.CN), /DEVELOPMENT/);
    socket.destroy();
    assert.ok(gw.logs.some((l) => /DEVELOPMENT certificate/.test(String(l.msg))));
  });

  test('the plain listener redirects to HTTPS with 308', async () => {
    const { request } = await import('node:http');
    const res = await new Promise<{ status: number; location: string | undefined }>((resolve, reject) => {
      const req = request(`${gw.urls[1]}/a/b?c=1`, { headers: { host: 'api.example.com:8080' } }, (r) => {
        r.resume();
        resolve({ status: r.statusCode ?? 0, location: r.headers.location });
      });
      req.on('error', reject);
      req.end();
    });
    assert.equal(res.status, 308);
    assert.equal(res.location, 'https://api.example.com:8443/a/b?c=1');
  });
});

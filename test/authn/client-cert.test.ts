import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, request } from 'node:https';
import { X509Certificate, createHash, randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import type { TLSSocket } from 'node:tls';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { clientCertFactory } from '../../src/authn/client-cert-authenticator.js';
import { loadCrl } from '../../src/authn/client-cert-crl.js';
import { jwtFactory } from '../../src/authn/jwt-authenticator.js';
import { credentialServices } from '../../src/authn/credential-services.js';
import { createTestPki, type Pem } from './client-cert-fixtures.js';
import { fakeContext, testBuild, testServices } from './jwt-fixtures.js';

const pki = createTestPki();
after(() => pki.cleanup());

let current: Authenticator | undefined;
const server = createServer(
  {
    key: pki.server.key,
    cert: pki.server.cert,
    requestCert: true,
    rejectUnauthorized: false,
    ca: [pki.ca.cert],
  },
  (req, res) => {
    const ctx = fakeContext(req.headers as Record<string, string>, req.socket as TLSSocket);
    Promise.resolve()
      .then(() => current?.authenticate(ctx))
      .then(
        (identity) =>
          res
            .writeHead(200, { 'content-type': 'application/json' })
            .end(JSON.stringify({ identity: identity ?? null })),
        (error: unknown) => {
          const reason = error instanceof AuthenticationFailure ? error.reason : String(error);
          res.writeHead(401, { 'content-type': 'application/json' }).end(JSON.stringify({ reason }));
        },
      );
  },
);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
after(() => new Promise<void>((resolve) => server.close(() => resolve())));
const { port } = server.address() as AddressInfo;

async function call(auth: Authenticator, client?: Pem, headers: Record<string, string> = {}) {
  current = auth;
  return new Promise<{
    status: number;
    body: { identity?: Record<string, unknown> | null; reason?: string };
  }>((resolve, reject) => {
    const req = request(
      {
        host: '127.0.0.1',
        port,
        path: '/',
        method: 'GET',
        agent: false,
        rejectUnauthorized: false,
        headers,
        ...(client === undefined ? {} : { cert: client.cert, key: client.key }),
      },
      (res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: JSON.parse(text) as never }));
      },
    );
    req.on('error', reject);
    req.end();
  });
}

function mtls(
  config: Record<string, unknown> = {},
  extra: Record<string, unknown> = {},
  services = testServices(),
) {
  const build = testBuild(
    { ...extra, authn: { mtls: config } },
    { authentication: { anyOf: ['mtls'] } },
    services,
  );
  return clientCertFactory.create(undefined, {
    ...build,
    configDir: typeof extra.dir === 'string' ? extra.dir : build.configDir,
  });
}

const fingerprint = (pem: Pem) => new X509Certificate(pem.cert).fingerprint256;

describe('mutual TLS client certificates', () => {
  test('a trusted certificate maps to an identity', async () => {
    const { status, body } = await call(await mtls(), pki.client);
    assert.equal(status, 200);
    assert.equal(body.identity?.subject, 'svc-a');
    assert.equal(body.identity?.method, 'mtls');
    assert.equal(body.identity?.credentialId, fingerprint(pki.client).replaceAll(':', ''));
  });

  test('mapping by fingerprint, SAN and subject; requireMapping refuses the rest', async () => {
    const auth = await mtls({
      requireMapping: true,
      consumers: [
        { fingerprint: fingerprint(pki.client), roles: ['batch'], scopes: ['orders:read'], tenant: 't1' },
        { san: 'URI:spiffe://acme/svc-b', name: 'service-b' },
      ],
    });
    const a = await call(auth, pki.client);
    assert.equal(a.body.identity?.subject, 'svc-a');
    assert.deepEqual(a.body.identity?.roles, ['batch']);
    assert.deepEqual(a.body.identity?.scopes, ['orders:read']);
    assert.equal(a.body.identity?.tenant, 't1');
    const b = await call(auth, pki.client2);
    assert.equal(b.body.identity?.subject, 'service-b');
    const bySubject = await mtls({
      requireMapping: true,
      consumers: [{ subject: 'CN=svc-b,O=Acme', name: 'b-by-dn' }],
    });
    assert.equal((await call(bySubject, pki.client2)).body.identity?.subject, 'b-by-dn');
    assert.equal((await call(bySubject, pki.client)).body.reason, 'mtls_unmapped');
  });

  test('mappings to credential-store consumers: their identity; missing or disabled consumers refused', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-mtls-store-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    const services = testServices();
    try {
      const extra = {
        dir,
        store: { type: 'sqlite', path: join(dir, 'store.db') },
        secrets: { kek: { provider: 'file', path: join(dir, 'kek.key') } },
      };
      const { store } = await credentialServices(services, testBuild(extra).config, dir);
      const billing = await store.createConsumer({
        name: 'billing',
        roles: ['billing-reader'],
        tenant: 'acme',
        attributes: { team: 'fin' },
      });
      const config = {
        consumers: [
          { fingerprint: fingerprint(pki.client), consumerId: billing.id, roles: ['batch'] },
          { san: 'URI:spiffe://acme/svc-b', consumer: 'nobody' },
        ],
      };
      const auth = await mtls(config, extra, services);
      const a = await call(auth, pki.client);
      assert.equal(a.body.identity?.consumerId, billing.id);
      assert.equal(a.body.identity?.subject, 'billing');
      assert.deepEqual(a.body.identity?.roles, ['batch', 'billing-reader']);
      assert.equal(a.body.identity?.tenant, 'acme');
      assert.equal((a.body.identity?.attributes as Record<string, unknown>).team, 'fin');
      assert.equal((await call(auth, pki.client2)).body.reason, 'mtls_consumer_missing');
      await store.updateConsumer(billing.id, { disabled: true });
      let reason: string | undefined;
      for (let i = 0; i < 100 && reason === undefined; i += 1) {
        reason = (await call(auth, pki.client)).body.reason;
        if (reason === undefined) await sleep(50);
      }
      assert.equal(reason, 'mtls_consumer_disabled', 'the change feed drops the cached consumer');
    } finally {
      await services.close();
      await rm(dir, { recursive: true, force: true });
    }
  });

  test('no certificate: not this method (and no identity)', async () => {
    const { status, body } = await call(await mtls());
    assert.equal(status, 200);
    assert.equal(body.identity, null);
    assert.equal(await (await mtls()).authenticate(fakeContext({})), undefined);
  });

  test('untrusted CA is refused', async () => {
    const { status, body } = await call(await mtls(), pki.rogue);
    assert.equal(status, 401);
    assert.match(body.reason ?? '', /^mtls_untrusted_/);
  });

  test('expired certificate is refused (by the chain check and by the validity check)', async () => {
    const trusted = await call(await mtls(), pki.expired);
    assert.equal(trusted.body.reason, 'mtls_untrusted_cert_has_expired');
    const own = await call(await mtls({ requireTrusted: false }), pki.expired);
    assert.equal(own.body.reason, 'mtls_expired');
  });

  test('a narrower `ca` refuses certificates of other CAs even when the listener trusts them', async () => {
    const auth = await mtls({ requireTrusted: false, ca: pki.otherCa.certFile });
    assert.equal((await call(auth, pki.client)).body.reason, 'mtls_untrusted_issuer');
    assert.equal((await call(auth, pki.rogue)).body.identity?.subject, 'svc-a');
  });

  test('CRL: a revoked certificate is refused, others pass', async () => {
    const auth = await mtls({ ca: pki.ca.certFile, crl: pki.crlFile });
    assert.equal((await call(auth, pki.revoked)).body.reason, 'mtls_revoked');
    assert.equal((await call(auth, pki.client)).body.identity?.subject, 'svc-a');
  });

  test('a CRL not signed by the configured CA is refused at build', async () => {
    const crl = readFileSync(pki.crlFile);
    assert.throws(() => loadCrl(crl, [new X509Certificate(pki.otherCa.cert)]), /does not verify/);
    const der = Buffer.from(
      /-----BEGIN X509 CRL-----([\s\S]+?)-----END/.exec(crl.toString())?.[1]?.replace(/\s+/g, '') ?? '',
      'base64',
    );
    const at = der.indexOf('Portcullis Test CA');
    assert.ok(at > 0);
    der[at] = 'Q'.charCodeAt(0);
    assert.throws(() => loadCrl(der, [new X509Certificate(pki.ca.cert)]), /does not verify/);
    await assert.rejects(async () => mtls({ crl: pki.crlFile }), /needs `ca`/);
  });

  test('certificate-bound token (RFC 8705): a different certificate is refused', async () => {
    const pair = await generateKeyPair('ES256');
    const jwk = { ...(await exportJWK(pair.publicKey)), kid: 'k', alg: 'ES256' };
    const build = testBuild(
      {
        authn: {
          jwt: { issuers: { as: { issuer: 'https://as.test', algorithms: ['ES256'], keys: [jwk] } } },
        },
      },
      { authentication: { anyOf: ['jwt:as'] } },
    );
    const jwt = await jwtFactory.create('as', build);
    const der = new X509Certificate(pki.client.cert).raw;
    const now = Math.floor(Date.now() / 1000);
    const token = await new SignJWT({
      sub: 'svc-a',
      iss: 'https://as.test',
      exp: now + 300,
      cnf: { 'x5t#S256': createHash('sha256').update(der).digest('base64url') },
    })
      .setProtectedHeader({ alg: 'ES256', kid: 'k' })
      .sign(pair.privateKey);
    const headers = { authorization: `Bearer ${token}` };
    assert.equal((await call(jwt, pki.client, headers)).body.identity?.subject, 'svc-a');
    assert.equal((await call(jwt, pki.client2, headers)).body.reason, 'jwt_certificate_mismatch');
    assert.equal((await call(jwt, pki.rogue, headers)).body.reason, 'jwt_certificate_mismatch');
    assert.equal((await call(jwt, undefined, headers)).body.reason, 'jwt_certificate_missing');
  });
});

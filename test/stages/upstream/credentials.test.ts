import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { keyringSectionsFromRaw, openSecretsForConfig } from '../../../src/crypto/config-secrets.js';
import { setSecret } from '../../../src/crypto/secrets.js';
import { writeKekFile } from '../../crypto/helpers.js';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

describe('upstream credentials from encrypted secrets', () => {
  let dir: string;
  let upstream: TestUpstream;
  let gw: TestGateway;
  const apiKey = `upk_${randomBytes(18).toString('hex')}`;
  const password = `pw-${randomBytes(12).toString('hex')}`;

  const config = () => ({
    store: { type: 'sqlite', path: './store.db' },
    secrets: { kek: { provider: 'file', path: './kek.key' } },
    upstreams: { billing: { targets: [{ url: upstream.url }] } },
    routes: [
      {
        name: 'billing',
        match: { pathPrefix: '/billing' },
        upstream: 'billing',
        public: true,
        upstreamCredentials: { headers: { 'X-Api-Key': '${secret:billing-key}' } },
      },
      {
        name: 'legacy',
        match: { pathPrefix: '/legacy' },
        upstream: 'billing',
        public: true,
        upstreamCredentials: { basic: { username: 'gateway', password: '${secret:legacy-password}' } },
      },
    ],
  });

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-upcred-'));
    upstream = await startUpstream((req, res) => {
      res.writeHead(req.url === '/billing/fail' ? 500 : 200, { 'content-type': 'text/plain' });
      res.end('ok');
    });
    await writeKekFile(dir, 'kek.key');
    const opened = await openSecretsForConfig(
      await keyringSectionsFromRaw(config(), join(dir, 'portcullis.yaml')),
    );
    await setSecret(opened.keyring, opened.store, 'billing-key', apiKey);
    await setSecret(opened.keyring, opened.store, 'legacy-password', password);
    await opened.close();
    gw = await startGateway(config(), { dir });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the upstream receives the decrypted credential; a client cannot override it', async () => {
    const res = await fetch(`${gw.url}/billing/invoices`, { headers: { 'x-api-key': 'client-supplied' } });
    assert.equal(res.status, 200);
    await res.text();
    assert.equal(upstream.requests.at(-1)!.headers['x-api-key'], apiKey);
    const basic = await fetch(`${gw.url}/legacy/x`, { headers: { authorization: 'Basic Y2xpZW50OnNwb29m' } });
    await basic.text();
    const expected = `Basic ${Buffer.from(`gateway:${password}`).toString('base64')}`;
    assert.equal(upstream.requests.at(-1)!.headers.authorization, expected);
  });

  test('the secret never appears in answers or logs, even on errors', async () => {
    const answers: string[] = [];
    for (const path of ['/billing/fail', '/billing/%2e%2e/%2e%2e/x', '/nope']) {
      const res = await fetch(`${gw.url}${path}`);
      answers.push(JSON.stringify([...res.headers]) + (await res.text()));
    }
    await new Promise((r) => setTimeout(r, 50));
    const basicValue = Buffer.from(`gateway:${password}`).toString('base64');
    for (const secret of [apiKey, password, basicValue]) {
      assert.ok(!gw.logText().includes(secret), 'log leak');
      for (const answer of answers) assert.ok(!answer.includes(secret), 'answer leak');
    }
  });

  test('a secret changed in the store (another process) reaches the upstream without SIGHUP', async () => {
    const rotated = `upk_${randomBytes(18).toString('hex')}`;
    const generation = gw.gateway.generation;
    // another process's connection to the same store: the CLI's `portcullis secrets set`
    const other = await openSecretsForConfig(
      await keyringSectionsFromRaw(config(), join(dir, 'portcullis.yaml')),
    );
    try {
      // a secret the config does not use changes nothing
      await setSecret(other.keyring, other.store, 'unused-secret', 'x');
      await setSecret(other.keyring, other.store, 'billing-key', rotated);
    } finally {
      await other.close();
    }
    const started = Date.now();
    let seen: unknown;
    while (Date.now() - started < 10_000) {
      const res = await fetch(`${gw.url}/billing/invoices`);
      await res.text();
      seen = upstream.requests.at(-1)!.headers['x-api-key'];
      if (seen === rotated) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal(seen, rotated);
    await new Promise((r) => setTimeout(r, 700));
    assert.equal(gw.gateway.generation, generation + 1, 'one reload, for the secret in use only');
    assert.ok(!gw.logText().includes(rotated), 'the new value is not logged');
  });
});

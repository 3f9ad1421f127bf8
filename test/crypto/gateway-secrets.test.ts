import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm, unlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { openSecretsForConfig, keyringSectionsFromRaw } from '../../src/crypto/config-secrets.js';
import { KeyringError } from '../../src/crypto/errors.js';
import { setSecret } from '../../src/crypto/secrets.js';
import { prepareSecretsService, sharedSecretResolver } from '../../src/crypto/secrets-service.js';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { writeKekFile } from './helpers.js';

describe('gateway start with ${secret:…} references', () => {
  let dir: string;
  let upstream: TestUpstream;
  const token = randomBytes(30).toString('base64url');

  const config = () => ({
    store: { type: 'sqlite', path: './store.db' },
    secrets: { kek: { provider: 'file', path: './kek.key' } },
    admin: { host: '127.0.0.1', port: 0, token: '${secret:admin-token}' },
    upstreams: { echo: { targets: [{ url: upstream.url }] } },
    routes: [{ name: 'all', match: { pathPrefix: '/' }, upstream: 'echo', public: true }],
  });

  function options() {
    const shared = new Map<string, unknown>();
    return {
      dir,
      shared,
      resolveSecret: sharedSecretResolver({ shared }),
      prepare: async (
        raw: Readonly<Record<string, unknown>>,
        services: Parameters<typeof prepareSecretsService>[2],
      ) => {
        await prepareSecretsService(raw, join(dir, 'portcullis.yaml'), services);
      },
    };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-gw-secrets-'));
    upstream = await startUpstream();
    await writeKekFile(dir, 'kek.key');
    const opened = await openSecretsForConfig(
      await keyringSectionsFromRaw(config(), join(dir, 'portcullis.yaml')),
    );
    await setSecret(opened.keyring, opened.store, 'admin-token', token);
    await opened.close();
  });
  after(async () => {
    await upstream.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('the admin token comes from the store; it never appears in logs or answers', async () => {
    const gw = await startGateway(config(), options());
    const answers: string[] = [];
    try {
      assert.ok(gw.adminUrl !== undefined);
      const denied = await fetch(`${gw.adminUrl}/admin/consumers`);
      answers.push(await denied.text());
      assert.equal(denied.status, 401);
      const wrong = await fetch(`${gw.adminUrl}/admin/consumers`, {
        headers: { authorization: `Bearer ${token}x` },
      });
      answers.push(await wrong.text());
      assert.equal(wrong.status, 401);
      const ok = await fetch(`${gw.adminUrl}/admin/consumers`, {
        headers: { authorization: `Bearer ${token}` },
      });
      answers.push(await ok.text());
      assert.equal(ok.status, 200);
      const proxied = await fetch(`${gw.url}/hello`);
      answers.push(await proxied.text());
      assert.equal(proxied.status, 200);
    } finally {
      await gw.close();
    }
    assert.ok(!gw.logText().includes(token), 'the token is not in the logs');
    assert.ok(!answers.join('\n').includes(token), 'the token is not in any answer');
  });

  test('a missing secret stops the start with a message naming it', async () => {
    const bad = { ...config(), admin: { host: '127.0.0.1', port: 0, token: '${secret:no-such-secret}' } };
    await assert.rejects(startGateway(bad, options()), /no-such-secret/);
  });

  test('a world-readable or missing KEK refuses to start', async () => {
    await chmod(join(dir, 'kek.key'), 0o644);
    await assert.rejects(
      startGateway(config(), options()),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_insecure_permissions',
    );
    await chmod(join(dir, 'kek.key'), 0o600);
    const saved = join(dir, 'kek.key');
    await unlink(saved);
    await assert.rejects(
      startGateway(config(), options()),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_missing',
    );
  });

  test('a different KEK refuses to start (kek_wrong)', async () => {
    await writeKekFile(dir, 'kek.key');
    await assert.rejects(
      startGateway(config(), options()),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_wrong',
    );
  });
});

import { chmod, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyringError } from '../../src/crypto/errors.js';
import { setSecret } from '../../src/crypto/secrets.js';
import { prepareSecretsService, sharedSecretResolver } from '../../src/crypto/secrets-service.js';
import type { Services } from '../../src/pipeline/services.js';
import { tempDir, writeKekFile } from './helpers.js';

function fakeServices(): Services & { closeAll(): Promise<void> } {
  const closers: (() => Promise<void> | void)[] = [];
  return {
    logger: undefined as never,
    metrics: undefined as never,
    shared: new Map(),
    onClose: (fn) => void closers.push(fn),
    closeAll: async () => {
      for (const fn of closers) await fn();
    },
  };
}

describe('secrets service at gateway start', () => {
  let dir: string;
  before(async () => {
    dir = await tempDir();
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('a config without secrets needs no KEK', async () => {
    const services = fakeServices();
    assert.equal(await prepareSecretsService({ routes: [] }, join(dir, 'a.yaml'), services), undefined);
  });

  test('a ${secret:…} reference with no KEK file refuses to start', async () => {
    const services = fakeServices();
    const raw = { store: { type: 'sqlite', path: './s1.db' }, admin: { token: '${secret:admin-token}' } };
    await assert.rejects(
      prepareSecretsService(raw, join(dir, 'a.yaml'), services),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_missing',
    );
    assert.equal(services.shared.size, 0, 'a failed open does not stick');
  });

  test('a world-readable KEK file refuses to start', async () => {
    const path = await writeKekFile(dir, 'loose.key');
    await chmod(path, 0o644);
    const raw = {
      store: { type: 'sqlite', path: './s2.db' },
      secrets: { kek: { provider: 'file', path: './loose.key' } },
    };
    await assert.rejects(
      prepareSecretsService(raw, join(dir, 'a.yaml'), fakeServices()),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_insecure_permissions',
    );
  });

  test('with a good KEK the resolver returns stored secrets; env interpolation works in the sections', async () => {
    await writeKekFile(dir, 'good.key');
    process.env['PORTCULLIS_TEST_STORE_PATH'] = './s3.db';
    const raw = {
      store: { type: 'sqlite', path: '${env:PORTCULLIS_TEST_STORE_PATH}' },
      secrets: { kek: { provider: 'file', path: './good.key' } },
    };
    const services = fakeServices();
    const resolve = sharedSecretResolver(services);
    await assert.rejects(resolve('x'), /keyring is not open/);
    const opened = await prepareSecretsService(raw, join(dir, 'a.yaml'), services);
    assert.ok(opened !== undefined);
    assert.equal(
      await prepareSecretsService(raw, join(dir, 'a.yaml'), services),
      opened,
      'opened once per process',
    );
    await setSecret(opened.keyring, opened.store, 'admin-token', 'Adm1n-Token-Value');
    assert.equal(await resolve('admin-token'), 'Adm1n-Token-Value');
    await assert.rejects(resolve('absent'), { name: 'SecretNotFoundError' });
    await services.closeAll();
    delete process.env['PORTCULLIS_TEST_STORE_PATH'];
  });
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { KeyringError } from '../../src/crypto/errors.js';
import { hashCredential, verifyCredentialHash } from '../../src/crypto/hash.js';
import { openKeyring, PEPPER_SECRET } from '../../src/crypto/keyring.js';
import {
  createSecretResolver,
  readSecret,
  SecretNotFoundError,
  setSecret,
} from '../../src/crypto/secrets.js';
import { seal } from '../../src/crypto/envelope.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { tempDir, writeKekFile } from './helpers.js';

describe('keyring against a store', () => {
  let dir: string;
  let store: SqliteStore;
  let kekPath: string;

  before(async () => {
    dir = await tempDir();
    store = new SqliteStore(join(dir, 'store.db'));
    kekPath = await writeKekFile(dir, 'kek.key');
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  const config = () => ({ kek: { provider: 'file' as const, path: kekPath } });

  test('the pepper is created once, stored encrypted, and hashes are stable across opens', async () => {
    const [a, b] = await Promise.all([
      openKeyring({ config: config(), configDir: dir, store }),
      openKeyring({ config: config(), configDir: dir, store: new SqliteStore(join(dir, 'store.db')) }),
    ]);
    const h = hashCredential(a, 'pcs_live_abc');
    assert.equal(h.length, 32);
    assert.ok(
      h.equals(hashCredential(b, 'pcs_live_abc')),
      'two processes racing at first start agree on the pepper',
    );
    const c = await openKeyring({ config: config(), configDir: dir, store });
    assert.ok(h.equals(hashCredential(c, 'pcs_live_abc')));
    const stored = await store.getSecret(PEPPER_SECRET);
    assert.ok(stored !== null);
    assert.equal(stored.envelope.ciphertext.length, 32);
    assert.ok(!h.equals(hashCredential(c, 'pcs_live_abd')));
  });

  test('verifyCredentialHash: right value, wrong value, wrong length', async () => {
    const keyring = await openKeyring({ config: config(), configDir: dir, store });
    const h = hashCredential(keyring, 'secret-1');
    assert.equal(verifyCredentialHash(keyring, 'secret-1', h), true);
    assert.equal(verifyCredentialHash(keyring, 'secret-2', h), false);
    assert.equal(verifyCredentialHash(keyring, 'secret-1', h.subarray(0, 16)), false);
    assert.equal(verifyCredentialHash(keyring, 'secret-1', Buffer.alloc(0)), false);
  });

  test('a different key file for the same version refuses to start', async () => {
    await openKeyring({ config: config(), configDir: dir, store });
    const wrong = await writeKekFile(dir, 'wrong.key');
    await assert.rejects(
      openKeyring({ config: { kek: { provider: 'file', path: wrong } }, configDir: dir, store }),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_wrong',
    );
  });

  test('a KEK version still wrapping data must stay configured', async () => {
    const v2 = await writeKekFile(dir, 'v2.key');
    await openKeyring({
      config: {
        kek: { provider: 'file', path: v2, version: 2 },
        previous: [{ provider: 'file', path: kekPath }],
      },
      configDir: dir,
      store,
    });
    await assert.rejects(
      openKeyring({ config: { kek: { provider: 'file', path: v2, version: 2 } }, configDir: dir, store }),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_version_missing',
    );
  });

  test('secrets: set, read, resolve, reserved and malformed names', async () => {
    const keyring = await openKeyring({ config: config(), configDir: dir, store });
    await setSecret(keyring, store, 'upstream-password', 's3cr3t-Value', { owner: 'billing' });
    assert.equal(await readSecret(keyring, store, 'upstream-password'), 's3cr3t-Value');
    const resolve = createSecretResolver(keyring, store);
    assert.equal(await resolve('upstream-password'), 's3cr3t-Value');
    await assert.rejects(resolve('absent'), SecretNotFoundError);
    await assert.rejects(resolve(PEPPER_SECRET), TypeError);
    await assert.rejects(setSecret(keyring, store, PEPPER_SECRET, 'x'), TypeError);
    await assert.rejects(setSecret(keyring, store, '../etc', 'x'), TypeError);
    await assert.rejects(setSecret(keyring, store, '', 'x'), TypeError);
    const raw = await store.getSecret('upstream-password');
    assert.ok(raw !== null && !raw.envelope.ciphertext.includes(Buffer.from('s3cr3t-Value')));
  });

  test("swapping two secrets' ciphertexts in the database is detected", async () => {
    const keyring = await openKeyring({ config: config(), configDir: dir, store });
    await setSecret(keyring, store, 'swap-a', 'value-a');
    await setSecret(keyring, store, 'swap-b', 'value-b');
    const a = (await store.getSecret('swap-a'))?.envelope;
    assert.ok(a !== undefined);
    await store.putSecret('swap-b', a);
    await assert.rejects(readSecret(keyring, store, 'swap-b'), { name: 'DecryptionError', code: 'tampered' });
    // a row sealed for another name, even if written through the store API
    await store.putSecret('swap-c', seal(keyring, 'x', 'secret:swap-a:value'));
    await assert.rejects(readSecret(keyring, store, 'swap-c'), { name: 'DecryptionError' });
  });

  test('a missing KEK file refuses to start; nothing falls back to plain text', async () => {
    await assert.rejects(
      openKeyring({
        config: { kek: { provider: 'file', path: join(dir, 'gone.key') } },
        configDir: dir,
        store,
      }),
      (error: unknown) => error instanceof KeyringError && error.code === 'kek_missing',
    );
  });
});

import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, jwtVerify, SignJWT } from 'jose';
import { openKeyring, type Keyring } from '../../src/crypto/keyring.js';
import {
  publishedJwks,
  rotateSigningKey,
  SigningKeys,
  unsealSigningKey,
} from '../../src/crypto/signing-keys.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { tempDir, writeKekFile } from './helpers.js';

describe('token-signing keys', () => {
  let dir: string;
  let store: SqliteStore;
  let keyring: Keyring;

  before(async () => {
    dir = await tempDir();
    store = new SqliteStore(join(dir, 'store.db'));
    const path = await writeKekFile(dir, 'kek.key');
    keyring = await openKeyring({ config: { kek: { provider: 'file', path } }, configDir: dir, store });
  });
  after(async () => {
    await store.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function sign(keys: SigningKeys): Promise<string> {
    const key = await keys.current();
    return new SignJWT({ scope: 'a' })
      .setProtectedHeader({ alg: key.alg, kid: key.kid, typ: 'at+jwt' })
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(key.privateKey);
  }

  for (const alg of ['ES256', 'EdDSA'] as const) {
    test(`${alg}: generated on demand, private JWK encrypted, public JWK published`, async () => {
      const local = new SqliteStore(join(dir, `${alg}.db`));
      const path = await writeKekFile(dir, `${alg}.key`);
      const kr = await openKeyring({
        config: { kek: { provider: 'file', path } },
        configDir: dir,
        store: local,
      });
      const keys = new SigningKeys(kr, local, { alg });
      try {
        const token = await sign(keys);
        const jwks = await keys.jwks();
        assert.equal(jwks.keys.length, 1);
        const [pub] = jwks.keys;
        assert.equal(pub?.['alg'], alg);
        assert.equal(pub?.['use'], 'sig');
        assert.equal(pub?.['d'], undefined, 'no private part in the JWKS');
        const { protectedHeader } = await jwtVerify(token, createLocalJWKSet(jwks as never), {
          algorithms: [alg],
        });
        assert.equal(protectedHeader.kid, pub?.['kid']);
        const [record] = await local.listSigningKeys();
        assert.ok(record !== undefined);
        const d = (await keys.current()).privateKey.export({ format: 'jwk' }).d as string;
        assert.ok(
          !record.privateKey.ciphertext.includes(Buffer.from(d)),
          'private key is not stored in clear',
        );
        assert.equal((await keys.current()).kid, record.kid, 'the same key is reused');
      } finally {
        keys.close();
        await local.close();
      }
    });
  }

  test('rotation: new key signs at once; old key stays published until notAfter', async () => {
    const keys = new SigningKeys(keyring, store, { alg: 'ES256' });
    try {
      const oldToken = await sign(keys);
      const oldKid = (await keys.current()).kid;
      const rotatedAt = Date.now();
      const created = await keys.rotate(60_000);
      const current = await keys.current();
      assert.equal(current.kid, created.kid);
      assert.notEqual(current.kid, oldKid);
      const jwks = await keys.jwks();
      assert.deepEqual(jwks.keys.map((k) => k['kid']).sort(), [oldKid, current.kid].sort());
      await jwtVerify(oldToken, createLocalJWKSet(jwks as never), { algorithms: ['ES256'] });
      await jwtVerify(await sign(keys), createLocalJWKSet(jwks as never), { algorithms: ['ES256'] });

      // after the window the old key disappears and its tokens no longer verify
      const later = rotatedAt + 120_000;
      const laterJwks = publishedJwks(await store.listSigningKeys(), later);
      assert.deepEqual(
        laterJwks.keys.map((k) => k['kid']),
        [current.kid],
      );
      await assert.rejects(
        jwtVerify(oldToken, createLocalJWKSet(laterJwks as never), { algorithms: ['ES256'] }),
      );
      // the next rotation deletes keys whose window has ended
      await rotateSigningKey(keyring, store, { alg: 'ES256', publishForMs: 1000, now: later });
      assert.ok(!(await store.listSigningKeys()).some((k) => k.kid === oldKid));
    } finally {
      keys.close();
    }
  });

  test('another node sees the rotation through the change feed', async () => {
    const nodeA = new SigningKeys(keyring, store, { alg: 'ES256' });
    const otherStore = new SqliteStore(join(dir, 'store.db'));
    const nodeB = new SigningKeys(keyring, otherStore, { alg: 'ES256' });
    try {
      const before = (await nodeB.current()).kid;
      const created = await nodeA.rotate(60_000);
      assert.notEqual(created.kid, before);
      for (let i = 0; i < 100 && (await nodeB.current()).kid !== created.kid; i++) {
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      assert.equal((await nodeB.current()).kid, created.kid);
    } finally {
      nodeA.close();
      nodeB.close();
      await otherStore.close();
    }
  });

  test('a tampered private key is refused', async () => {
    const [record] = await store.listSigningKeys();
    assert.ok(record !== undefined);
    const tag = Buffer.from(record.privateKey.tag);
    tag[0] = (tag[0] as number) ^ 1;
    assert.throws(() => unsealSigningKey(keyring, { ...record, privateKey: { ...record.privateKey, tag } }), {
      name: 'DecryptionError',
    });
  });
});

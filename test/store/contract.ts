import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { StoreError } from '../../src/store/errors.js';
import type { ChangeEvent, CredentialStore, Envelope } from '../../src/store/types.js';

export interface StoreHarness {
  /** Opens another store instance (another "node") on the same database. */
  open(): Promise<CredentialStore>;
  /** Drops the database / removes files. */
  cleanup(): Promise<void>;
}

/** Waits for an event matching `match`; rejects after `ms` (the 1 s propagation requirement). */
export function waitForEvent(
  store: CredentialStore,
  match: (e: ChangeEvent) => boolean,
  ms = 1000,
): { promise: Promise<ChangeEvent>; cancel: () => void } {
  let unsubscribe = (): void => {};
  let timer: NodeJS.Timeout | undefined;
  const promise = new Promise<ChangeEvent>((resolve, reject) => {
    timer = setTimeout(() => {
      unsubscribe();
      reject(new Error(`no matching change event within ${ms} ms`));
    }, ms);
    unsubscribe = store.subscribe((e) => {
      if (!match(e)) return;
      clearTimeout(timer);
      unsubscribe();
      resolve(e);
    });
  });
  return {
    promise,
    cancel: () => {
      clearTimeout(timer);
      unsubscribe();
    },
  };
}

function envelope(kekVersion = 1): Envelope {
  return {
    ciphertext: randomBytes(20),
    iv: randomBytes(12),
    tag: randomBytes(16),
    wrappedKey: randomBytes(60),
    kekVersion,
  };
}

async function rejectsWithCode(p: Promise<unknown>, code: StoreError['code']): Promise<void> {
  await assert.rejects(p, (error: unknown) => error instanceof StoreError && error.code === code);
}

/** The checks every CredentialStore implementation must pass. */
export function runStoreContract(
  name: string,
  createHarness: () => Promise<StoreHarness>,
  options: { readonly afterSubscribe?: (store: CredentialStore) => Promise<void> } = {},
): void {
  describe(`CredentialStore contract: ${name}`, () => {
    let harness: StoreHarness;
    let store: CredentialStore;
    let other: CredentialStore;

    before(async () => {
      harness = await createHarness();
      store = await harness.open();
      other = await harness.open();
    });

    after(async () => {
      await store?.close();
      await other?.close();
      await harness?.cleanup();
    });

    test('consumers: create, read, list, update, unique name', async () => {
      const c = await store.createConsumer({
        name: 'acme-app',
        roles: ['reader', 'writer'],
        tenant: 'acme',
        attributes: { tier: 'gold', n: 3 },
      });
      assert.equal(typeof c.id, 'string');
      assert.deepEqual(c.roles, ['reader', 'writer']);
      assert.equal(c.disabled, false);
      assert.ok(c.createdAt > 0);
      assert.deepEqual(await store.getConsumer(c.id), c);
      assert.deepEqual(await other.getConsumerByName('acme-app'), c);
      assert.equal(await store.getConsumer('nope'), null);
      await rejectsWithCode(store.createConsumer({ name: 'acme-app' }), 'conflict');
      await store.createConsumer({ id: 'fixed-id', name: 'other-app', tenant: 'globex' });
      assert.deepEqual(
        (await store.listConsumers({ tenant: 'acme' })).map((x) => x.name),
        ['acme-app'],
      );
      assert.ok((await store.listConsumers()).length >= 2);
      const updated = await store.updateConsumer(c.id, { disabled: true, roles: ['reader'], tenant: null });
      assert.equal(updated?.disabled, true);
      assert.deepEqual(updated?.roles, ['reader']);
      assert.equal(updated?.tenant, null);
      assert.equal(updated?.name, 'acme-app');
      assert.deepEqual(updated?.attributes, { tier: 'gold', n: 3 });
      assert.equal(await store.updateConsumer('missing', { disabled: true }), null);
    });

    test('rejects malformed ids', async () => {
      await assert.rejects(store.createConsumer({ name: '' }), TypeError);
      await assert.rejects(store.createConsumer({ name: 'a\nb' }), TypeError);
      await assert.rejects(store.createConsumer({ name: 'x'.repeat(257) }), TypeError);
    });

    test('api keys: create, read, update, revoke, touch, delete', async () => {
      const c = await store.createConsumer({ name: 'key-owner' });
      const hash = randomBytes(32);
      const k = await store.createApiKey({
        lookupId: 'pk_abc123',
        consumerId: c.id,
        keyHash: hash,
        scopes: ['orders:read'],
        allowedCidrs: ['10.0.0.0/8'],
        expiresAt: Date.now() + 60_000,
      });
      assert.ok(Buffer.isBuffer(k.keyHash));
      assert.ok(k.keyHash.equals(hash));
      assert.deepEqual(k.scopes, ['orders:read']);
      assert.deepEqual(k.allowedCidrs, ['10.0.0.0/8']);
      assert.equal(k.revokedAt, null);
      assert.equal(k.notAfter, null);
      assert.equal(k.lastUsedAt, null);
      assert.deepEqual(await other.getApiKey('pk_abc123'), k);
      await rejectsWithCode(
        store.createApiKey({ lookupId: 'pk_abc123', consumerId: c.id, keyHash: hash }),
        'conflict',
      );
      await rejectsWithCode(
        store.createApiKey({ lookupId: 'pk_orphan', consumerId: 'no-such-consumer', keyHash: hash }),
        'not_found',
      );
      await store.createApiKey({ lookupId: 'pk_second', consumerId: c.id, keyHash: randomBytes(32) });
      assert.deepEqual((await store.listApiKeys({ consumerId: c.id })).map((x) => x.lookupId).sort(), [
        'pk_abc123',
        'pk_second',
      ]);
      const notAfter = Date.now() + 3_600_000;
      const rotated = await store.updateApiKey('pk_abc123', { notAfter });
      assert.equal(rotated?.notAfter, notAfter);
      assert.deepEqual(rotated?.scopes, ['orders:read']);
      const revokedAt = Date.now();
      assert.equal((await store.updateApiKey('pk_abc123', { revokedAt }))?.revokedAt, revokedAt);
      assert.equal(await store.updateApiKey('pk_none', { revokedAt }), null);

      await store.touchLastUsed(['pk_abc123', 'pk_second', 'pk_abc123', 'pk_unknown'], 5_000);
      assert.equal((await store.getApiKey('pk_abc123'))?.lastUsedAt, 5_000);
      await store.touchLastUsed(['pk_abc123'], 4_000);
      assert.equal((await store.getApiKey('pk_abc123'))?.lastUsedAt, 5_000, 'last-used never moves back');
      await store.touchLastUsed([]);

      assert.equal(await store.deleteApiKey('pk_second'), true);
      assert.equal(await store.deleteApiKey('pk_second'), false);
      assert.equal(await store.getApiKey('pk_second'), null);
    });

    test('oauth clients: secret or jwks, update, revoke, delete', async () => {
      const c = await store.createConsumer({ name: 'client-owner' });
      const secretHash = randomBytes(32);
      const a = await store.createClient({
        clientId: 'svc-a',
        consumerId: c.id,
        secretHash,
        allowedScopes: ['a', 'b'],
      });
      assert.ok(a.secretHash?.equals(secretHash));
      assert.equal(a.jwks, null);
      const jwks = { keys: [{ kty: 'OKP', crv: 'Ed25519', x: 'abc', kid: 'k1' }] };
      const b = await store.createClient({ clientId: 'svc-b', consumerId: c.id, jwks });
      assert.equal(b.secretHash, null);
      assert.deepEqual(b.jwks, jwks);
      assert.deepEqual(b.allowedScopes, []);
      await rejectsWithCode(store.createClient({ clientId: 'svc-a', consumerId: c.id }), 'conflict');
      assert.deepEqual(await other.getClient('svc-a'), a);
      assert.deepEqual(
        (await store.listClients({ consumerId: c.id })).map((x) => x.clientId),
        ['svc-a', 'svc-b'],
      );
      const newHash = randomBytes(32);
      const u = await store.updateClient('svc-a', { secretHash: newHash, allowedScopes: ['a'] });
      assert.ok(u?.secretHash?.equals(newHash));
      assert.deepEqual(u?.allowedScopes, ['a']);
      assert.equal((await store.updateClient('svc-b', { jwks: null }))?.jwks, null);
      assert.ok(((await store.updateClient('svc-a', { revokedAt: 1 }))?.revokedAt ?? 0) === 1);
      assert.equal(await store.deleteClient('svc-b'), true);
      assert.equal(await store.getClient('svc-b'), null);
    });

    test('deleting a consumer deletes its keys and clients, leaves others alone and tells every node', async () => {
      const c = await store.createConsumer({ name: 'doomed', roles: ['reader'] });
      const kept = await store.createConsumer({ name: 'bystander' });
      await store.createApiKey({ lookupId: 'pk_doomed1', consumerId: c.id, keyHash: randomBytes(32) });
      await store.createApiKey({ lookupId: 'pk_doomed2', consumerId: c.id, keyHash: randomBytes(32) });
      await store.createClient({ clientId: 'doomed-client', consumerId: c.id, secretHash: randomBytes(32) });
      await store.createClient({ clientId: 'doomed-jwt', consumerId: c.id, jwks: { keys: [] } });
      const keptKey = await store.createApiKey({
        lookupId: 'pk_bystander',
        consumerId: kept.id,
        keyHash: randomBytes(32),
      });
      const keptClient = await store.createClient({ clientId: 'bystander-client', consumerId: kept.id });

      const expected = [
        ['consumer', c.id],
        ['api_key', 'pk_doomed1'],
        ['api_key', 'pk_doomed2'],
        ['client', 'doomed-client'],
        ['client', 'doomed-jwt'],
      ] as const;
      const events = expected.map(([kind, id]) => waitForEvent(other, (e) => e.kind === kind && e.id === id));
      await options.afterSubscribe?.(other);
      assert.equal(await store.deleteConsumer(c.id), true);
      await Promise.all(events.map((e) => e.promise));

      // gone for every instance, by id, by name and through the listings
      for (const s of [store, other]) {
        assert.equal(await s.getConsumer(c.id), null);
        assert.equal(await s.getConsumerByName('doomed'), null);
        assert.equal(await s.getApiKey('pk_doomed1'), null);
        assert.equal(await s.getApiKey('pk_doomed2'), null);
        assert.equal(await s.getClient('doomed-client'), null);
        assert.equal(await s.getClient('doomed-jwt'), null);
        assert.deepEqual(await s.listApiKeys({ consumerId: c.id }), []);
        assert.deepEqual(await s.listClients({ consumerId: c.id }), []);
        assert.ok(!(await s.listConsumers()).some((x) => x.id === c.id));
      }
      // the other consumer is untouched
      assert.deepEqual(await other.getConsumer(kept.id), kept);
      assert.deepEqual(await other.getApiKey('pk_bystander'), keptKey);
      assert.deepEqual(await other.getClient('bystander-client'), keptClient);

      assert.equal(await store.deleteConsumer(c.id), false);
      assert.equal(await other.deleteConsumer(c.id), false);
      assert.equal(await store.deleteConsumer('never-existed'), false);
      // the name is free again, and the old key ids do not come back with it
      const again = await store.createConsumer({ name: 'doomed' });
      assert.notEqual(again.id, c.id);
      assert.deepEqual(await store.listApiKeys({ consumerId: again.id }), []);
      await rejectsWithCode(
        store.createApiKey({ lookupId: 'pk_late', consumerId: c.id, keyHash: randomBytes(32) }),
        'not_found',
      );
    });

    test('deleting a consumer while keys are being added: no key survives, every removed key is announced', async () => {
      const seen = new Map<string, number>();
      const unsubscribe = other.subscribe((e) => {
        if (e.kind === 'api_key') seen.set(e.id, (seen.get(e.id) ?? 0) + 1);
      });
      await options.afterSubscribe?.(other);
      try {
        const created: string[] = [];
        for (let round = 0; round < 8; round++) {
          const c = await store.createConsumer({ name: `racing-${round}` });
          const adds = Array.from({ length: 6 }, (_, i) => `pk_race_${round}_${i}`).map(
            async (lookupId, i) => {
              await new Promise((r) => setTimeout(r, i));
              try {
                await other.createApiKey({ lookupId, consumerId: c.id, keyHash: randomBytes(32) });
                created.push(lookupId);
              } catch (error) {
                // refused only because the consumer was already gone
                assert.ok(error instanceof StoreError && error.code === 'not_found', String(error));
              }
            },
          );
          const [deleted] = await Promise.all([
            new Promise((r) => setTimeout(r, 2)).then(() => store.deleteConsumer(c.id)),
            ...adds,
          ]);
          assert.equal(deleted, true);
          assert.deepEqual(await other.listApiKeys({ consumerId: c.id }), []);
        }
        // events arrive in commit order: once this one is seen, every earlier one has been
        const flushed = waitForEvent(other, (e) => e.kind === 'token' && e.id === 'race-flushed');
        await store.revokeToken('race-flushed', Date.now() + 60_000);
        await flushed.promise;
        for (const lookupId of created) {
          assert.equal(await other.getApiKey(lookupId), null, lookupId);
          assert.equal(
            seen.get(lookupId),
            2,
            `${lookupId}: one event for its creation, one for its deletion`,
          );
        }
      } finally {
        unsubscribe();
      }
    });

    test('secrets: put, replace, put-if-absent, list without values, delete', async () => {
      const e1 = envelope();
      await store.putSecret('db-password', e1, { owner: 'ops' });
      const got = await other.getSecret('db-password');
      assert.ok(got !== null);
      assert.ok(got.envelope.ciphertext.equals(e1.ciphertext));
      assert.ok(got.envelope.iv.equals(e1.iv));
      assert.ok(got.envelope.tag.equals(e1.tag));
      assert.ok(got.envelope.wrappedKey.equals(e1.wrappedKey));
      assert.equal(got.envelope.kekVersion, 1);
      assert.deepEqual(got.metadata, { owner: 'ops' });
      const e2 = envelope(2);
      await store.putSecret('db-password', e2);
      const replaced = await store.getSecret('db-password');
      assert.ok(replaced?.envelope.ciphertext.equals(e2.ciphertext));
      assert.equal(replaced?.createdAt, got.createdAt);
      assert.equal(await store.putSecretIfAbsent('db-password', envelope()), false);
      assert.equal(await store.putSecretIfAbsent('api-token', envelope()), true);
      const list = await store.listSecrets();
      const names = list.map((s) => s.name);
      assert.ok(names.includes('db-password') && names.includes('api-token'));
      for (const info of list) {
        assert.equal('envelope' in info, false);
        assert.equal('ciphertext' in info, false);
      }
      assert.equal(await store.deleteSecret('api-token'), true);
      assert.equal(await store.deleteSecret('api-token'), false);
      assert.equal(await store.getSecret('api-token'), null);
    });

    test('signing keys: create, list, retire, delete', async () => {
      const rec = await store.createSigningKey({
        kid: 'kid-1',
        alg: 'ES256',
        privateKey: envelope(),
        publicJwk: { kty: 'EC', crv: 'P-256', x: 'x', y: 'y', kid: 'kid-1' },
        retiredAt: null,
        notAfter: null,
        createdAt: 1000,
      });
      assert.equal(rec.createdAt, 1000);
      const [listed] = await other.listSigningKeys();
      assert.deepEqual(listed, rec);
      const retired = await store.updateSigningKey('kid-1', { retiredAt: 2000, notAfter: 3000 });
      assert.equal(retired?.retiredAt, 2000);
      assert.equal(retired?.notAfter, 3000);
      assert.equal(await store.updateSigningKey('nope', { retiredAt: 1 }), null);
      assert.equal(await store.deleteSigningKey('kid-1'), true);
      assert.deepEqual(await store.listSigningKeys(), []);
    });

    test('revoked tokens: revoke, check, purge expired', async () => {
      const now = Date.now();
      await store.revokeToken('jti-live', now + 60_000);
      await store.revokeToken('jti-old', now - 1);
      await store.revokeToken('jti-live', now + 1);
      assert.equal(await other.isTokenRevoked('jti-live'), true);
      assert.equal(await store.isTokenRevoked('jti-other'), false);
      assert.equal(await store.purgeExpiredTokens(now), 1);
      assert.equal(await store.isTokenRevoked('jti-old'), false);
      assert.equal(
        await store.isTokenRevoked('jti-live'),
        true,
        'a later revocation never shortens the entry',
      );
    });

    test('recordTokenOnce: of concurrent records of one id on two connections, exactly one wins', async () => {
      const now = Date.now();
      for (let round = 0; round < 5; round++) {
        const id = `assertion:once-${round}`;
        const results = await Promise.all([
          store.recordTokenOnce(id, now + 60_000),
          other.recordTokenOnce(id, now + 60_000),
          store.recordTokenOnce(id, now + 60_000),
          other.recordTokenOnce(id, now + 60_000),
        ]);
        assert.equal(results.filter(Boolean).length, 1, `round ${round}: ${results.join(',')}`);
        assert.equal(await other.isTokenRevoked(id), true);
      }
      // an id already revoked the ordinary way is not recorded again
      await store.revokeToken('assertion:revoked', now + 60_000);
      assert.equal(await other.recordTokenOnce('assertion:revoked', now + 60_000), false);
    });

    test('quotas: atomic increments never pass the limit', async () => {
      assert.equal(await store.incrementQuota('q1', 'd1', 3, 10), 3);
      assert.equal(await store.incrementQuota('q1', 'd1', 7, 10), 10);
      const refused = await store.incrementQuota('q1', 'd1', 1, 10);
      assert.ok(refused > 10);
      assert.equal(await store.getQuota('q1', 'd1'), 10, 'a refused increment stores nothing');
      assert.ok((await store.incrementQuota('q1', 'd2', 11, 10)) > 10);
      assert.equal(await store.getQuota('q1', 'd2'), 0);

      const results = await Promise.all(
        Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? store : other).incrementQuota('q2', 'd1', 1, 25)),
      );
      assert.equal(results.filter((n) => n <= 25).length, 25);
      assert.equal(await store.getQuota('q2', 'd1'), 25);

      assert.equal(
        await store.incrementQuota('q3', 'd1', 5, Infinity),
        5,
        'an infinite limit means no limit',
      );
      assert.equal(await store.incrementQuota('q3', 'd1', 0, Infinity), 5, 'by 0 reads the count');
      await assert.rejects(store.incrementQuota('q3', 'd1', 1.5, 10), TypeError);
      await assert.rejects(store.incrementQuota('q3', 'd1', -1, 10), TypeError);
      await assert.rejects(store.incrementQuota('q3', 'd1', 1, Number.NaN), TypeError);

      await store.incrementQuota('q1', 'd3', 1, 10);
      assert.equal(await store.pruneQuotas('q1', 'd3'), 1);
      assert.equal(await store.getQuota('q1', 'd1'), 0);
      assert.equal(await store.getQuota('q1', 'd3'), 1);
    });

    test('meta: the first value wins', async () => {
      assert.equal(await store.getMeta('m1'), null);
      assert.equal(await store.setMetaIfAbsent('m1', 'first'), 'first');
      assert.equal(await other.setMetaIfAbsent('m1', 'second'), 'first');
      assert.equal(await store.getMeta('m1'), 'first');
    });

    test('wrapped keys: list by version, compare-and-set rewrap, usage counts', async () => {
      const s = envelope(7);
      await store.putSecret('rewrap-me', s);
      await store.createSigningKey({
        kid: 'rewrap-kid',
        alg: 'EdDSA',
        privateKey: envelope(7),
        publicJwk: { kty: 'OKP' },
        retiredAt: null,
        notAfter: null,
      });
      const refs = await store.listWrappedKeys({ notKekVersion: 8, limit: 100 });
      const mine = refs.filter((r) => r.id === 'rewrap-me' || r.id === 'rewrap-kid');
      assert.equal(mine.length, 2);
      assert.ok(mine.every((r) => r.kekVersion === 7));
      assert.equal((await store.countByKekVersion()).get(7), 2);
      assert.equal((await store.listWrappedKeys({ notKekVersion: 8, limit: 1 })).length, 1);

      const fresh = randomBytes(60);
      const stale = await store.rewrapKeys([
        {
          kind: 'secret',
          id: 'rewrap-me',
          wrappedKey: fresh,
          kekVersion: 8,
          previousWrappedKey: randomBytes(60),
        },
      ]);
      assert.equal(stale, 0, 'a row changed since it was read is not overwritten');
      const changed = await store.rewrapKeys(
        mine.map((r) => ({ ...r, wrappedKey: fresh, kekVersion: 8, previousWrappedKey: r.wrappedKey })),
      );
      assert.equal(changed, 2);
      const after = await store.getSecret('rewrap-me');
      assert.equal(after?.envelope.kekVersion, 8);
      assert.ok(after?.envelope.ciphertext.equals(s.ciphertext), 'the ciphertext is untouched');
      const usage = await store.countByKekVersion();
      assert.equal(usage.get(7) ?? 0, 0);
      assert.equal(usage.get(8), 2);
      await store.deleteSecret('rewrap-me');
      await store.deleteSigningKey('rewrap-kid');
    });

    test('change feed: another instance sees every kind of change within 1 s', async () => {
      const seen: ChangeEvent[] = [];
      const unsubscribe = other.subscribe((e) => seen.push(e));
      await options.afterSubscribe?.(other);
      try {
        const consumerEvent = waitForEvent(
          other,
          (e) => e.kind === 'consumer' && e.id === 'feed-consumer-id',
        );
        const c = await store.createConsumer({ id: 'feed-consumer-id', name: 'feed-consumer' });
        await consumerEvent.promise;

        const keyEvent = waitForEvent(other, (e) => e.kind === 'api_key' && e.id === 'pk_feed');
        await store.createApiKey({ lookupId: 'pk_feed', consumerId: c.id, keyHash: randomBytes(32) });
        await keyEvent.promise;

        const revokeEvent = waitForEvent(other, (e) => e.kind === 'api_key' && e.id === 'pk_feed');
        await store.updateApiKey('pk_feed', { revokedAt: Date.now() });
        await revokeEvent.promise;

        const events = [
          waitForEvent(other, (e) => e.kind === 'client' && e.id === 'feed-client'),
          waitForEvent(other, (e) => e.kind === 'secret' && e.id === 'feed-secret'),
          waitForEvent(other, (e) => e.kind === 'token' && e.id === 'feed-jti'),
          waitForEvent(other, (e) => e.kind === 'signing_key' && e.id === 'feed-kid'),
        ];
        await store.createClient({ clientId: 'feed-client', consumerId: c.id });
        await store.putSecret('feed-secret', envelope());
        await store.revokeToken('feed-jti', Date.now() + 60_000);
        await store.createSigningKey({
          kid: 'feed-kid',
          alg: 'ES256',
          privateKey: envelope(),
          publicJwk: {},
          retiredAt: null,
          notAfter: null,
        });
        await Promise.all(events.map((e) => e.promise));

        // the writer's own subscribers are told too
        const own = waitForEvent(store, (e) => e.kind === 'consumer' && e.id === c.id);
        await options.afterSubscribe?.(store);
        await store.updateConsumer(c.id, { disabled: true });
        await own.promise;
      } finally {
        unsubscribe();
      }
      assert.ok(seen.length >= 7);
    });

    test('a throwing listener does not stop the others', async () => {
      const bad = other.subscribe(() => {
        throw new Error('listener bug');
      });
      try {
        const ev = waitForEvent(other, (e) => e.kind === 'token' && e.id === 'after-bad');
        await options.afterSubscribe?.(other);
        await store.revokeToken('after-bad', Date.now() + 1000);
        await ev.promise;
      } finally {
        bad();
      }
    });
  });
}

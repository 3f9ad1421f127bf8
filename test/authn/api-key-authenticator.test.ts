import { test, describe, mock } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { createApiKeyAuthenticator, type ApiKeyDeps } from '../../src/authn/api-key-authenticator.js';
import { generateApiKey } from '../../src/authn/api-key-format.js';
import { compileEntry, type ApiKeyEntry } from '../../src/authn/api-key-directory.js';
import { AuthenticationFailure } from '../../src/authn/authenticator.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { ApiKeyRecord, Consumer } from '../../src/store/types.js';
import { fakeContext } from './request-context.js';

const pepper = crypto.randomBytes(32);
const hashApiKey = (key: string) => crypto.createHmac('sha256', pepper).update(key).digest();
const consumer: Consumer = {
  id: 'c-1',
  name: 'shop',
  roles: ['reader'],
  tenant: 't-1',
  attributes: { plan: 'gold' },
  createdAt: 0,
  disabled: false,
};

function setup(
  overrides: Partial<ApiKeyRecord> = {},
  options: { inQuery?: boolean; owner?: Consumer | null } = {},
) {
  const { key, lookupId } = generateApiKey('pcs');
  const record: ApiKeyRecord = {
    lookupId,
    consumerId: consumer.id,
    keyHash: hashApiKey(key),
    scopes: ['orders:read'],
    allowedCidrs: [],
    expiresAt: null,
    revokedAt: null,
    notAfter: null,
    createdAt: 0,
    lastUsedAt: null,
    ...overrides,
  };
  const entries = new Map<string, ApiKeyEntry>([
    [lookupId, compileEntry(record, options.owner === undefined ? consumer : options.owner)],
  ]);
  const touched: string[] = [];
  let now = 1_000_000;
  let hashes = 0;
  const deps: ApiKeyDeps = {
    directory: { get: (id) => entries.get(id), cached: (id) => entries.get(id) },
    hash: (value) => {
      hashes++;
      return hashApiKey(value);
    },
    touch: (id) => touched.push(id),
    now: () => now,
  };
  const authenticator = createApiKeyAuthenticator(
    deps,
    { header: 'x-api-key', queryParam: 'api_key' },
    { inQuery: options.inQuery ?? false },
  );
  return {
    key,
    lookupId,
    record,
    entries,
    authenticator,
    touched,
    setNow: (value: number) => (now = value),
    hashCount: () => hashes,
  };
}

function reasonOf(fn: () => unknown): string {
  try {
    fn();
  } catch (error) {
    assert.ok(error instanceof AuthenticationFailure, String(error));
    return error.reason;
  }
  assert.fail('expected an AuthenticationFailure');
}

describe('API key authenticator', () => {
  test('a valid key yields the consumer identity and records the use', () => {
    const { key, lookupId, authenticator, touched } = setup();
    const identity = authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }));
    assert.ok(identity && !(identity instanceof Promise));
    assert.equal(identity.consumerId, 'c-1');
    assert.equal(identity.subject, 'shop');
    assert.equal(identity.method, 'api_key');
    assert.equal(identity.credentialId, lookupId);
    assert.deepEqual(identity.roles, ['reader']);
    assert.deepEqual(identity.scopes, ['orders:read']);
    assert.equal(identity.tenant, 't-1');
    assert.deepEqual(touched, [lookupId]);
  });

  test('no key: no opinion (undefined)', () => {
    const { authenticator } = setup();
    assert.equal(authenticator.authenticate(fakeContext()), undefined);
  });

  test('revoked key refused', () => {
    const { key, authenticator } = setup({ revokedAt: 1 });
    assert.equal(
      reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }))),
      'api_key_revoked',
    );
  });

  test('expired key refused', () => {
    const { key, authenticator } = setup({ expiresAt: 999_999 });
    assert.equal(
      reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }))),
      'api_key_expired',
    );
  });

  test('rotated key works until notAfter, then is refused', () => {
    const { key, authenticator, setNow } = setup({ notAfter: 1_000_500 });
    assert.ok(authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } })));
    setNow(1_000_500);
    assert.equal(
      reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key } }))),
      'api_key_rotated_out',
    );
  });

  test('malformed and wrong-checksum keys refused without a look-up', () => {
    const { key, authenticator } = setup();
    assert.equal(
      reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': 'hello' } }))),
      'api_key_malformed',
    );
    const typo = key.slice(0, -1) + (key.endsWith('a') ? 'b' : 'a');
    assert.equal(
      reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': typo } }))),
      'api_key_bad_checksum',
    );
  });

  test('valid look-up id with a wrong secret is refused, compared in constant time', () => {
    const { lookupId, authenticator } = setup();
    const forged = generateApiKey('pcs', lookupId).key;
    const spy = mock.method(crypto, 'timingSafeEqual');
    try {
      assert.equal(
        reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': forged } }))),
        'api_key_wrong_secret',
      );
      assert.equal(spy.mock.callCount(), 1);
      const [presented, stored] = spy.mock.calls[0]?.arguments ?? [];
      assert.equal((presented as Buffer).length, 32);
      assert.equal((stored as Buffer).length, 32);
    } finally {
      spy.mock.restore();
    }
  });

  test('unknown look-up id still costs one constant-time comparison', () => {
    const { authenticator } = setup();
    const stranger = generateApiKey('pcs').key;
    const spy = mock.method(crypto, 'timingSafeEqual');
    try {
      assert.equal(
        reasonOf(() => authenticator.authenticate(fakeContext({ headers: { 'x-api-key': stranger } }))),
        'api_key_unknown',
      );
      assert.equal(spy.mock.callCount(), 1);
    } finally {
      spy.mock.restore();
    }
  });

  test('source CIDRs: inside accepted, outside refused', () => {
    const { key, authenticator } = setup({ allowedCidrs: ['10.0.0.0/8', '2001:db8::/32'] });
    assert.ok(
      authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key }, clientIp: '10.1.2.3' })),
    );
    assert.ok(
      authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key }, clientIp: '::ffff:10.1.2.3' })),
    );
    assert.ok(
      authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key }, clientIp: '2001:db8::1' })),
    );
    for (const ip of ['192.0.2.10', '11.0.0.1', '2001:db9::1', 'garbage']) {
      assert.equal(
        reasonOf(() =>
          authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key }, clientIp: ip })),
        ),
        'api_key_source_refused',
        ip,
      );
    }
  });

  test('disabled or missing consumer refused', () => {
    const disabled = setup({}, { owner: { ...consumer, disabled: true } });
    assert.equal(
      reasonOf(() =>
        disabled.authenticator.authenticate(fakeContext({ headers: { 'x-api-key': disabled.key } })),
      ),
      'api_key_consumer_disabled',
    );
    const orphan = setup({}, { owner: null });
    assert.equal(
      reasonOf(() =>
        orphan.authenticator.authenticate(fakeContext({ headers: { 'x-api-key': orphan.key } })),
      ),
      'api_key_consumer_missing',
    );
  });

  test('key in the query string refused unless enabled, and stripped either way', () => {
    const off = setup();
    const ctx = fakeContext({ query: `a=1&api_key=${off.key}&b=2` });
    assert.equal(
      reasonOf(() => off.authenticator.authenticate(ctx)),
      'api_key_in_query_not_allowed',
    );
    assert.equal(ctx.query, 'a=1&b=2');

    const on = setup({}, { inQuery: true });
    const ctx2 = fakeContext({ query: `api_key=${encodeURIComponent(on.key)}&b=2` });
    assert.ok(on.authenticator.authenticate(ctx2));
    assert.equal(ctx2.query, 'b=2');
    assert.ok(!ctx2.query.includes(on.key));
  });

  test('key given twice (query and header, or repeated in query) is refused', () => {
    const { key, authenticator } = setup({}, { inQuery: true });
    assert.equal(
      reasonOf(() =>
        authenticator.authenticate(fakeContext({ headers: { 'x-api-key': key }, query: `api_key=${key}` })),
      ),
      'api_key_presented_twice',
    );
    const ctx = fakeContext({ query: `api_key=${key}&api_key=${key}` });
    assert.equal(
      reasonOf(() => authenticator.authenticate(ctx)),
      'api_key_malformed',
    );
    assert.equal(ctx.query, '');
  });

  test('store unreachable: fails closed with store_unavailable (503), never accepts', async () => {
    const authenticator = createApiKeyAuthenticator(
      {
        directory: { get: () => Promise.reject(new Error('connection refused')), cached: () => undefined },
        hash: hashApiKey,
        touch: () => {},
      },
      { header: 'x-api-key', queryParam: 'api_key' },
      { inQuery: false },
    );
    await assert.rejects(
      async () =>
        authenticator.authenticate(fakeContext({ headers: { 'x-api-key': generateApiKey('pcs').key } })),
      (error: unknown) =>
        error instanceof GatewayError && error.code === 'store_unavailable' && error.status === 503,
    );
  });
});

describe('API key authenticator: verified-key fast path', () => {
  const use = (authenticator: ReturnType<typeof setup>['authenticator'], key: string, clientIp?: string) =>
    authenticator.authenticate(
      fakeContext({ headers: { 'x-api-key': key }, ...(clientIp === undefined ? {} : { clientIp }) }),
    );

  test('a key already verified against the cached entry is accepted without another HMAC', () => {
    const { key, lookupId, authenticator, touched, hashCount } = setup();
    const first = use(authenticator, key);
    assert.equal(hashCount(), 1);
    for (let i = 0; i < 5; i++) assert.equal(use(authenticator, key), first, 'the same frozen identity');
    assert.equal(hashCount(), 1);
    assert.deepEqual(touched, Array(6).fill(lookupId), 'every use is still recorded');
  });

  test('a wrong secret of the same length and look-up id is refused after the right key was seen', () => {
    const { key, lookupId, authenticator, hashCount } = setup();
    assert.ok(use(authenticator, key));
    const forged = generateApiKey('pcs', lookupId).key;
    assert.equal(forged.length, key.length);
    assert.equal(
      reasonOf(() => use(authenticator, forged)),
      'api_key_wrong_secret',
    );
    assert.equal(hashCount(), 2, 'the forged key went through the HMAC');
    // One character changed anywhere (secret or checksum): never the fast path, never accepted.
    for (const at of [key.length - 1, key.length - 10, key.length - 30, 5]) {
      const changed = key.slice(0, at) + (key[at] === 'A' ? 'B' : 'A') + key.slice(at + 1);
      assert.notEqual(
        reasonOf(() => use(authenticator, changed)),
        undefined,
      );
    }
    assert.ok(use(authenticator, key), 'the right key still works');
  });

  test('prefix and suffix tricks around a verified key are refused', () => {
    const { key, authenticator } = setup();
    assert.ok(use(authenticator, key));
    const tail = key.slice(key.indexOf('_'));
    for (const trick of [
      `x${key}`,
      `${key}x`,
      `${key} `,
      ` ${key}`,
      `pcsx${tail}`,
      `zz${tail}`,
      tail,
      key.slice(1),
      key.slice(0, -1),
      `${key}${key}`,
      key.toUpperCase(),
    ]) {
      const reason = reasonOf(() => use(authenticator, trick));
      assert.ok(reason === 'api_key_malformed' || reason === 'api_key_bad_checksum', `${trick}: ${reason}`);
    }
  });

  test('a key revoked in the store is refused as soon as the directory drops the entry', () => {
    const { key, lookupId, record, entries, authenticator } = setup();
    assert.ok(use(authenticator, key));
    // What the directory does on the change feed's event: the next look-up brings the new record.
    entries.set(lookupId, compileEntry({ ...record, revokedAt: 999_999 }, consumer));
    assert.equal(
      reasonOf(() => use(authenticator, key)),
      'api_key_revoked',
    );
  });

  test('revocation, expiry and rotation times are checked on every use, remembered or not', () => {
    const expiring = setup({ expiresAt: 1_000_100 });
    assert.ok(use(expiring.authenticator, expiring.key));
    expiring.setNow(1_000_100);
    assert.equal(
      reasonOf(() => use(expiring.authenticator, expiring.key)),
      'api_key_expired',
    );

    const revoking = setup({ revokedAt: 1_000_100 });
    assert.ok(use(revoking.authenticator, revoking.key));
    revoking.setNow(1_000_200);
    assert.equal(
      reasonOf(() => use(revoking.authenticator, revoking.key)),
      'api_key_revoked',
    );

    const rotating = setup({ notAfter: 1_000_100, expiresAt: 2_000_000 });
    assert.ok(use(rotating.authenticator, rotating.key));
    rotating.setNow(1_000_100);
    assert.equal(
      reasonOf(() => use(rotating.authenticator, rotating.key)),
      'api_key_rotated_out',
    );
  });

  test('a disabled consumer and the source restriction apply to a remembered key', () => {
    const { key, lookupId, record, entries, authenticator } = setup({ allowedCidrs: ['10.0.0.0/8'] });
    assert.ok(use(authenticator, key, '10.0.0.1'));
    assert.equal(
      reasonOf(() => use(authenticator, key, '192.0.2.1')),
      'api_key_source_refused',
    );
    entries.set(lookupId, compileEntry(record, { ...consumer, disabled: true }));
    assert.equal(
      reasonOf(() => use(authenticator, key, '10.0.0.1')),
      'api_key_consumer_disabled',
    );
  });

  test('a key is remembered only once its HMAC matched', () => {
    const { key, lookupId, authenticator, hashCount } = setup();
    const forged = generateApiKey('pcs', lookupId).key;
    assert.equal(
      reasonOf(() => use(authenticator, forged)),
      'api_key_wrong_secret',
    );
    assert.equal(
      reasonOf(() => use(authenticator, forged)),
      'api_key_wrong_secret',
    );
    assert.equal(hashCount(), 2, 'a refused key is never remembered');
    assert.ok(use(authenticator, key));
  });
});

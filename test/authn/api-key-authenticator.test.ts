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
  const deps: ApiKeyDeps = {
    directory: { get: (id) => entries.get(id) },
    hash: (value) => hashApiKey(value),
    touch: (id) => touched.push(id),
    now: () => now,
  };
  const authenticator = createApiKeyAuthenticator(
    deps,
    { header: 'x-api-key', queryParam: 'api_key' },
    { inQuery: options.inQuery ?? false },
  );
  return { key, lookupId, authenticator, touched, setNow: (value: number) => (now = value) };
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
        directory: { get: () => Promise.reject(new Error('connection refused')) },
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

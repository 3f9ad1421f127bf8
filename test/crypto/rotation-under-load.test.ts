import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import { hashCredential } from '../../src/crypto/hash.js';
import { openKeyring } from '../../src/crypto/keyring.js';
import { rotateKek } from '../../src/crypto/rotate.js';
import { readSecret, setSecret } from '../../src/crypto/secrets.js';
import { SigningKeys } from '../../src/crypto/signing-keys.js';
import { SqliteStore } from '../../src/store/sqlite.js';
import { startGateway } from '../helpers/gateway.js';
import { writeKekFile } from './helpers.js';

const ISSUER = 'https://gw.test';

test('KEK and signing-key rotation while the gateway issues tokens: no request fails, no secret is lost', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'portcullis-rotate-load-'));
  const storePath = join(dir, 'store.db');
  await writeKekFile(dir, 'kek-v1.key');
  await writeKekFile(dir, 'kek-v2.key');
  const v1Config = { kek: { provider: 'file' as const, path: './kek-v1.key', version: 1 } };
  const v2Config = {
    kek: { provider: 'file' as const, path: './kek-v2.key', version: 2 },
    previous: [v1Config.kek],
  };
  const clientSecret = randomBytes(24).toString('base64url');

  // state written while only v1 existed
  const seed = new SqliteStore(storePath);
  const v1 = await openKeyring({ config: v1Config, configDir: dir, store: seed });
  const consumer = await seed.createConsumer({ name: 'svc' });
  await seed.createClient({
    clientId: 'svc-client',
    consumerId: consumer.id,
    secretHash: hashCredential(v1, clientSecret),
    allowedScopes: ['orders:read'],
  });
  const values = new Map<string, string>();
  for (let i = 0; i < 150; i++) {
    const value = randomBytes(12).toString('hex');
    await setSecret(v1, seed, `upstream-${i}`, value);
    values.set(`upstream-${i}`, value);
  }
  const firstKeys = new SigningKeys(v1, seed, { alg: 'ES256' });
  await firstKeys.current();
  firstKeys.close();
  await seed.close();

  // every node now runs with v2 current and v1 previous
  const operator = new SqliteStore(storePath);
  const tokens: string[] = [];
  const failures: string[] = [];
  let done = false;
  let gw: Awaited<ReturnType<typeof startGateway>> | undefined;
  try {
    gw = await startGateway(
      {
        store: { type: 'sqlite', path: './store.db' },
        secrets: v2Config,
        oauthServer: { issuer: ISSUER, tokenTtlSec: 300 },
        upstreams: { none: { targets: [{ url: 'http://127.0.0.1:9' }] } },
        routes: [
          {
            name: 'oauth',
            match: { pathPrefix: '/oauth' },
            public: true,
            oauthServer: { basePath: '/oauth' },
          },
        ],
      },
      { dir },
    );
    const gateway = gw;
    const keyring = await openKeyring({ config: v2Config, configDir: dir, store: operator });
    const basic = `Basic ${Buffer.from(`svc-client:${clientSecret}`).toString('base64')}`;
    const load = Array.from({ length: 6 }, async () => {
      while (!done) {
        const response = await fetch(`${gateway.url}/oauth/token`, {
          method: 'POST',
          headers: { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' },
          body: 'grant_type=client_credentials&scope=orders%3Aread',
        });
        const body = (await response.json()) as { access_token?: string };
        if (response.status !== 200 || body.access_token === undefined) failures.push(`${response.status}`);
        else tokens.push(body.access_token);
      }
    });
    // tokens signed with the old key must exist before the rotation (the first requests are slow)
    for (let i = 0; i < 1500 && tokens.length < 10 && failures.length === 0; i++) {
      await new Promise((r) => setTimeout(r, 20));
    }
    const signing = new SigningKeys(keyring, operator, { alg: 'ES256' });
    const result = await rotateKek(keyring, operator, { batchSize: 5 });
    const rotatedKey = await signing.rotate(600_000);
    // let the gateway notice the new signing key and issue more tokens with it
    // (the change feed reaches the gateway asynchronously: wait for a token with the new kid)
    const before = tokens.length;
    const newKeyUsed = () =>
      tokens.slice(before).some((t) => decodeProtectedHeader(t).kid === rotatedKey.kid);
    for (
      let i = 0;
      i < 1500 && (tokens.length < before + 30 || !newKeyUsed()) && failures.length === 0;
      i++
    ) {
      await new Promise((r) => setTimeout(r, 20));
    }
    done = true;
    await Promise.all(load);
    signing.close();

    assert.deepEqual(failures, [], 'no token request failed during rotation');
    assert.ok(tokens.length >= 30);
    assert.equal(result.usage.get(1) ?? 0, 0);
    assert.deepEqual(result.retirable, [1]);

    const jwksResponse = await fetch(`${gateway.url}/oauth/jwks.json`);
    const jwks = (await jwksResponse.json()) as { keys: { kid: string }[] };
    assert.ok(
      jwks.keys.some((k) => k.kid === rotatedKey.kid),
      'the new signing key is published',
    );
    const keySet = createLocalJWKSet(jwks as never);
    const kids = new Set<string>();
    for (const t of tokens) {
      const { protectedHeader } = await jwtVerify(t, keySet, { issuer: ISSUER, algorithms: ['ES256'] });
      kids.add(protectedHeader.kid as string);
    }
    assert.ok(kids.has(rotatedKey.kid), 'tokens were signed with the new key after rotation');
    assert.ok(kids.size >= 2, 'tokens from the old key still verify');

    // nothing secret reached the logs
    const logs = gateway.logText();
    const kekTexts = await Promise.all(
      ['kek-v1.key', 'kek-v2.key'].map(async (f) => (await readFile(join(dir, f), 'utf8')).trim()),
    );
    for (const needle of [clientSecret, ...kekTexts, ...values.values()]) assert.ok(!logs.includes(needle));

    // nothing was lost: every secret opens with v2 alone
    const onlyV2 = await openKeyring({ config: { kek: v2Config.kek }, configDir: dir, store: operator });
    for (const [name, value] of values) assert.equal(await readSecret(onlyV2, operator, name), value);
  } finally {
    done = true;
    await operator.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  }
});

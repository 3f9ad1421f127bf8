import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { createHmac, createHash, generateKeyPairSync } from 'node:crypto';
import { SignJWT, exportJWK, generateKeyPair, base64url, type JWK } from 'jose';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { jwtFactory } from '../../src/authn/jwt-authenticator.js';
import type { Identity } from '../../src/pipeline/identity.js';
import { bearer, fakeContext, testBuild } from './jwt-fixtures.js';

const ISS = 'https://issuer.test';
const AUD = 'portcullis-api';

const es = await generateKeyPair('ES256', { extractable: true });
const esJwk: JWK = { ...(await exportJWK(es.publicKey)), kid: 'es-1', alg: 'ES256' };
const attacker = await generateKeyPair('ES256', { extractable: true });
const attackerJwk: JWK = { ...(await exportJWK(attacker.publicKey)), kid: 'es-1', alg: 'ES256' };
const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const rsaPem = rsa.publicKey.export({ type: 'spki', format: 'pem' }).toString();

async function authenticator(issuerConfig: Record<string, unknown>, name = 'corp'): Promise<Authenticator> {
  const build = testBuild(
    { authn: { jwt: { issuers: { [name]: issuerConfig } } } },
    { authentication: { anyOf: [`jwt:${name}`] } },
  );
  return jwtFactory.create(name, build);
}

const esIssuer = {
  issuer: ISS,
  audience: AUD,
  algorithms: ['ES256'],
  keys: [esJwk],
  claims: { roles: 'realm.roles', tenant: 'org', attributes: { email: 'email' } },
};

function sign(
  claims: Record<string, unknown> = {},
  header: Record<string, unknown> = {},
  key = es.privateKey,
) {
  const base = { sub: 'alice', scope: 'read write', realm: { roles: ['admin'] }, org: 't1', email: 'a@x' };
  return new SignJWT({ ...base, iss: ISS, aud: AUD, iat: now(), exp: now() + 300, ...claims })
    .setProtectedHeader({ alg: 'ES256', kid: 'es-1', ...header })
    .sign(key);
}

async function refused(auth: Authenticator, token: string, reason?: string | RegExp): Promise<void> {
  await assert.rejects(
    async () => auth.authenticate(bearer(token)),
    (error: unknown) => {
      assert.ok(
        error instanceof AuthenticationFailure,
        `expected AuthenticationFailure, got ${String(error)}`,
      );
      if (typeof reason === 'string') assert.equal(error.reason, reason);
      else if (reason !== undefined) assert.match(error.reason, reason);
      return true;
    },
  );
}

/** Builds a compact JWS by hand (for attacks jose refuses to produce). */
function forge(
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
  signature: Buffer | string,
): string {
  const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
  const sig = typeof signature === 'string' ? signature : base64url.encode(signature);
  return `${enc(header)}.${enc(payload)}.${sig}`;
}

const now = () => Math.floor(Date.now() / 1000);
const goodPayload = () => ({ sub: 'alice', iss: ISS, aud: AUD, iat: now(), exp: now() + 300 });

describe('jwt authenticator: valid tokens', () => {
  test('maps claims to the identity', async () => {
    const auth = await authenticator(esIssuer);
    const identity = (await auth.authenticate(bearer(await sign({ jti: 'j1' })))) as Identity;
    assert.equal(identity.subject, 'alice');
    assert.equal(identity.method, 'jwt');
    assert.equal(identity.issuer, ISS);
    assert.deepEqual(identity.roles, ['admin']);
    assert.deepEqual(identity.scopes, ['read', 'write']);
    assert.equal(identity.tenant, 't1');
    assert.deepEqual(identity.attributes, { email: 'a@x' });
    assert.equal(identity.credentialId, `${ISS}#j1`);
    assert.equal(auth.method, 'jwt:corp');
    assert.match(auth.challenge, /^Bearer realm=/);
  });

  test('reads an `scp` array when there is no `scope`', async () => {
    const auth = await authenticator(esIssuer);
    const identity = (await auth.authenticate(
      bearer(await sign({ scope: undefined, scp: ['a', 'b'] })),
    )) as Identity;
    assert.deepEqual(identity.scopes, ['a', 'b']);
  });

  test('no Authorization header means no credential', async () => {
    const auth = await authenticator(esIssuer);
    assert.equal(await auth.authenticate(fakeContext({})), undefined);
    assert.equal(await auth.authenticate(fakeContext({ authorization: 'Basic Zm9vOmJhcg==' })), undefined);
  });

  test('PEM public keys and HS256 shared secrets', async () => {
    const rsaAuth = await authenticator({
      issuer: ISS,
      algorithms: ['RS256'],
      keys: [{ pem: rsaPem, kid: 'r1' }],
    });
    const rsaToken = await new SignJWT({ sub: 'bob' })
      .setProtectedHeader({ alg: 'RS256', kid: 'r1' })
      .setIssuer(ISS)
      .setExpirationTime('5m')
      .sign(rsa.privateKey);
    assert.equal(((await rsaAuth.authenticate(bearer(rsaToken))) as Identity).subject, 'bob');

    const secret = 'a-shared-secret-of-at-least-32-bytes!!';
    const hsAuth = await authenticator({ issuer: ISS, algorithms: ['HS256'], secret });
    const hsToken = await new SignJWT({ sub: 'carol' })
      .setProtectedHeader({ alg: 'HS256' })
      .setIssuer(ISS)
      .setExpirationTime('5m')
      .sign(new TextEncoder().encode(secret));
    assert.equal(((await hsAuth.authenticate(bearer(hsToken))) as Identity).subject, 'carol');
  });
});

describe('jwt authenticator: attacks are refused', () => {
  test('alg none', async () => {
    const auth = await authenticator(esIssuer);
    await refused(auth, forge({ alg: 'none' }, goodPayload(), ''));
    await refused(auth, forge({ alg: 'none', kid: 'es-1' }, goodPayload(), ''));
    await refused(auth, forge({ alg: 'NONE' }, goodPayload(), 'x'));
  });

  test('HS256 signed with the RSA public key (key confusion)', async () => {
    const auth = await authenticator({
      issuer: ISS,
      algorithms: ['RS256'],
      keys: [{ pem: rsaPem, kid: 'r1' }],
    });
    for (const secret of [rsaPem, rsa.publicKey.export({ type: 'spki', format: 'der' })]) {
      const header = { alg: 'HS256', kid: 'r1', typ: 'JWT' };
      const enc = (value: unknown) => base64url.encode(JSON.stringify(value));
      const input = `${enc(header)}.${enc(goodPayload())}`;
      const mac = createHmac('sha256', secret).update(input).digest('base64url');
      await refused(auth, `${input}.${mac}`, 'jwt_alg_not_allowed');
    }
    // and the configuration that would allow it is refused at build
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['RS256', 'HS256'], keys: [{ pem: rsaPem }] }),
      /HS\* algorithms need a shared `secret`/,
    );
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['HS256', 'RS256'], secret: 'x'.repeat(40) }),
      /accepts only HS256/,
    );
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['none'], keys: [esJwk] }),
      /never an accepted algorithm/,
    );
    const privatePem = rsa.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['RS256'], keys: [{ pem: privatePem }] }),
      /not a private key/,
    );
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['RS256'], keys: [{ kty: 'oct', k: 'c2VjcmV0' }] }),
      /belong in `secret`/,
    );
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['HS256'], secret: 'short' }),
      /at least 32 bytes/,
    );
    await assert.rejects(
      authenticator({ issuer: ISS, algorithms: ['ES256'], keys: [esJwk], jwksUri: 'http://127.0.0.1:1/' }),
      /exactly one/,
    );
  });

  test('tampered payload', async () => {
    const auth = await authenticator(esIssuer);
    const [h, , s] = (await sign()).split('.');
    const evil = base64url.encode(
      JSON.stringify({ ...goodPayload(), sub: 'admin', realm: { roles: ['root'] } }),
    );
    await refused(auth, `${h}.${evil}.${s}`, 'jwt_bad_signature');
  });

  test('clock skew: slightly expired or not-yet-valid tokens pass within clockSkewSec only', async () => {
    const auth = await authenticator({ ...esIssuer, clockSkewSec: 30 });
    assert.ok(await auth.authenticate(bearer(await sign({ exp: now() - 10 }))));
    assert.ok(await auth.authenticate(bearer(await sign({ nbf: now() + 10 }))));
    await refused(auth, await sign({ exp: now() - 45 }), 'jwt_expired');
    const strict = await authenticator({ ...esIssuer, clockSkewSec: 0 });
    await refused(strict, await sign({ exp: now() - 10 }), 'jwt_expired');
  });

  test('expired, not yet valid, too old, missing exp', async () => {
    const auth = await authenticator({ ...esIssuer, clockSkewSec: 5, maxAgeSec: 600 });
    await refused(auth, await sign({ exp: now() - 60 }), 'jwt_expired');
    await refused(auth, await sign({ nbf: now() + 120 }), /^jwt_claim_nbf/);
    await refused(auth, await sign({ iat: now() - 3600, exp: now() + 60 }), 'jwt_too_old');
    const noExp = await new SignJWT({ sub: 'a', iat: now() })
      .setProtectedHeader({ alg: 'ES256', kid: 'es-1' })
      .setIssuer(ISS)
      .setAudience(AUD)
      .sign(es.privateKey);
    await refused(auth, noExp, /^jwt_claim_exp/);
  });

  test('wrong iss and wrong aud', async () => {
    const auth = await authenticator(esIssuer);
    await refused(auth, await sign({ iss: 'https://evil.test' }), /^jwt_claim_iss/);
    await refused(auth, await sign({ aud: 'other-api' }), /^jwt_claim_aud/);
  });

  test('unknown kid with static keys', async () => {
    const auth = await authenticator(esIssuer);
    await refused(auth, await sign({}, { kid: 'nope' }), 'jwt_unknown_key');
  });

  test('jku, x5u and embedded jwk pointing at attacker keys never select a key', async () => {
    const auth = await authenticator(esIssuer);
    const attackerHeaders = [
      { jku: 'http://127.0.0.1:1/attacker-jwks.json' },
      { x5u: 'http://127.0.0.1:1/attacker.pem' },
      { jwk: attackerJwk },
      { x5c: ['MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA'] },
    ];
    for (const header of attackerHeaders) {
      await refused(auth, await sign({ sub: 'admin' }, header, attacker.privateKey), 'jwt_bad_signature');
      await refused(
        auth,
        await sign({ sub: 'admin' }, { ...header, kid: 'attacker' }, attacker.privateKey),
        'jwt_unknown_key',
      );
    }
  });

  test('ECDSA signature of zeros (psychic signature)', async () => {
    const auth = await authenticator(esIssuer);
    const header = { alg: 'ES256', kid: 'es-1' };
    await refused(auth, forge(header, goodPayload(), Buffer.alloc(64)), 'jwt_bad_signature');
    // DER-encoded r=0, s=0 is not even a valid JOSE signature
    await refused(
      auth,
      forge(header, goodPayload(), Buffer.from('3006020100020100', 'hex')),
      /^jwt_(bad_signature|malformed)$/,
    );
  });

  test('unknown crit header', async () => {
    const auth = await authenticator(esIssuer);
    const token = await new SignJWT(goodPayload())
      .setProtectedHeader({
        alg: 'ES256',
        kid: 'es-1',
        crit: ['x-must-understand'],
        'x-must-understand': true,
      })
      .sign(es.privateKey, { crit: { 'x-must-understand': true } });
    await refused(auth, token, /^jwt_(unsupported|malformed)$/);
  });

  test('oversize token is refused before parsing', async () => {
    const auth = await authenticator({ ...esIssuer, maxTokenBytes: 1024 });
    const big = await sign({ padding: 'x'.repeat(2000) });
    await refused(auth, big, /too_large/);
    await refused(auth, `${'e'.repeat(600_000)}.x.y`, /too_large/);
  });

  test('typ is enforced when configured (RFC 8725)', async () => {
    const auth = await authenticator({ ...esIssuer, typ: 'at+jwt' });
    await refused(auth, await sign({}, { typ: 'JWT' }), /^jwt_claim_typ/);
    await refused(auth, await sign(), /^jwt_claim_typ/);
    assert.ok(await auth.authenticate(bearer(await sign({}, { typ: 'at+jwt' }))));
  });

  test('required claims and a subject are needed', async () => {
    const auth = await authenticator({ ...esIssuer, requiredClaims: ['jti'] });
    await refused(auth, await sign(), /^jwt_claim_jti/);
    await refused(auth, await sign({ jti: 'x', sub: undefined }), 'jwt_missing_subject');
  });

  test('malformed tokens and headers', async () => {
    const auth = await authenticator(esIssuer);
    await refused(auth, 'not-a-jwt', 'jwt_malformed');
    await refused(auth, 'a.b.c', 'jwt_malformed');
    const good = await sign();
    for (const authorization of [
      'Bearer a b',
      'Bearer',
      `Bearer ${good}, Bearer ${good}`,
      `Bearer ${good}\u0000`,
    ]) {
      await assert.rejects(
        async () => auth.authenticate(fakeContext({ authorization })),
        (error: unknown) =>
          error instanceof AuthenticationFailure && error.reason === 'bearer_token_malformed',
        authorization.slice(0, 20),
      );
    }
  });

  test('a second issuer on the route takes tokens of other issuers', async () => {
    const build = testBuild(
      { authn: { jwt: { issuers: { a: esIssuer, b: { ...esIssuer, issuer: 'https://other.test' } } } } },
      { authentication: { anyOf: ['jwt:a', 'jwt:b'] } },
    );
    const a = await jwtFactory.create('a', build);
    const b = await jwtFactory.create('b', build);
    const token = await sign({ iss: 'https://other.test' });
    assert.equal(await a.authenticate(bearer(token)), undefined);
    assert.equal(((await b.authenticate(bearer(token))) as Identity).issuer, 'https://other.test');
    assert.equal(await a.authenticate(bearer('opaque-token')), undefined);
  });
});

describe('certificate-bound tokens (RFC 8705)', () => {
  const certA = Buffer.from('certificate A DER bytes');
  const certB = Buffer.from('certificate B DER bytes');
  const thumb = (der: Buffer) => createHash('sha256').update(der).digest('base64url');
  const withCert = (token: string, der: Buffer | undefined) =>
    fakeContext({ authorization: `Bearer ${token}` }, {
      getPeerCertificate: () => (der === undefined ? {} : { raw: der }),
    } as never);

  test('the presented certificate must match cnf.x5t#S256', async () => {
    const auth = await authenticator(esIssuer);
    const token = await sign({ cnf: { 'x5t#S256': thumb(certA) } });
    assert.ok(await auth.authenticate(withCert(token, certA)));
    await assert.rejects(async () => auth.authenticate(withCert(token, certB)), {
      reason: 'jwt_certificate_mismatch',
    });
    await assert.rejects(async () => auth.authenticate(withCert(token, undefined)), {
      reason: 'jwt_certificate_missing',
    });
    await assert.rejects(async () => auth.authenticate(bearer(token)), { reason: 'jwt_certificate_missing' });
  });

  test('requireCertificateBinding refuses unbound tokens', async () => {
    const auth = await authenticator({ ...esIssuer, requireCertificateBinding: true });
    await refused(auth, await sign(), 'jwt_not_certificate_bound');
  });
});

describe('verified-token cache (signing input finds the entry, the signature is compared)', () => {
  const sync = (auth: Authenticator, token: string, scheme = 'Bearer'): Identity => {
    const result = auth.authenticate(fakeContext({ authorization: `${scheme} ${token}` }));
    assert.ok(result !== undefined && !(result instanceof Promise), 'served from the cache');
    return result;
  };
  const flip = (text: string, at: number) =>
    text.slice(0, at) + (text[at] === 'A' ? 'B' : 'A') + text.slice(at + 1);

  test('a verified token is served synchronously, the same identity every time', async () => {
    const auth = await authenticator(esIssuer);
    const token = await sign({ jti: 'c1' });
    const first = (await auth.authenticate(bearer(token))) as Identity;
    assert.equal(sync(auth, token), first);
    assert.equal(sync(auth, token), first);
    // other spellings of the scheme take the checked path and still find the entry
    assert.equal(sync(auth, token, 'bearer'), first);
    assert.equal(sync(auth, `${token}  `), first);
  });

  test("the cached token's header and payload with another signature are refused", async () => {
    const auth = await authenticator(esIssuer);
    const token = await sign({ jti: 'c2' });
    await auth.authenticate(bearer(token));
    const [h, p, sig] = token.split('.') as [string, string, string];
    for (const at of [0, 10, sig.length - 2])
      await refused(auth, `${h}.${p}.${flip(sig, at)}`, 'jwt_bad_signature');
    await refused(auth, `${h}.${p}.${sig}AAAA`);
    await refused(auth, `${h}.${p}.${sig.slice(0, -4)}`);
    await refused(auth, `${h}.${p}.`);
    await refused(auth, `${h}.${p}`);
    // signed by an attacker's key for the same header and payload
    const forged = await new SignJWT(
      JSON.parse(Buffer.from(p, 'base64url').toString()) as Record<string, unknown>,
    )
      .setProtectedHeader(JSON.parse(Buffer.from(h, 'base64url').toString()) as { alg: string })
      .sign(attacker.privateKey);
    assert.equal(forged.split('.').slice(0, 2).join('.'), `${h}.${p}`);
    await refused(auth, forged, 'jwt_bad_signature');
    assert.ok(sync(auth, token), 'refused look-alikes do not evict the verified token');
  });

  test('the cached signature on another header or payload is refused', async () => {
    const auth = await authenticator(esIssuer);
    const token = await sign({ jti: 'c3' });
    await auth.authenticate(bearer(token));
    const [h, p, sig] = token.split('.') as [string, string, string];
    const other = base64url.encode(
      JSON.stringify({ ...goodPayload(), jti: 'c3', realm: { roles: ['root'] } }),
    );
    await refused(auth, `${h}.${other}.${sig}`, 'jwt_bad_signature');
    await refused(auth, `${h}.${p}x.${sig}`);
    await refused(auth, `${h}x.${p}.${sig}`);
    await refused(auth, `${h}.${p}.${sig}.${sig}`);
  });

  test('an expired token is refused even though it was cached', async () => {
    const auth = await authenticator({ ...esIssuer, clockSkewSec: 0 });
    const exp = now() + 1;
    const token = await sign({ jti: 'c4', exp });
    await auth.authenticate(bearer(token));
    assert.ok(sync(auth, token));
    while (Date.now() < exp * 1000 + 50) await new Promise((resolve) => setTimeout(resolve, 50));
    await refused(auth, token, 'jwt_expired');
  });
});

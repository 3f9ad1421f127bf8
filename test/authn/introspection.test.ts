import { describe, test, after } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { AuthenticationFailure, type Authenticator } from '../../src/authn/authenticator.js';
import { introspectionFactory } from '../../src/authn/introspection-authenticator.js';
import { GatewayError } from '../../src/errors/gateway-error.js';
import type { Identity } from '../../src/pipeline/identity.js';
import { bearer, fakeContext, testBuild } from './jwt-fixtures.js';

interface Seen {
  readonly authorization: string | undefined;
  readonly body: string;
}

/** An RFC 7662 endpoint on loopback: answers from `tokens`, checks the gateway's credentials. */
async function startIntrospectionServer(tokens: Record<string, Record<string, unknown>>) {
  const seen: Seen[] = [];
  const state = { status: 200, delayMs: 0 };
  const server = createServer((req: IncomingMessage, res) => {
    let body = '';
    req.on('data', (chunk: Buffer) => (body += chunk.toString()));
    req.on('end', () => {
      seen.push({ authorization: req.headers.authorization, body });
      const expected = `Basic ${Buffer.from('gateway:s3cret%2B').toString('base64')}`;
      if (req.headers.authorization !== expected) {
        res.writeHead(401, { 'content-type': 'application/json' }).end('{"error":"invalid_client"}');
        return;
      }
      const token = new URLSearchParams(body).get('token') ?? '';
      setTimeout(() => {
        res.writeHead(state.status, { 'content-type': 'application/json' });
        res.end(JSON.stringify(tokens[token] ?? { active: false }));
      }, state.delayMs);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}/introspect`,
    seen,
    state,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

const now = () => Math.floor(Date.now() / 1000);
const tokens: Record<string, Record<string, unknown>> = {
  'good-token': {
    active: true,
    sub: 'alice',
    scope: 'read write',
    iss: 'https://as.test',
    aud: 'api',
    exp: now() + 600,
    jti: 'j-1',
  },
  'service-token': { active: true, client_id: 'svc-7', scope: 'batch', exp: now() + 600 },
  'expired-but-active': { active: true, sub: 'bob', exp: now() - 10 },
  'other-audience': {
    active: true,
    sub: 'carol',
    aud: 'another-api',
    iss: 'https://as.test',
    exp: now() + 600,
  },
  'stringly-active': { active: 'true', sub: 'mallory', exp: now() + 600 },
  'bound-token': {
    active: true,
    sub: 'dave',
    exp: now() + 600,
    cnf: { 'x5t#S256': createHash('sha256').update('cert A').digest('base64url') },
  },
};

const server = await startIntrospectionServer(tokens);
after(() => server.close());

function authenticator(
  overrides: Record<string, unknown> = {},
  url = server.url,
): Promise<Authenticator> | Authenticator {
  const build = testBuild(
    {
      authn: {
        introspection: {
          servers: {
            as: { url, clientId: 'gateway', clientSecret: 's3cret+', timeoutMs: 1000, ...overrides },
          },
        },
      },
    },
    { authentication: { anyOf: ['introspection:as'] } },
  );
  return introspectionFactory.create('as', build);
}

async function refused(auth: Authenticator, token: string, reason: string): Promise<void> {
  await assert.rejects(
    async () => auth.authenticate(bearer(token)),
    (error: unknown) => {
      assert.ok(error instanceof AuthenticationFailure, String(error));
      assert.equal(error.reason, reason);
      return true;
    },
  );
}

describe('introspection (RFC 7662)', () => {
  test('active token: identity, client authentication, cached', async () => {
    const auth = await authenticator({ issuer: 'https://as.test', audience: 'api' });
    const before = server.seen.length;
    const identity = (await auth.authenticate(bearer('good-token'))) as Identity;
    assert.equal(identity.subject, 'alice');
    assert.equal(identity.method, 'introspection');
    assert.deepEqual(identity.scopes, ['read', 'write']);
    assert.equal(identity.credentialId, 'j-1');
    const call = server.seen.at(-1);
    assert.match(call?.body ?? '', /^token=good-token&token_type_hint=access_token$/);
    await auth.authenticate(bearer('good-token'));
    assert.equal(server.seen.length, before + 1, 'second use answered from the cache');
  });

  test('client_credentials tokens map client_id to the subject', async () => {
    const auth = await authenticator();
    assert.equal(((await auth.authenticate(bearer('service-token'))) as Identity).subject, 'svc-7');
  });

  test('inactive token refused, and negatively cached', async () => {
    const auth = await authenticator();
    const before = server.seen.length;
    await refused(auth, 'unknown-token', 'introspection_inactive');
    await refused(auth, 'unknown-token', 'introspection_inactive');
    assert.equal(server.seen.length, before + 1);
  });

  test('active answers that are not acceptable are refused', async () => {
    const auth = await authenticator({ issuer: 'https://as.test', audience: 'api' });
    await refused(auth, 'expired-but-active', 'introspection_expired');
    await refused(auth, 'other-audience', 'introspection_wrong_audience');
    await refused(auth, 'stringly-active', 'introspection_inactive');
  });

  test('negative caching can be turned off', async () => {
    const auth = await authenticator({ cache: { negativeTtlSec: 0 } });
    const before = server.seen.length;
    await refused(auth, 'nope', 'introspection_inactive');
    await refused(auth, 'nope', 'introspection_inactive');
    assert.equal(server.seen.length, before + 2);
  });

  test('concurrent uses of one token make one call', async () => {
    const auth = await authenticator();
    const before = server.seen.length;
    const results = await Promise.all(
      Array.from({ length: 5 }, () => auth.authenticate(bearer('service-token'))),
    );
    assert.equal(results.length, 5);
    assert.equal(server.seen.length, before + 1);
  });

  test('no bearer token: not this method', async () => {
    const auth = await authenticator();
    assert.equal(await auth.authenticate(fakeContext({})), undefined);
  });

  test('server down or failing: fail closed with 503 authn_unavailable', async () => {
    const down = await startIntrospectionServer(tokens);
    await down.close();
    const unreachable = await authenticator({}, down.url);
    const expect503 = (error: unknown) => {
      assert.ok(error instanceof GatewayError, String(error));
      assert.equal(error.code, 'authn_unavailable');
      assert.equal(error.status, 503);
      return true;
    };
    await assert.rejects(async () => unreachable.authenticate(bearer('good-token')), expect503);

    const failing = await startIntrospectionServer(tokens);
    failing.state.status = 500;
    const erroring = await authenticator({}, failing.url);
    await assert.rejects(async () => erroring.authenticate(bearer('good-token')), expect503);
    failing.state.status = 200;
    failing.state.delayMs = 500;
    const slow = await authenticator({ timeoutMs: 100 }, failing.url);
    await assert.rejects(async () => slow.authenticate(bearer('good-token')), expect503);
    await failing.close();

    const wrongSecret = await authenticator({ clientSecret: 'wrong' });
    await assert.rejects(async () => wrongSecret.authenticate(bearer('good-token')), expect503);
  });

  test('oversize token is refused without a call', async () => {
    const auth = await authenticator({ maxTokenBytes: 64 });
    const before = server.seen.length;
    await assert.rejects(async () => auth.authenticate(bearer('t'.repeat(200))), AuthenticationFailure);
    assert.equal(server.seen.length, before);
  });

  test('hostile answers: a table of active-looking responses that must not authenticate', async () => {
    const at = now();
    const answers: [Record<string, unknown> | string, 'refused' | 'unavailable'][] = [
      [{ active: 1, sub: 'x', exp: at + 60 }, 'refused'],
      [{ active: 'true', sub: 'x', exp: at + 60 }, 'refused'],
      [{ active: true, sub: '', exp: at + 60 }, 'refused'],
      [{ active: true, sub: 42, exp: at + 60 }, 'refused'],
      [{ active: true, exp: at + 60 }, 'refused'],
      [{ active: true, sub: 'x', exp: at - 1 }, 'refused'],
      [{ active: true, sub: 'x', nbf: at + 3600, exp: at + 7200 }, 'refused'],
      [{ active: true, sub: 'x', cnf: { 'x5t#S256': 5 } }, 'refused'],
      ['[true]', 'unavailable'],
      ['{"active":true,', 'unavailable'],
      [JSON.stringify({ active: true, sub: 'x', pad: 'p'.repeat(100_000) }), 'unavailable'],
    ];
    const hostile = createServer((req, res) => {
      let body = '';
      req.on('data', (chunk: Buffer) => (body += chunk.toString()));
      req.on('end', () => {
        const index = Number(new URLSearchParams(body).get('token')?.slice(1));
        const answer = answers[index]?.[0];
        res
          .writeHead(200, { 'content-type': 'application/json' })
          .end(typeof answer === 'string' ? answer : JSON.stringify(answer));
      });
    });
    await new Promise<void>((resolve) => hostile.listen(0, '127.0.0.1', resolve));
    try {
      const url = `http://127.0.0.1:${(hostile.address() as AddressInfo).port}/`;
      const auth = await introspectionFactory.create(
        'as',
        testBuild(
          {
            authn: {
              introspection: {
                servers: { as: { url, clientId: 'g', clientSecret: 's', maxResponseBytes: 4096 } },
              },
            },
          },
          { authentication: { anyOf: ['introspection:as'] } },
        ),
      );
      for (const [index, [, expected]] of answers.entries()) {
        await assert.rejects(
          async () => auth.authenticate(bearer(`t${index}`)),
          (error: unknown) =>
            expected === 'refused'
              ? error instanceof AuthenticationFailure
              : error instanceof GatewayError && error.code === 'authn_unavailable',
          `answer ${index}`,
        );
      }
    } finally {
      hostile.closeAllConnections();
      await new Promise<void>((resolve) => hostile.close(() => resolve()));
    }
  });

  test('certificate-bound opaque tokens (RFC 8705): the presented certificate must match', async () => {
    const auth = await authenticator();
    const withCert = (der: string | undefined) =>
      fakeContext({ authorization: 'Bearer bound-token' }, {
        getPeerCertificate: () => (der === undefined ? {} : { raw: Buffer.from(der) }),
      } as never);
    assert.equal(((await auth.authenticate(withCert('cert A'))) as Identity).subject, 'dave');
    await assert.rejects(async () => auth.authenticate(withCert('cert B')), {
      reason: 'introspection_certificate_mismatch',
    });
    await assert.rejects(async () => auth.authenticate(withCert(undefined)), {
      reason: 'introspection_certificate_missing',
    });
    await assert.rejects(async () => auth.authenticate(bearer('bound-token')), {
      reason: 'introspection_certificate_missing',
    });
  });
});

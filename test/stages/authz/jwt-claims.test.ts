import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { SignJWT } from 'jose';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

const SECRET = 'an HS256 test secret that is long enough!!';
const ISS = 'https://idp.test';

function token(claims: Record<string, unknown>): Promise<string> {
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256' })
    .setIssuer(ISS)
    .setAudience('bank')
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(SECRET));
}

describe('roles, scopes and ownership from JWT claims through the gateway', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;
  let alice: string;
  let bob: string;
  let admin: string;
  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway({
      authn: {
        jwt: {
          issuers: {
            corp: {
              issuer: ISS,
              audience: 'bank',
              algorithms: ['HS256'],
              secret: SECRET,
              claims: { attributes: { realm: 'realm_access', account_id: 'acct' } },
            },
          },
        },
      },
      upstreams: { app: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'bank',
          match: { pathPrefix: '/accounts' },
          upstream: 'app',
          authentication: { anyOf: ['jwt:corp'] },
          authorization: {
            rolesFrom: { claim: 'realm.roles' },
            roles: {
              customer: { permissions: ['GET /accounts/{accountId}', 'DELETE /accounts/{accountId}'] },
              admin: { inherits: ['customer'], permissions: ['*'] },
            },
            privileged: ['DELETE /accounts/{accountId}'],
            scopes: { 'GET /accounts/{accountId}': ['accounts:read'] },
            ownership: [
              {
                operation: 'GET /accounts/{accountId}',
                param: 'path.accountId',
                equals: 'identity.attributes.account_id',
                exemptRoles: ['admin'],
              },
            ],
          },
        },
      ],
    });
    alice = await token({
      sub: 'alice',
      acct: 'A-1',
      scope: 'accounts:read',
      realm_access: { roles: ['customer'] },
    });
    bob = await token({ sub: 'bob', acct: 'B-2', scope: 'profile', realm_access: { roles: ['customer'] } });
    admin = await token({
      sub: 'root',
      acct: 'R-0',
      scope: 'accounts:read',
      realm_access: { roles: ['admin'] },
    });
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const get = (jwt: string, path: string, method = 'GET') =>
    fetch(gw.url + path, { method, headers: { authorization: `Bearer ${jwt}` } });

  test('ownership holds between two token holders', async () => {
    assert.equal((await get(alice, '/accounts/A-1')).status, 200);
    assert.equal((await get(alice, '/accounts/B-2')).status, 403);
    assert.equal((await get(admin, '/accounts/B-2')).status, 200, 'exempt role from the claim');
  });

  test('scopes from the token: a missing one is insufficient_scope', async () => {
    const res = await get(bob, '/accounts/B-2');
    assert.equal(res.status, 403);
    assert.equal(
      res.headers.get('www-authenticate'),
      'Bearer error="insufficient_scope", scope="accounts:read"',
    );
  });

  test('a role claim the route does not define grants nothing; privileged needs an exact grant', async () => {
    const stranger = await token({
      sub: 'eve',
      acct: 'E',
      scope: 'accounts:read',
      realm_access: { roles: ['superuser'] },
    });
    assert.equal((await get(stranger, '/accounts/E')).status, 403);
    assert.equal((await get(alice, '/accounts/A-1', 'DELETE')).status, 200, 'customer names DELETE exactly');
    const misshapen = await token({
      sub: 'alice',
      acct: 'A-1',
      scope: 'accounts:read',
      realm_access: 'admin',
    });
    assert.equal(
      (await get(misshapen, '/accounts/B-2')).status,
      403,
      'a roles claim of the wrong shape grants nothing',
    );
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { GatewayError } from '../../../src/errors/gateway-error.js';
import type { StageDefinition } from '../../../src/pipeline/stage.js';
import conditions from '../../../src/stages/authz/conditions.js';
import objectLevel from '../../../src/stages/authz/object-level.js';
import rbac from '../../../src/stages/authz/rbac.js';
import scopes from '../../../src/stages/authz/scopes.js';
import { buildAccess, identity, requestContext } from './fixture.js';

const def = (d: unknown) => d as StageDefinition<unknown>;

function refused(run: () => unknown, code = 'forbidden'): void {
  assert.throws(run, (error: unknown) => error instanceof GatewayError && error.code === code);
}

describe('authorization stages with hand-made contexts', () => {
  test('requireMtls: only a verified client certificate passes', async () => {
    const { stage } = await buildAccess(def(conditions), {
      authorization: { rbac: false, scopes: { '*': [] }, conditions: { requireMtls: true } },
    });
    assert.ok(stage);
    const socket = (authorized: boolean, cert: object) =>
      ({ authorized, getPeerCertificate: () => cert }) as unknown as TLSSocket;
    assert.equal(
      stage.run(requestContext({ path: '/x', tlsSocket: socket(true, { subject: { CN: 'client' } }) })),
      undefined,
    );
    refused(() =>
      stage.run(requestContext({ path: '/x', tlsSocket: socket(false, { subject: { CN: 'client' } }) })),
    );
    refused(() => stage.run(requestContext({ path: '/x', tlsSocket: socket(true, {}) })));
    refused(() => stage.run(requestContext({ path: '/x' })));
  });

  test('roles from a claim path, and no identity at all', async () => {
    const { stage } = await buildAccess(def(rbac), {
      authorization: {
        roles: { admin: { permissions: ['*'] } },
        rolesFrom: { claim: ['realm_access.roles', 'groups'] },
      },
    });
    assert.ok(stage);
    const withClaim = identity({ attributes: { realm_access: { roles: ['admin'] } } });
    assert.equal(stage.run(requestContext({ path: '/x', identity: withClaim })), undefined);
    assert.equal(
      stage.run(
        requestContext({ path: '/x', identity: identity({ attributes: { groups: 'staff admin' } }) }),
      ),
      undefined,
    );
    refused(() =>
      stage.run(
        requestContext({
          path: '/x',
          identity: identity({ attributes: { realm_access: { roles: 'nope' } } }),
        }),
      ),
    );
    refused(() => stage.run(requestContext({ path: '/x' })));
  });

  test("grant-all: the first of the caller's roles with permissions decides, as before the shortcut", async () => {
    const { stage, logs } = await buildAccess(def(rbac), {
      authorization: {
        roles: {
          admin: { permissions: ['*'] },
          reader: { permissions: ['GET /items/{id}'] },
          empty: { permissions: [] },
        },
        privileged: ['DELETE /items/{id}'],
      },
    });
    assert.ok(stage);
    const grant = (roles: string[], method = 'GET', path = '/items/7'): unknown => {
      const ctx = requestContext({ method, path, identity: identity({ roles }) });
      stage.run(ctx);
      return ctx.logFields.authzGrant;
    };
    assert.equal(grant(['admin']), 'admin:*');
    assert.equal(grant(['unknown', 'admin']), 'admin:*', 'roles without permissions are skipped');
    assert.equal(grant(['reader', 'admin']), 'reader:GET /items/{id}', 'an earlier specific grant wins');
    assert.equal(grant(['reader', 'admin'], 'POST'), 'admin:*', 'then the later grant-all');
    assert.equal(grant(['empty', 'admin'], 'POST'), 'admin:*');
    refused(() => grant(['reader'], 'POST'));
    refused(() => grant(['empty']));
    refused(() => grant([]), 'forbidden');
    // `*` grants a privileged operation, which is still audited.
    assert.equal(grant(['admin'], 'DELETE'), 'admin:*');
    assert.ok(logs.some((line) => line.event === 'authz_privileged' && line.rule === 'admin:*'));
    refused(() => grant(['reader'], 'DELETE'));
    // The same identity object twice (cached API keys and tokens): same answer.
    const cached = identity({ roles: ['reader'] });
    for (let i = 0; i < 2; i++)
      refused(() => stage.run(requestContext({ method: 'POST', path: '/items/7', identity: cached })));
  });

  test('a route without grant-all roles decides per request', async () => {
    const { stage } = await buildAccess(def(rbac), {
      authorization: { roles: { reader: { permissions: ['GET /items/{id}'] } } },
    });
    assert.ok(stage);
    const cached = identity({ roles: ['reader'] });
    assert.equal(stage.run(requestContext({ path: '/items/1', identity: cached })), undefined);
    refused(() => stage.run(requestContext({ path: '/orders/1', identity: cached })));
    assert.equal(stage.run(requestContext({ path: '/items/2', identity: cached })), undefined);
  });

  test('the authenticated role', async () => {
    const { stage } = await buildAccess(def(rbac), {
      authorization: { roles: { authenticated: { permissions: ['GET /status'] } } },
    });
    assert.ok(stage);
    assert.equal(stage.run(requestContext({ path: '/status', identity: identity() })), undefined);
    refused(() => stage.run(requestContext({ path: '/status', method: 'POST', identity: identity() })));
    refused(() => stage.run(requestContext({ path: '/status' })));
    refused(() =>
      stage.run(
        requestContext({
          path: '/status',
          identity: identity({ method: 'anonymous', roles: ['authenticated'] }),
        }),
      ),
    );
  });

  test('scope map: every matching entry is required', async () => {
    const { stage, logs } = await buildAccess(def(scopes), {
      authorization: { scopes: { 'GET /orders/**': ['orders:read'], '* /orders/{id}': ['orders:any'] } },
    });
    assert.ok(stage);
    const ctx = (scopeList: string[], path = '/orders/1') =>
      requestContext({ path, identity: identity({ scopes: scopeList }) });
    assert.equal(stage.run(ctx(['orders:read', 'orders:any'])), undefined);
    assert.equal(stage.run(ctx([], '/other')), undefined, 'no entry, no scope needed');
    try {
      stage.run(ctx(['orders:read']));
      assert.fail('should refuse');
    } catch (error) {
      assert.ok(error instanceof GatewayError);
      assert.equal(error.code, 'insufficient_scope');
      assert.equal(
        error.headers?.['www-authenticate'],
        'Bearer error="insufficient_scope", scope="orders:read orders:any"',
      );
    }
    assert.ok(logs.some((line) => line.event === 'authz_denied' && line.check === 'scopes'));
  });

  test('ownership by header and tenant, optional values', async () => {
    const { stage } = await buildAccess(def(objectLevel), {
      authorization: {
        ownership: [
          { operation: 'GET /reports', param: 'header.x-org', equals: 'identity.tenant', optional: true },
          { operation: 'GET /teams/{team}', param: 'path.team', in: 'identity.attributes.teams' },
        ],
      },
    });
    assert.ok(stage);
    const who = identity({ tenant: 'org-1', attributes: { teams: ['red', 7] } });
    assert.equal(
      stage.run(requestContext({ path: '/reports', identity: who, headers: { 'x-org': 'org-1' } })),
      undefined,
    );
    assert.equal(stage.run(requestContext({ path: '/reports', identity: who })), undefined, 'optional');
    refused(() =>
      stage.run(requestContext({ path: '/reports', identity: who, headers: { 'x-org': 'org-2' } })),
    );
    refused(() =>
      stage.run(requestContext({ path: '/reports', identity: who, headers: { 'x-org': 'org-1, org-2' } })),
    );
    assert.equal(
      stage.run(requestContext({ path: '/teams/7', identity: who })),
      undefined,
      'numbers compare as strings',
    );
    assert.equal(stage.run(requestContext({ path: '/teams/red', identity: who })), undefined);
    refused(() => stage.run(requestContext({ path: '/teams/blue', identity: who })));
    refused(() => stage.run(requestContext({ path: '/teams/red', identity: identity() })), 'forbidden');
  });
});

import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { authzGateway } from './harness.js';
import { SPEC } from './bank-spec.js';

const consumers = [{ name: 'alice', roles: ['user'] }];

/** Starting must fail with a config error whose text matches `expected`. */
async function rejects(
  route: Record<string, unknown>,
  expected: RegExp,
  extra: { roles?: Record<string, unknown> } = {},
): Promise<void> {
  await assert.rejects(
    authzGateway({
      consumers,
      routes: [{ name: 'r', match: { pathPrefix: '/' }, ...route }],
      files: { 'bank.yaml': SPEC },
      ...extra,
    }),
    (error: Error) => {
      assert.equal(error.name, 'ConfigError');
      assert.match(error.message, expected);
      return true;
    },
  );
}

const withDoc = { openapi: { spec: 'bank.yaml', validateRequests: false } };
const rule = (operation: string, param: string) => ({
  ownership: [{ operation, param, equals: 'identity.subject' }],
});

describe('authorization configuration errors', () => {
  test('deny by default: a route without authorization does not load', async () => {
    await rejects({}, /\/routes\/0\/authorization: this route has no `authorization` section/);
  });

  test('a public route cannot carry authorization; public routes are reported', async () => {
    await rejects(
      { public: true, authorization: { roles: { a: { permissions: ['*'] } } } },
      /both `public: true` and have `authorization`/,
    );
    const h = await authzGateway({
      consumers,
      routes: [{ name: 'open', match: { pathPrefix: '/' }, public: true }],
    });
    try {
      const warning = h.gw.logs.find((line) => String(line.msg).includes('route "open" is public'));
      assert.ok(warning, 'public routes are listed as warnings');
      assert.equal(warning.level, 'warn');
      assert.equal((await h.call(undefined, '/x')).status, 200);
    } finally {
      await h.close();
    }
  });

  test('an authorization section that grants nothing', async () => {
    await rejects({ authorization: { methodOverride: true } }, /grants nothing/);
  });

  test('rules naming parameters the operation does not have', async () => {
    await rejects(
      { authorization: rule('GET /a/{id}', 'path.nope') },
      /portcullis\.yaml:\d+:\d+: \/routes\/0\/authorization\/ownership\/0\/param: /,
    );
    await rejects(
      { authorization: rule('GET /a/{id}', 'path.accountId') },
      /ownership\/0\/param: path parameter "accountId" is not in \/a\/\{id\}/,
    );
    await rejects(
      { ...withDoc, authorization: rule('getAccount', 'path.nope') },
      /operation getAccount has no path parameter "nope"/,
    );
    await rejects(
      { ...withDoc, authorization: rule('listOrders', 'query.ghost') },
      /has no query parameter "ghost"/,
    );
    await rejects(
      { ...withDoc, authorization: rule('updateProfile', 'body./ghost') },
      /has no body property "ghost"/,
    );
    await rejects(
      { ...withDoc, authorization: rule('getUser', 'body./ownerId') },
      /has no JSON request body/,
    );
    await rejects(
      { ...withDoc, authorization: rule('noSuchOp', 'path.id') },
      /"noSuchOp" names no operation/,
    );
    await rejects({ ...withDoc, authorization: rule('GET /nowhere/{id}', 'path.id') }, /names no operation/);
  });

  test('malformed rule references', async () => {
    await rejects(
      { authorization: rule('GET /a/{id}', 'cookie.session') },
      /must be path.<name>, query.<name>, header.<name> or body/,
    );
    await rejects({ authorization: rule('GET /a/{id}', 'body.ownerId') }, /JSON pointer/);
    await rejects(
      {
        authorization: {
          ownership: [{ operation: 'GET /a/{id}', param: 'path.id', equals: 'identity.password' }],
        },
      },
      /unknown identity field "password"/,
    );
    await rejects(
      {
        authorization: {
          ownership: [
            { operation: 'GET /a/{id}', param: 'path.id', equals: 'identity.subject', in: 'identity.roles' },
          ],
        },
      },
      /exactly one of "equals" or "in"/,
    );
  });

  test('operationIds need an OpenAPI document; scopes: openapi too', async () => {
    await rejects(
      { authorization: { roles: { a: { permissions: ['getAccount'] } } } },
      /roles\/a\/permissions\/0: "getAccount" is an operationId but the route has no OpenAPI document/,
    );
    await rejects({ authorization: { scopes: 'openapi' } }, /scopes: openapi needs an OpenAPI document/);
    await rejects(
      { ...withDoc, authorization: { roles: { a: { permissions: ['getAcount'] } } } },
      /"getAcount" names no operation/,
    );
  });

  test('role mistakes', async () => {
    await rejects(
      { authorization: { roles: { a: { inherits: ['b'] }, b: { inherits: ['a'] } } } },
      /authorization\/roles\/a: role inheritance cycle: a -> b -> a/,
    );
    await rejects({ authorization: {} }, /\/roles\/x\/inherits\/0: role "x" inherits unknown role "y"/, {
      roles: { x: { inherits: ['y'] } },
    });
    await rejects({ authorization: { roles: { a: { permissions: ['delete /x'] } } } }, /upper case/);
    await rejects(
      { authorization: { privileged: ['DELETE /x'], scopes: { 'GET /x': ['read'] } } },
      /privileged operations need roles/,
    );
  });

  test('condition mistakes', async () => {
    await rejects(
      { authorization: { roles: { a: {} }, conditions: { ipAllow: ['10.0.0.0/33'] } } },
      /conditions\/ipAllow: "10.0.0.0\/33" has an invalid prefix length/,
    );
    await rejects(
      { authorization: { roles: { a: {} }, conditions: { timeWindows: [{ from: '8', to: '9' }] } } },
      /HH:MM/,
    );
    await rejects(
      { authorization: { roles: { a: {} }, scopes: { 'GET /x': ['bad"scope'] } } },
      /not a valid scope token/,
    );
  });
});

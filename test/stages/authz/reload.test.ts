import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

const route = (permissions: string[], extra: Record<string, unknown> = {}) => ({
  name: 'r',
  match: { pathPrefix: '/' },
  authorization: { roles: { user: { permissions } }, ...extra },
});

describe('authorization across reloads', () => {
  let h: AuthzGateway;
  before(async () => {
    h = await authzGateway({ consumers: [{ name: 'alice', roles: ['user'] }], routes: [route(['GET /a'])] });
  });
  after(() => h.close());

  test('a reload changes the policy; a broken one keeps the old policy serving', async () => {
    assert.equal((await h.call('alice', '/a')).status, 200);
    assert.equal((await h.call('alice', '/b')).status, 403);
    await h.reload([route(['GET /b'])]);
    assert.equal((await h.call('alice', '/a')).status, 403);
    assert.equal((await h.call('alice', '/b')).status, 200);
    await assert.rejects(
      h.reload([
        route(['GET /a'], {
          ownership: [{ operation: 'GET /a/{id}', param: 'path.nope', equals: 'identity.subject' }],
        }),
      ]),
    );
    await assert.rejects(h.reload([{ name: 'r', match: { pathPrefix: '/' } }]), /no `authorization` section/);
    assert.equal((await h.call('alice', '/a')).status, 403, 'the previous policy still serves');
    assert.equal((await h.call('alice', '/b')).status, 200);
  });
});

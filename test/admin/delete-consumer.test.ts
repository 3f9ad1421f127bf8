import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { problemType } from '../../src/errors/catalogue.js';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';
import { adminCaller } from '../helpers/admin.js';

const ADMIN_TOKEN = randomBytes(32).toString('base64url');

interface Created {
  readonly consumerId: string;
  readonly key: string;
  readonly lookupId: string;
  readonly clientId: string;
}

/**
 * Two gateways (two store instances, as two nodes would have) on one SQLite file: consumers are
 * deleted through the admin API of `a`, and both `a` and `b` must stop accepting their keys.
 */
describe('DELETE /admin/consumers/{id} on running gateways', () => {
  let dir: string;
  let upstream: TestUpstream;
  let a: TestGateway;
  let b: TestGateway;

  const admin = adminCaller(() => a.adminUrl, ADMIN_TOKEN);

  const create = async (name: string): Promise<Created> => {
    const consumer = await admin('POST', '/admin/consumers', { name, roles: ['reader'] });
    assert.equal(consumer.status, 201);
    const consumerId = String(consumer.body?.id);
    const key = await admin('POST', `/admin/consumers/${consumerId}/keys`, {});
    assert.equal(key.status, 201);
    const client = await admin('POST', `/admin/consumers/${consumerId}/clients`, {});
    assert.equal(client.status, 201);
    return {
      consumerId,
      key: String(key.body?.key),
      lookupId: String((key.body?.record as { lookupId: string }).lookupId),
      clientId: String(client.body?.clientId),
    };
  };

  const call = async (gw: TestGateway, key: string): Promise<number> => {
    const response = await fetch(gw.url + '/orders/1', { headers: { 'x-api-key': key } });
    await response.arrayBuffer();
    return response.status;
  };

  /**
   * Waits until the creation events have reached every node (they would drop a cached key and
   * make the next request read the store again): from here on a key is answered from the cache.
   */
  const settle = () => sleep(600);

  /** Status of `key` on `gw` once it answers 401, or the last status after `limitMs`. */
  const statusWhenRefused = async (gw: TestGateway, key: string, limitMs = 1500): Promise<number> => {
    const start = Date.now();
    let status = await call(gw, key);
    while (status !== 401 && Date.now() - start < limitMs) {
      await sleep(25);
      status = await call(gw, key);
    }
    return status;
  };

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcs-admin-delete-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    upstream = await startUpstream();
    const config = {
      admin: { host: '127.0.0.1', port: 0, token: ADMIN_TOKEN },
      store: { type: 'sqlite', path: 'store.db' },
      secrets: { kek: { provider: 'file', path: 'kek.key' } },
      authn: { bruteForce: { maxFailures: 1000 } },
      upstreams: { echo: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'orders',
          match: { pathPrefix: '/orders' },
          upstream: 'echo',
          authorization: { roles: { reader: { permissions: ['*'] } } },
          authentication: { anyOf: ['api_key'] },
        },
      ],
    };
    a = await startGateway(config, { dir });
    b = await startGateway(config, { dir });
  });
  after(async () => {
    await a?.close();
    await b?.close();
    await upstream?.close();
    await rm(dir, { recursive: true, force: true });
  });

  test('a key that worked before the delete is refused after it on both nodes; other consumers keep working', async () => {
    const doomed = await create('doomed');
    const bystander = await create('bystander');
    // both nodes have authenticated (and cached) the keys
    await settle();
    for (const gw of [a, b]) {
      assert.equal(await call(gw, doomed.key), 200);
      assert.equal(await call(gw, bystander.key), 200);
    }

    const deleted = await admin('DELETE', `/admin/consumers/${doomed.consumerId}`);
    assert.equal(deleted.status, 204);
    assert.equal(deleted.text, '');
    assert.equal(deleted.headers.get('content-length'), null);

    assert.equal(await statusWhenRefused(a, doomed.key), 401);
    assert.equal(await statusWhenRefused(b, doomed.key), 401, 'the other node forgets the key too');
    for (const gw of [a, b]) assert.equal(await call(gw, bystander.key), 200);

    assert.equal((await admin('GET', `/admin/consumers/${doomed.consumerId}`)).status, 404);
    assert.equal((await admin('GET', `/admin/keys/${doomed.lookupId}`)).status, 404);
    assert.equal((await admin('GET', `/admin/clients/${doomed.clientId}`)).status, 404);
    assert.equal((await admin('GET', `/admin/consumers/${bystander.consumerId}`)).status, 200);
    assert.equal((await admin('GET', `/admin/clients/${bystander.clientId}`)).status, 200);

    const audit = a.logs.find((line) => line.event === 'consumer_deleted');
    assert.equal(audit?.audit, true);
    assert.equal(audit?.consumerId, doomed.consumerId);
    assert.equal(audit?.name, 'doomed');
    assert.deepEqual(audit?.lookupIds, [doomed.lookupId]);
    assert.deepEqual(audit?.clientIds, [doomed.clientId]);
  });

  test('by name as the other consumer routes; unknown and repeated deletes are 404 problems', async () => {
    const named = await create('by-name');
    await settle();
    assert.equal(await call(b, named.key), 200);
    assert.equal((await admin('DELETE', '/admin/consumers/by-name')).status, 204);
    assert.equal(await statusWhenRefused(b, named.key), 401);

    for (const target of [named.consumerId, 'by-name', 'no-such-consumer']) {
      const missing = await admin('DELETE', `/admin/consumers/${target}`);
      assert.equal(missing.status, 404, target);
      assert.equal(missing.headers.get('content-type'), 'application/problem+json');
      assert.equal(missing.body?.type, problemType('admin_not_found'));
      assert.equal(missing.body?.status, 404);
    }
  });

  test('deleting needs the admin credential', async () => {
    const kept = await create('kept');
    for (const token of [null, ADMIN_TOKEN.slice(0, -1) + (ADMIN_TOKEN.endsWith('A') ? 'B' : 'A')]) {
      const refused = await admin('DELETE', `/admin/consumers/${kept.consumerId}`, undefined, token);
      assert.equal(refused.status, 401);
      assert.equal(refused.headers.get('www-authenticate'), 'Bearer realm="portcullis-admin"');
      assert.equal(refused.headers.get('content-type'), 'application/problem+json');
    }
    // nothing was deleted
    assert.equal((await admin('GET', `/admin/consumers/${kept.consumerId}`)).status, 200);
    assert.equal(await call(b, kept.key), 200);
    // and the route answers only DELETE and GET on the consumer itself
    const put = await admin('PUT', `/admin/consumers/${kept.consumerId}`, {});
    assert.equal(put.status, 405);
    assert.match(put.headers.get('allow') ?? '', /DELETE/);
  });
});

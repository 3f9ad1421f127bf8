import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after, before, describe, test } from 'node:test';
import { authzGateway, type AuthzGateway } from './harness.js';

interface PolicyServer {
  readonly url: string;
  readonly inputs: Record<string, unknown>[];
  close(): Promise<void>;
}

/** An OPA-compatible data API stand-in: answers by the last path segment of the request. */
async function startPolicyServer(): Promise<PolicyServer> {
  const inputs: Record<string, unknown>[] = [];
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const body = JSON.parse(Buffer.concat(chunks).toString('utf8')) as { input: Record<string, unknown> };
      inputs.push(body.input);
      const path = String(body.input.path);
      const send = (status: number, text: string, type = 'application/json') => {
        res.writeHead(status, { 'content-type': type });
        res.end(text);
      };
      if (path.endsWith('/allow-true')) return send(200, '{"result": true}');
      if (path.endsWith('/allow-object')) return send(200, '{"result": {"allow": true, "reasons": []}}');
      if (path.endsWith('/deny-false')) return send(200, '{"result": false}');
      if (path.endsWith('/deny-object')) return send(200, '{"result": {"allow": false}}');
      if (path.endsWith('/undefined')) return send(200, '{}');
      if (path.endsWith('/string-true')) return send(200, '{"result": "true"}');
      if (path.endsWith('/one')) return send(200, '{"result": 1}');
      if (path.endsWith('/allow-string')) return send(200, '{"result": {"allow": "yes"}}');
      if (path.endsWith('/array')) return send(200, '[true]');
      if (path.endsWith('/html')) return send(200, '<html>true</html>', 'text/html');
      if (path.endsWith('/truncated')) return send(200, '{"result": tr');
      if (path.endsWith('/error-true')) return send(500, '{"result": true}');
      if (path.endsWith('/huge')) return send(200, `{"result": true, "pad": "${'x'.repeat(200_000)}"}`);
      if (path.endsWith('/slow')) return; // never answers
      if (path.endsWith('/body')) {
        const identity = body.input.identity as { subject: string };
        const payload = body.input.body as { ownerId?: unknown } | null;
        return send(
          200,
          JSON.stringify({ result: payload !== null && payload.ownerId === identity.subject }),
        );
      }
      if (path.endsWith('/owner')) {
        const identity = body.input.identity as { subject: string };
        return send(
          200,
          JSON.stringify({
            result: { allow: identity.subject === 'alice' && path.includes('/docs/d-alice/') },
          }),
        );
      }
      send(404, '{}');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  return {
    url: `http://127.0.0.1:${port}/v1/data/portcullis/allow`,
    inputs,
    close: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

async function closedPortUrl(): Promise<string> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const port = (server.address() as AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return `http://127.0.0.1:${port}/v1/data/portcullis/allow`;
}

describe('external policy decisions (OPA data API shape) through the gateway', () => {
  let h: AuthzGateway;
  let opa: PolicyServer;
  before(async () => {
    opa = await startPolicyServer();
    const down = await closedPortUrl();
    h = await authzGateway({
      consumers: [
        { name: 'alice', roles: ['user'], attributes: { team: 'blue' } },
        { name: 'bob', roles: ['user'] },
      ],
      roles: { user: { permissions: ['*'] } },
      routes: [
        {
          name: 'opa',
          match: { pathPrefix: '/p' },
          authorization: { policy: { url: opa.url, timeoutMs: 10_000, cacheTtlMs: 60_000 } },
        },
        {
          name: 'slow',
          match: { pathPrefix: '/s' },
          authorization: { policy: { url: opa.url, timeoutMs: 100 } },
        },
        {
          name: 'withbody',
          match: { pathPrefix: '/b' },
          authorization: { policy: { url: opa.url, timeoutMs: 10_000, includeBody: true } },
        },
        {
          name: 'nocache',
          match: { pathPrefix: '/n' },
          authorization: { policy: { url: opa.url, timeoutMs: 10_000, cacheTtlMs: 0 } },
        },
        {
          name: 'down',
          match: { pathPrefix: '/down' },
          authorization: { policy: { url: down, timeoutMs: 10_000 } },
        },
        {
          name: 'docs',
          match: { path: '/docs/{docId}/{action}' },
          authorization: { policy: { url: opa.url, operations: ['GET /docs/{docId}/owner'] } },
        },
      ],
    });
  });
  after(async () => {
    await h.close();
    await opa.close();
  });

  test('{"result": true} and {"result": {"allow": true}} allow', async () => {
    assert.equal((await h.call('alice', '/p/allow-true')).status, 200);
    assert.equal((await h.call('alice', '/p/allow-object')).status, 200);
  });

  test('explicit denials deny', async () => {
    assert.equal((await h.call('alice', '/p/deny-false')).status, 403);
    assert.equal((await h.call('alice', '/p/deny-object')).status, 403);
  });

  test('garbage answers deny', async () => {
    const cases: [string, string][] = [
      ['undefined', 'policy_garbage'],
      ['string-true', 'policy_garbage'],
      ['one', 'policy_garbage'],
      ['allow-string', 'policy_garbage'],
      ['array', 'policy_garbage'],
      ['html', 'policy_garbage'],
      ['truncated', 'policy_garbage'],
      ['error-true', 'policy_status_500'],
      ['huge', 'policy_answer_too_large'],
      ['unknown', 'policy_status_404'],
    ];
    for (const [path, reason] of cases) {
      const before = h.upstream.requests.length;
      const res = await h.call('alice', `/n/${path}`);
      assert.equal(res.status, 403, path);
      assert.equal(h.upstream.requests.length, before, path);
      const audit = h.audits().findLast((line) => line.check === 'policy');
      assert.equal(audit?.reason, reason, path);
    }
  });

  test('a policy endpoint that does not answer in time denies', async () => {
    const res = await h.call('alice', '/s/slow');
    assert.equal(res.status, 403);
    const audit = h.audits().find((line) => line.reason === 'policy_timeout');
    assert.ok(audit, 'the timeout is audited');
  });

  test('an unreachable policy endpoint denies', async () => {
    assert.equal((await h.call('alice', '/down/allow-true')).status, 403);
    assert.ok(h.audits().some((line) => line.reason === 'policy_unavailable'));
  });

  test('the input carries identity, operation and object ids; clear answers are cached per input', async () => {
    const before = opa.inputs.length;
    assert.equal((await h.call('alice', '/p/allow-true?x=1')).status, 200);
    assert.equal((await h.call('alice', '/p/allow-true?x=1')).status, 200);
    assert.equal(opa.inputs.length, before + 1, 'second identical question answered from cache');
    const input = opa.inputs.at(-1) as Record<string, unknown>;
    assert.equal(input.method, 'GET');
    assert.equal(input.path, '/p/allow-true');
    assert.deepEqual(input.query, { x: ['1'] });
    const identity = input.identity as Record<string, unknown>;
    assert.equal(identity.subject, 'alice');
    assert.deepEqual(identity.attributes, { team: 'blue' });
    assert.equal((await h.call('bob', '/p/allow-true?x=1')).status, 200);
    assert.equal(opa.inputs.length, before + 2, 'another identity is another question');
  });

  test('relationship decisions: two identities swapping a document id', async () => {
    assert.equal((await h.call('alice', '/docs/d-alice/owner')).status, 200);
    assert.equal((await h.call('bob', '/docs/d-alice/owner')).status, 403);
    assert.equal((await h.call('alice', '/docs/d-bob/owner')).status, 403);
    const before = opa.inputs.length;
    assert.equal((await h.call('bob', '/docs/d-alice/meta')).status, 200, 'operations not listed do not ask');
    assert.equal(opa.inputs.length, before);
    const last = opa.inputs.at(-1) as { params: Record<string, string> };
    assert.equal(last.params.docId, 'd-bob');
  });

  test('includeBody sends the parsed JSON body to the policy', async () => {
    const post = (who: string, body: string, type = 'application/json') =>
      h.call(who, '/b/body', { method: 'POST', body, headers: { 'content-type': type } });
    assert.equal((await post('alice', JSON.stringify({ ownerId: 'alice' }))).status, 200);
    assert.equal((await post('alice', JSON.stringify({ ownerId: 'bob' }))).status, 403);
    assert.equal((await post('bob', JSON.stringify({ ownerId: 'alice' }))).status, 403);
    assert.equal((await post('alice', 'ownerId=alice', 'application/x-www-form-urlencoded')).status, 403);
    assert.equal(
      (await post('alice', '{"ownerId":"bob","ownerId":"alice"}')).status,
      400,
      'duplicate keys never reach the policy',
    );
  });
});

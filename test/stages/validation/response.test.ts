import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { gzipSync } from 'node:zlib';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/openapi');

const LEAKY_PET = {
  id: 1,
  name: 'rex',
  kind: null,
  password: 'hunter2',
  internalNotes: 'owes money',
  owner: { name: 'ann', ssn: '078-05-1120' },
};
const STACK =
  'Error: connect ECONNREFUSED 10.0.0.7:5432\n    at TCPConnectWrap.afterConnect [as oncomplete] (node:net:1555:16)';

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream((req, res) => {
    const path = (req.url ?? '').split('?')[0];
    const json = (status: number, value: unknown, headers: Record<string, string> = {}): void => {
      const text = JSON.stringify(value);
      res.writeHead(status, { 'content-type': 'application/json', ...headers });
      res.end(text);
    };
    switch (path) {
      case '/pets/1':
        return json(200, LEAKY_PET);
      case '/pets/2': {
        const body = gzipSync(JSON.stringify(LEAKY_PET));
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'gzip' });
        return void res.end(body);
      }
      case '/pets/3':
        return json(200, { id: 'not-an-integer', name: 'rex' });
      case '/pets/4':
        res.writeHead(404);
        return void res.end();
      case '/pets/5':
        return json(418, { teapot: true });
      case '/pets/6':
        res.writeHead(200, { 'content-type': 'text/html' });
        return void res.end('<h1>hello</h1>');
      case '/pets/7':
        res.writeHead(500, { 'content-type': 'text/plain' });
        return void res.end(STACK);
      case '/pets/8':
        return json(503, { error: STACK }, { 'retry-after': '7' });
      case '/pets/10':
        res.writeHead(200, { 'content-type': 'application/json', 'content-encoding': 'constructor' });
        return void res.end('opaque-bytes');
      case '/pets/11':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end('{"id":1,"name":"rex","ssn":"078-05-1120"');
      case '/pets/12':
        res.writeHead(200, { 'content-type': 'application/json' });
        return void res.end(
          '{"id":1,"name":"rex","owner":' + '['.repeat(200_000) + ']'.repeat(200_000) + '}',
        );
      case '/pets/9':
        return json(200, { id: 9, name: 'ok' });
      case '/pets':
        return json(200, [LEAKY_PET, { ...LEAKY_PET, id: 2, extra: [1, 2] }]);
      default:
        return json(200, { path });
    }
  });
  const route = (name: string, responses: Record<string, unknown>, extra: Record<string, unknown> = {}) => ({
    name,
    public: true,
    match: { pathPrefix: `/${name}` },
    stripPrefix: `/${name}`,
    upstream: 'demo',
    openapi: { spec: './petstore.yaml', basePath: `/${name}`, responses },
    ...extra,
  });
  gw = await startGateway(
    {
      upstreams: {
        demo: { targets: [{ url: upstream.url }], outlierDetection: { consecutiveFailures: 1000 } },
      },
      routes: [
        route('strip', { mode: 'strip' }),
        route('block', { mode: 'block', blockUndeclaredStatus: true, blockUndeclaredContentType: true }),
        route('report', { mode: 'report' }),
        route('passthrough', { mode: 'off', replaceUpstream5xx: false }),
        {
          name: 'plain',
          public: true,
          match: { pathPrefix: '/plain' },
          stripPrefix: '/plain',
          upstream: 'demo',
        },
        {
          name: 'keep',
          public: true,
          match: { pathPrefix: '/keep' },
          stripPrefix: '/keep',
          upstream: 'demo',
          upstreamErrors: { replace5xx: false },
        },
      ],
    },
    {
      files: {
        'petstore.yaml': await readFile(join(FIXTURES, 'petstore.yaml')),
        'components.yaml': await readFile(join(FIXTURES, 'components.yaml')),
      },
    },
  );
});

after(async () => {
  await gw?.close();
  await upstream?.close();
});

async function get(path: string): Promise<{ status: number; text: string; headers: Headers }> {
  const response = await fetch(gw.url + path, { headers: { 'accept-encoding': 'gzip' } });
  return { status: response.status, text: await response.text(), headers: response.headers };
}

describe('response contract and data exposure', () => {
  test('strip removes undeclared and write-only members, nested and in arrays', async () => {
    for (const path of ['/strip/pets/1', '/strip/pets/2']) {
      const result = await get(path);
      assert.equal(result.status, 200, result.text);
      assert.deepEqual(JSON.parse(result.text), { id: 1, name: 'rex', kind: null, owner: { name: 'ann' } });
      assert.doesNotMatch(result.text, /hunter2|owes money|078-05-1120/);
    }
    const list = await get('/strip/pets');
    assert.deepEqual(JSON.parse(list.text), [
      { id: 1, name: 'rex', kind: null, owner: { name: 'ann' } },
      { id: 2, name: 'rex', kind: null, owner: { name: 'ann' } },
    ]);
    const clean = await get('/strip/pets/9');
    assert.deepEqual(JSON.parse(clean.text), { id: 9, name: 'ok' });
  });

  test('block answers 502 for schema breaks, leaks, undeclared status and content type', async () => {
    for (const path of [
      '/block/pets/1',
      '/block/pets/2',
      '/block/pets/3',
      '/block/pets/5',
      '/block/pets/6',
    ]) {
      const result = await get(path);
      assert.equal(result.status, 502, `${path}: ${result.text}`);
      const problem = JSON.parse(result.text) as { code: string };
      assert.equal(problem.code, 'response_contract_violation');
      assert.doesNotMatch(result.text, /hunter2|078-05-1120|teapot|hello/);
    }
    assert.equal((await get('/block/pets/9')).status, 200);
    assert.equal((await get('/block/pets/4')).status, 404);
  });

  test('bodies in encodings the gateway cannot decode are left alone, or blocked in block mode', async () => {
    const report = await get('/report/pets/10');
    assert.equal(report.status, 200);
    assert.equal(report.headers.get('content-encoding'), 'constructor');
    assert.equal(report.text, 'opaque-bytes');
    assert.equal((await get('/block/pets/10')).status, 502);
  });

  test('strip withholds bodies it cannot parse; absurd nesting is a reported schema break, not a crash', async () => {
    const invalid = await get('/strip/pets/11');
    assert.equal(invalid.status, 502);
    assert.doesNotMatch(invalid.text, /078-05-1120/);
    assert.equal((await get('/report/pets/11')).status, 200);
    const deep = await get('/strip/pets/12');
    assert.equal(deep.status, 200);
    assert.equal((await get('/block/pets/12')).status, 502);
  });

  test('report passes responses unchanged and records the finding', async () => {
    const result = await get('/report/pets/3');
    assert.equal(result.status, 200);
    assert.deepEqual(JSON.parse(result.text), { id: 'not-an-integer', name: 'rex' });
    const leaky = await get('/report/pets/1');
    assert.deepEqual(JSON.parse(leaky.text), LEAKY_PET);
    const line = gw.logs.find((entry) => entry.responseViolation === 'schema');
    assert.ok(line, 'a log line carries the violation');
    assert.doesNotMatch(JSON.stringify(line), /not-an-integer/);
  });

  test('upstream 5xx bodies are replaced by problem+json on every route by default', async () => {
    for (const prefix of ['/strip', '/plain']) {
      const result = await get(`${prefix}/pets/7`);
      assert.equal(result.status, 500);
      assert.equal(result.headers.get('content-type'), 'application/problem+json');
      assert.equal((JSON.parse(result.text) as { code: string }).code, 'upstream_error');
      assert.doesNotMatch(result.text, /ECONNREFUSED|TCPConnectWrap|10\.0\.0\.7/);
    }
    const unavailable = await get('/plain/pets/8');
    assert.equal(unavailable.status, 503);
    assert.equal(unavailable.headers.get('retry-after'), '7');
    assert.doesNotMatch(unavailable.text, /ECONNREFUSED/);
  });

  test('replacement can be turned off per route', async () => {
    for (const prefix of ['/keep', '/passthrough']) {
      const result = await get(`${prefix}/pets/7`);
      assert.equal(result.status, 500);
      assert.equal(result.text, STACK);
    }
  });
});

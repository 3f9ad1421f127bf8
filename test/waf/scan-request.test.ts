import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { compileInjection, type InjectionConfig } from '../../src/waf/config.js';
import { scanRequest, type ScanInput } from '../../src/waf/scan-request.js';
import { childSchema, SchemaNode, schemaKind } from '../../src/waf/schema-kind.js';
import { STUB_DNS } from './stub-dns.js';

function plan(config: InjectionConfig = {}) {
  return compileInjection(
    config,
    (message, pointer) => {
      throw new Error(`${pointer}: ${message}`);
    },
    async (host) => STUB_DNS[host] ?? [],
  );
}

function input(parts: Partial<ScanInput> & { headers?: Record<string, string> }): ScanInput {
  return {
    query: parts.query ?? '',
    params: parts.params ?? {},
    header: (name) => parts.headers?.[name],
    ...(parts.body === undefined ? {} : { body: parts.body }),
    ...(parts.schema === undefined ? {} : { schema: parts.schema }),
  };
}

const json = (value: unknown): NonNullable<ScanInput['body']> => ({ kind: 'json', value });

describe('fields inspected without a schema', () => {
  test('query values and keys, path parameters, selected headers, cookies, JSON and form bodies', async () => {
    const p = plan();
    const cases: [Partial<ScanInput> & { headers?: Record<string, string> }, string][] = [
      [{ query: 'q=%27%20OR%201%3D1--' }, '/query/q'],
      [{ query: '%3Cscript%3E=1' }, '/query/<script>'],
      [{ params: { id: '1 UNION SELECT 1' } }, '/path/id'],
      [{ headers: { 'user-agent': '() { :; }; /bin/bash -c id' } }, '/header/user-agent'],
      [{ headers: { referer: 'https://x.example/?q=%3Cscript%3Ealert(1)%3C/script%3E' } }, '/header/referer'],
      [{ headers: { cookie: 'sid=abc; pref=%3Cscript%3Ealert(1)%3C%2Fscript%3E' } }, '/cookie/pref'],
      [{ body: json({ a: { b: ['ok', "'; DROP TABLE t; --"] } }) }, '/body/a/b/1'],
      [{ body: json({ filter: { $where: '1' } }) }, '/body/filter/$where'],
      [{ body: { kind: 'form', text: 'name=x&comment=%3Csvg%2Fonload%3Dalert(1)%3E' } }, '/body/comment'],
    ];
    for (const [parts, field] of cases) {
      const finding = await scanRequest(p, input(parts));
      assert.equal(finding?.field, field, JSON.stringify(parts));
    }
  });
  test('headers not listed are not inspected; cookies can be switched off', async () => {
    assert.equal(
      await scanRequest(plan(), input({ headers: { 'x-note': '<script>alert(1)</script>' } })),
      undefined,
    );
    const p = plan({ headers: ['x-note'], cookies: false });
    assert.equal(
      (await scanRequest(p, input({ headers: { 'x-note': '<script>alert(1)</script>' } })))?.field,
      '/header/x-note',
    );
    assert.equal(
      await scanRequest(p, input({ headers: { cookie: 'a=<script>alert(1)</script>' } })),
      undefined,
    );
  });
  test('a request with nothing to resolve is checked synchronously', () => {
    const result = scanRequest(plan(), input({ query: 'q=hello', body: json({ a: "O'Brien" }) }));
    assert.equal(result instanceof Promise, false);
    assert.equal(result, undefined);
  });
});

describe('schema first', () => {
  const body = {
    type: 'object',
    properties: {
      name: { type: 'string' },
      kind: { enum: ['a', 'b'] },
      code: { type: 'string', pattern: '^[A-Z]+$' },
      when: { type: 'string', format: 'date-time' },
      count: { type: 'integer' },
      website: { type: 'string', format: 'uri' },
      tags: { type: 'array', items: { type: 'string', enum: ['x', 'y'] } },
      notes: { type: 'array', items: { type: 'string' } },
    },
  };
  const schema: ScanInput['schema'] = {
    body,
    parameter: (location, name) => (location === 'query' && name === 'sort' ? 'constrained' : undefined),
  };

  test('fields constrained by enum, pattern, format or a non-string type are left to validation', async () => {
    const p = plan();
    const payload = "' OR 1=1 --";
    for (const field of ['kind', 'code', 'when']) {
      assert.equal(
        await scanRequest(p, input({ body: json({ [field]: payload }), schema })),
        undefined,
        field,
      );
    }
    assert.equal(await scanRequest(p, input({ body: json({ tags: [payload] }), schema })), undefined);
    assert.equal(
      await scanRequest(p, input({ query: `sort=${encodeURIComponent(payload)}`, schema })),
      undefined,
    );
  });
  test('free-text fields are still inspected, including array items and undeclared properties', async () => {
    const p = plan();
    assert.equal(
      (await scanRequest(p, input({ body: json({ name: "' OR 1=1 --" }), schema })))?.field,
      '/body/name',
    );
    assert.equal(
      (await scanRequest(p, input({ body: json({ notes: ['ok', '<script>x</script>'] }), schema })))?.field,
      '/body/notes/1',
    );
    assert.equal(
      (await scanRequest(p, input({ body: json({ extra: '<script>x</script>' }), schema })))?.field,
      '/body/extra',
    );
  });
  test('format: uri fields get the SSRF check', async () => {
    const finding = await scanRequest(
      plan(),
      input({ body: json({ website: 'http://169.254.169.254/latest/' }), schema }),
    );
    assert.deepEqual(finding, {
      class: 'ssrf',
      rule: 'ssrf.private-address',
      location: 'body',
      field: '/body/website',
    });
  });
  test('schemaKind reads anyOf/oneOf/allOf and type lists', () => {
    assert.equal(schemaKind({ anyOf: [{ type: 'integer' }, { enum: ['x'] }] }), 'constrained');
    assert.equal(schemaKind({ oneOf: [{ type: 'integer' }, { type: 'string' }] }), 'free');
    assert.equal(schemaKind({ allOf: [{ type: 'string' }, { format: 'uri' }] }), 'url');
    assert.equal(schemaKind({ type: ['integer', 'null'] }), 'constrained');
    assert.equal(schemaKind({ type: 'string', maxLength: 10 }), 'free');
  });
});

describe('exclusions and SSRF fields', () => {
  test('a field exclusion removes only the listed classes, for that field and below', async () => {
    const p = plan({
      exclude: [
        { field: '/body/doc', classes: ['xss'] },
        { field: 'q', classes: ['sqli'] },
      ],
    });
    assert.equal(
      await scanRequest(p, input({ body: json({ doc: { html: '<script>x</script>' } }) })),
      undefined,
    );
    assert.equal((await scanRequest(p, input({ body: json({ doc: '; whoami' }) })))?.class, 'cmdi');
    assert.equal(
      (await scanRequest(p, input({ body: json({ other: '<script>x</script>' }) })))?.class,
      'xss',
    );
    assert.equal(await scanRequest(p, input({ query: 'q=1%20UNION%20SELECT%201' })), undefined);
  });
  test('wildcard segments match any array index or key', async () => {
    const p = plan({ exclude: [{ field: '/body/items/*/html' }] });
    assert.equal(
      await scanRequest(p, input({ body: json({ items: [{ html: '<script>x</script>' }] }) })),
      undefined,
    );
    assert.equal(
      (await scanRequest(p, input({ body: json({ items: [{ text: '<script>x</script>' }] }) })))?.field,
      '/body/items/0/text',
    );
  });
  test('a route-wide class exclusion disables the class', async () => {
    const p = plan({ exclude: [{ classes: ['xss'] }] });
    assert.equal(p.classes.has('xss'), false);
    assert.equal(await scanRequest(p, input({ query: 'q=%3Cscript%3Ex%3C%2Fscript%3E' })), undefined);
  });
  test('configured SSRF fields are checked as URLs or host names; the allow-list applies', async () => {
    const p = plan({ ssrf: { fields: ['/body/target', '/query/host'], allowHosts: ['*.partner.example'] } });
    assert.equal(
      (await scanRequest(p, input({ body: json({ target: 'localhost:8080' }) })))?.rule,
      'ssrf.resolves-private',
    );
    assert.equal(
      (await scanRequest(p, input({ query: 'host=loopback-name.test' })))?.rule,
      'ssrf.resolves-private',
    );
    assert.equal(
      await scanRequest(p, input({ body: json({ target: 'https://api.partner.example/hook' }) })),
      undefined,
    );
    assert.equal(await scanRequest(p, input({ body: json({ target: 'https://example.com/' }) })), undefined);
  });
  test('values that are whole URLs are checked without a schema; detectUrls: false turns that off', async () => {
    assert.equal(
      (await scanRequest(plan(), input({ body: json({ cb: 'http://[::1]:9000/' }) })))?.class,
      'ssrf',
    );
    assert.equal(
      await scanRequest(
        plan({ ssrf: { detectUrls: false } }),
        input({ body: json({ cb: 'http://[::1]:9000/' }) }),
      ),
      undefined,
    );
  });
  test('too many URL fields in one request are refused rather than resolved', async () => {
    const p = plan({ ssrf: { maxUrls: 2 } });
    const urls = ['https://example.com/1', 'https://example.com/2', 'https://example.com/3'];
    assert.equal((await scanRequest(p, input({ body: json({ urls }) })))?.rule, 'ssrf.too-many-urls');
  });
});

describe('configuration mistakes', () => {
  test('bad field references and empty exclusions fail at load with a pointer', () => {
    assert.throws(
      () => plan({ exclude: [{ field: '/bogus/x' }] }),
      /\/exclude\/0\/field: field "\/bogus\/x" must start with/,
    );
    assert.throws(() => plan({ exclude: [{}] }), /\/exclude\/0: an exclusion needs a field/);
    assert.throws(() => plan({ ssrf: { fields: ['/query/a/b'] } }), /\/ssrf\/fields\/0/);
    assert.throws(
      () =>
        plan({
          exclude: [{ classes: ['sqli', 'nosqli', 'cmdi', 'traversal', 'xss', 'ssti', 'ssrf', 'encoding'] }],
        }),
      /every attack class is excluded/,
    );
  });
});

describe('schema nodes', () => {
  test('SchemaNode.child gives the node of childSchema for every kind of key', () => {
    const item = { type: 'string', maxLength: 10 };
    const recursive: Record<string, unknown> = { type: 'object' };
    recursive.properties = { self: recursive, name: { type: 'string' } };
    const schemas: Record<string, unknown>[] = [
      { type: 'object', properties: { a: { enum: ['x'] }, b: true }, additionalProperties: item },
      {
        type: 'object',
        allOf: [{ properties: { c: { format: 'uri' } } }],
        anyOf: [{ properties: { d: item } }],
      },
      { type: 'array', items: item },
      { type: 'array', prefixItems: [{ type: 'integer' }], items: { format: 'uri' } },
      recursive,
    ];
    for (const schema of schemas) {
      const node = SchemaNode.of(schema);
      assert.ok(node);
      for (const key of ['a', 'b', 'c', 'd', 'e', 'self', 'name', '__proto__', 'constructor', 0, 1, 5]) {
        for (let pass = 0; pass < 2; pass++) {
          // twice: the second answer comes from the node's caches
          assert.equal(node.child(key), SchemaNode.of(childSchema(schema, key)), `${JSON.stringify(key)}`);
        }
      }
      assert.equal(node.kind, schemaKind(schema));
    }
  });
});

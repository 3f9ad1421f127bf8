import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile, copyFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { ConfigError } from '../../src/config/config-error.js';
import type { RouteConfig } from '../../src/config/types.js';
import { getOpenApi } from '../../src/openapi/index.js';
import { compileApi } from '../../src/openapi/compile.js';
import { loadDocument } from '../../src/openapi/load.js';
import { fakeBuildContext } from './build-context.js';
import { largeSpec } from './large-spec.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/openapi');
let dir: string;

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'portcullis-openapi-'));
  await copyFile(join(FIXTURES, 'petstore.yaml'), join(dir, 'petstore.yaml'));
  await copyFile(join(FIXTURES, 'components.yaml'), join(dir, 'components.yaml'));
  await copyFile(join(FIXTURES, 'openapi31.yaml'), join(dir, 'openapi31.yaml'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

function route(openapi: Record<string, unknown>): RouteConfig {
  return { name: 'r', match: { pathPrefix: '/' }, upstream: 'u', openapi } as RouteConfig;
}

describe('getOpenApi', () => {
  test('loads 3.0 with external $refs: operations, security and privileged flags', async () => {
    const api = await getOpenApi(
      fakeBuildContext(join(dir, 'portcullis.yaml'), route({ spec: './petstore.yaml' })),
    );
    assert.ok(api);
    assert.equal(api.openapi, '3.0.3');
    assert.equal(api.serverBasePath, '/v1');
    const list = api.operationsById.get('listPets');
    assert.deepEqual(list?.security, []);
    assert.deepEqual(
      list?.parameters.query.map((p) => p.name),
      ['limit', 'tags', 'ids', 'sizes', 'colors', 'filter', 'where'],
    );
    assert.deepEqual(
      list?.parameters.header.map((p) => p.name),
      ['x-request-tag'],
    );
    const create = api.operationsById.get('createPet');
    assert.deepEqual(create?.security, [{ oauth: ['pets:write'] }]);
    assert.equal(create?.privileged, true);
    assert.deepEqual(api.operationsById.get('getPet')?.security, [{ apiKey: [] }]);
    assert.deepEqual(
      api.operationsById.get('getPet')?.parameters.path.map((p) => p.name),
      ['petId'],
    );
    assert.equal(api.operations.length, 10);
  });

  test('loads 3.1 documents', async () => {
    const api = await getOpenApi(
      fakeBuildContext(join(dir, 'portcullis.yaml'), route({ spec: 'openapi31.yaml' })),
    );
    const validate = api?.operationsById.get('createItem')?.requestBody?.content[0]?.validate;
    assert.ok(validate);
    assert.equal(validate({ name: 'a', note: null, price: 1 }), true);
    assert.equal(validate({ name: 'a', price: 0 }), false);
    assert.equal(validate({ name: 'a', extra: { anything: 1 } }), true);
    assert.equal(validate({ name: 'a', admin: true }), false);
  });

  test('routes without an openapi section get undefined', async () => {
    const build = fakeBuildContext(join(dir, 'portcullis.yaml'), {
      name: 'r',
      match: {},
      upstream: 'u',
    } as RouteConfig);
    assert.equal(await getOpenApi(build), undefined);
  });

  test('one load and compile per file per config load (memo), strictness kept apart', async () => {
    const memo = new Map<string, unknown>();
    const file = join(dir, 'portcullis.yaml');
    const [a, b] = await Promise.all([
      getOpenApi(fakeBuildContext(file, route({ spec: './petstore.yaml' }), memo)),
      getOpenApi(fakeBuildContext(file, route({ spec: 'petstore.yaml' }), memo)),
    ]);
    assert.equal(a, b);
    const lenient = await getOpenApi(
      fakeBuildContext(file, route({ spec: './petstore.yaml', strict: false }), memo),
    );
    assert.notEqual(lenient, a);
    const next = await getOpenApi(fakeBuildContext(file, route({ spec: './petstore.yaml' })));
    assert.notEqual(next, a, 'a new config load compiles afresh');
  });

  test('missing, malformed and invalid documents fail the config load at the spec pointer', async () => {
    await writeFile(join(dir, 'broken.yaml'), 'openapi: 3.0.3\ninfo: [\n');
    await writeFile(
      join(dir, 'invalid.yaml'),
      stringify({ openapi: '3.0.3', info: { title: 'x' }, paths: { 'no-slash': {} } }),
    );
    await writeFile(
      join(dir, 'swagger.yaml'),
      stringify({ swagger: '2.0', info: { title: 'x', version: '1' }, paths: {} }),
    );
    await writeFile(
      join(dir, 'dangling.yaml'),
      stringify({
        openapi: '3.0.3',
        info: { title: 'x', version: '1' },
        paths: {
          '/a': {
            get: {
              responses: {
                '200': {
                  description: 'x',
                  content: { 'application/json': { schema: { $ref: './nope.yaml#/X' } } },
                },
              },
            },
          },
        },
      }),
    );
    for (const spec of ['missing.yaml', 'broken.yaml', 'invalid.yaml', 'swagger.yaml', 'dangling.yaml']) {
      await assert.rejects(
        getOpenApi(fakeBuildContext(join(dir, 'portcullis.yaml'), route({ spec }))),
        (error: unknown) => {
          assert.ok(error instanceof ConfigError, `${spec}: ${String(error)}`);
          assert.equal(error.issues[0]?.pointer, '/routes/0/openapi/spec');
          return true;
        },
      );
    }
  });

  test('a stage without a route key reports at /routes/N/openapi/spec too', async () => {
    const build = fakeBuildContext(
      join(dir, 'portcullis.yaml'),
      route({ spec: 'missing.yaml' }),
      new Map(),
      '/routes/0',
    );
    await assert.rejects(
      getOpenApi(build),
      (error: unknown) =>
        error instanceof ConfigError && error.issues[0]?.pointer === '/routes/0/openapi/spec',
    );
  });
});

describe('large real-world-like document', () => {
  test('hundreds of operations load and compile once (time reported, not asserted)', async (t) => {
    const file = join(dir, 'large.yaml');
    await writeFile(file, stringify(largeSpec(100)));
    const cpu = (since?: NodeJS.CpuUsage): number => {
      const used = process.cpuUsage(since);
      return (used.user + used.system) / 1000;
    };
    const started = performance.now();
    const startedCpu = process.cpuUsage();
    const loaded = await loadDocument(file);
    const loadedAt = performance.now();
    const loadCpu = cpu(startedCpu);
    const api = compileApi(loaded, { strict: true });
    const compiledAt = performance.now();
    const totalCpu = cpu(startedCpu);
    assert.equal(api.operations.length, 600);
    t.diagnostic(
      `600 operations: load+validate+dereference ${(loadedAt - started).toFixed(0)} ms wall / ${loadCpu.toFixed(0)} ms CPU, ` +
        `compile ${(compiledAt - loadedAt).toFixed(0)} ms wall / ${(totalCpu - loadCpu).toFixed(0)} ms CPU`,
    );
    const create = api.operationsById.get('createResource42');
    const validate = create?.requestBody?.content[0]?.validate;
    assert.ok(validate);
    const good = {
      name: 'n',
      status: 'active',
      amount: 1,
      address: { line1: 'a', country: 'GB' },
      tags: ['x'],
    };
    assert.equal(validate(good), true);
    assert.equal(validate({ ...good, createdAt: '2020-01-01T00:00:00Z' }), false, 'readOnly member refused');
    assert.equal(validate({ ...good, isAdmin: true }), false, 'undeclared member refused');
    assert.equal(
      api.matcher.match('/v1/resource-99/0b7e1a52-2f0c-4a8e-9a57-1b2d3c4d5e6f')?.template,
      '/v1/resource-99/{id}',
    );
  });
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { copyFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'yaml';
import { run } from '../../src/cli/commands/routes.js';
import { startGateway } from '../helpers/gateway.js';
import { startUpstream } from '../helpers/upstream.js';

const FIXTURES = join(import.meta.dirname, '../fixtures/openapi');

async function cli(args: string[]): Promise<{ code: number; out: string; err: string }> {
  let out = '';
  let err = '';
  const code = await run(args, {
    stdout: (text) => void (out += text + '\n'),
    stderr: (text) => void (err += text + '\n'),
  });
  return { code, out, err };
}

interface Snippet {
  upstreams: Record<string, { targets: { url: string }[] }>;
  routes: {
    name: string;
    public?: boolean;
    match: { methods: string[]; path: string };
    stripPrefix?: string;
    openapi: { spec: string; basePath?: string };
  }[];
}

describe('portcullis routes from-openapi', () => {
  test('prints one route per operation; secured operations are not public', async () => {
    const spec = join(FIXTURES, 'petstore.yaml');
    const { code, out } = await cli([
      'from-openapi',
      spec,
      '--upstream',
      'http://127.0.0.1:9000',
      '--prefix',
      '/petstore',
      '--name',
      'pets',
    ]);
    assert.equal(code, 0);
    const snippet = parse(out) as Snippet;
    assert.deepEqual(snippet.upstreams, { pets: { targets: [{ url: 'http://127.0.0.1:9000' }] } });
    assert.equal(snippet.routes.length, 10);
    const list = snippet.routes.find((r) => r.name === 'listPets');
    assert.deepEqual(list?.match, { methods: ['GET', 'HEAD'], path: '/petstore/pets' });
    assert.equal(list?.public, true);
    assert.equal(list?.stripPrefix, '/petstore');
    assert.equal(list?.openapi.basePath, '/petstore');
    const create = snippet.routes.find((r) => r.name === 'createPet');
    assert.equal(create?.public, undefined, 'a secured operation needs an authentication section');
    const file = snippet.routes.find((r) => r.name === 'getFile');
    assert.equal(
      file?.match.path,
      '/petstore/files/{name_ext}',
      'mixed segments become one router parameter',
    );
  });

  test('usage errors exit 2 and a bad spec exits 1', async () => {
    assert.equal((await cli([])).code, 2);
    assert.equal((await cli(['from-openapi', 'x.yaml'])).code, 2);
    assert.equal((await cli(['from-openapi', 'x.yaml', '--upstream', 'not a url'])).code, 2);
    assert.equal(
      (await cli(['from-openapi', 'x.yaml', '--upstream', 'http://a', '--prefix', 'nope'])).code,
      2,
    );
    const missing = await cli(['from-openapi', join(FIXTURES, 'missing.yaml'), '--upstream', 'http://a']);
    assert.equal(missing.code, 1);
    assert.match(missing.err, /missing\.yaml/);
  });

  test('the generated snippet loads and enforces the contract through the gateway', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'portcullis-routes-'));
    const upstream = await startUpstream();
    try {
      await copyFile(join(FIXTURES, 'openapi31.yaml'), join(dir, 'openapi31.yaml'));
      const { out } = await cli([
        'from-openapi',
        join(dir, 'openapi31.yaml'),
        '--upstream',
        upstream.url,
        '--prefix',
        '/items-api',
      ]);
      const snippet = parse(out) as Snippet;
      for (const route of snippet.routes) route.openapi.spec = './openapi31.yaml';
      const gw = await startGateway(snippet as unknown as Record<string, unknown>, { dir });
      try {
        const post = (body: string) =>
          fetch(gw.url + '/items-api/items', {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body,
          });
        const ok = await post('{"name":"a"}');
        assert.equal(ok.status, 200, await ok.text());
        assert.equal(upstream.requests.at(-1)?.url, '/items');
        const bad = await post('{"name":"a","role":"admin"}');
        assert.equal(bad.status, 400);
        assert.equal((await fetch(gw.url + '/items-api/items')).status, 405);
      } finally {
        await gw.close();
      }
    } finally {
      await upstream.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});

import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { stringify } from 'yaml';
import { run } from '../../../src/cli/commands/validate.js';

describe('portcullis validate and deny by default', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcs-authz-validate-'));
  });
  after(() => rm(dir, { recursive: true, force: true }));

  const validate = async (routes: Record<string, unknown>[]) => {
    const file = join(dir, `c${Math.random().toString(36).slice(2)}.yaml`);
    await writeFile(
      file,
      stringify({
        version: 1,
        listeners: [{ host: '127.0.0.1', port: 0 }],
        upstreams: { u: { targets: [{ url: 'http://127.0.0.1:9' }] } },
        authn: {
          jwt: {
            issuers: {
              corp: {
                issuer: 'https://idp.test',
                audience: 'api',
                algorithms: ['HS256'],
                secret: 'k'.repeat(48),
              },
            },
          },
        },
        routes: routes.map((route) => ({ upstream: 'u', ...route })),
      }),
    );
    const out: string[] = [];
    const err: string[] = [];
    const code = await run([file, '--json'], { stdout: (t) => out.push(t), stderr: (t) => err.push(t) });
    return { code, result: JSON.parse(out.join('')) as Record<string, unknown> };
  };

  test('public routes are listed as warnings', async () => {
    const { code, result } = await validate([
      { name: 'health', match: { path: '/health' }, public: true },
      { name: 'docs', match: { pathPrefix: '/docs' }, public: true },
    ]);
    assert.equal(code, 0);
    const warnings = result.warnings as { pointer: string; message: string }[];
    assert.deepEqual(
      warnings.filter((w) => /is public/.test(w.message)).map((w) => w.pointer),
      ['/routes/0/authorization', '/routes/1/authorization'],
    );
  });

  test('a route with neither authorization nor public: true is invalid', async () => {
    const { code, result } = await validate([
      { name: 'api', match: { pathPrefix: '/api' }, authentication: { anyOf: ['jwt:corp'] } },
    ]);
    assert.equal(code, 1);
    const errors = result.errors as { pointer: string; message: string }[];
    assert.ok(
      errors.some(
        (e) => e.pointer === '/routes/0/authorization' && /no `authorization` section/.test(e.message),
      ),
    );
  });
});

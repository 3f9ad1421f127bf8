import assert from 'node:assert/strict';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { ConfigError } from '../../src/config/config-error.js';
import { loadConfigFile } from '../../src/config/load.js';

const base = `version: 1
listeners:
  - port: 0
upstreams:
  u:
    targets:
      - url: http://127.0.0.1:9
routes:
  - name: r
    match: { pathPrefix: / }
    upstream: u
    public: true
`;

describe('config loading', () => {
  let dir: string;
  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-config-'));
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  async function load(name: string, text: string, env: NodeJS.ProcessEnv = {}) {
    const file = join(dir, name);
    await writeFile(file, text);
    return loadConfigFile(file, { env });
  }

  async function issuesOf(name: string, text: string, env: NodeJS.ProcessEnv = {}) {
    try {
      await load(name, text, env);
    } catch (error) {
      assert.ok(error instanceof ConfigError, `expected ConfigError, got ${String(error)}`);
      return error;
    }
    assert.fail('expected the config to be refused');
  }

  test('a valid YAML config loads', async () => {
    const loaded = await load('ok.yaml', base);
    assert.equal(loaded.config.routes[0]!.name, 'r');
  });

  test('JSON works too', async () => {
    const loaded = await load(
      'ok.json',
      JSON.stringify({ version: 1, listeners: [{ port: 0 }], upstreams: {}, routes: [] }),
    );
    assert.equal(loaded.config.version, 1);
  });

  test('an unknown key names the file, line, column and JSON pointer', async () => {
    const error = await issuesOf(
      'unknown.yaml',
      base.replace('    public: true', '    public: true\n    upstreem: u'),
    );
    const issue = error.issues.find((i) => i.pointer === '/routes/0/upstreem');
    assert.ok(issue, JSON.stringify(error.issues));
    assert.equal(issue.line, 13);
    assert.match(issue.message, /unknown property "upstreem"/);
    assert.match(error.message, /unknown\.yaml:13:\d+: \/routes\/0\/upstreem: unknown property/);
  });

  test('a wrong type says what was expected', async () => {
    const error = await issuesOf('type.yaml', base.replace('  - port: 0', '  - port: eighty'));
    assert.ok(
      error.issues.some(
        (i) => i.pointer === '/listeners/0/port' && /expected integer/.test(i.message) && i.line === 3,
      ),
    );
  });

  test('a missing required property is reported at its parent', async () => {
    const error = await issuesOf('missing.yaml', base.replace('version: 1\n', ''));
    assert.ok(
      error.issues.some((i) => i.pointer === '' && /missing required property "version"/.test(i.message)),
    );
  });

  test('YAML syntax errors carry a line', async () => {
    const error = await issuesOf('syntax.yaml', 'version: 1\nlisteners: [\n');
    assert.ok(error.issues[0]!.line !== undefined);
    assert.match(error.message, /syntax\.yaml:\d+:\d+/);
  });

  test('duplicate keys are refused', async () => {
    const error = await issuesOf('dup.yaml', base + 'routes: []\n');
    assert.match(error.message, /dup\.yaml:\d+/);
  });

  test('${env:NAME}, defaults and ${file:path} are interpolated', async () => {
    await writeFile(join(dir, 'token.txt'), 'from-a-file\n');
    const text =
      base.replace('http://127.0.0.1:9', 'http://${env:UP_HOST}:${env:UP_PORT:-9}') +
      'admin:\n  token: ${file:token.txt}\n';
    const loaded = await load('interp.yaml', text, { UP_HOST: '127.0.0.2' });
    assert.equal(loaded.config.upstreams.u!.targets[0]!.url, 'http://127.0.0.2:9');
    assert.equal(loaded.config.admin!.token, 'from-a-file');
  });

  test('a missing environment variable is an error at its pointer', async () => {
    const error = await issuesOf(
      'env.yaml',
      base.replace('http://127.0.0.1:9', 'http://${env:NOPE_NOT_SET}'),
    );
    assert.ok(
      error.issues.some(
        (i) => i.pointer === '/upstreams/u/targets/0/url' && /NOPE_NOT_SET is not set/.test(i.message),
      ),
    );
  });

  test('a missing file reference is an error', async () => {
    const error = await issuesOf('file.yaml', base + 'admin:\n  token: ${file:does-not-exist}\n');
    assert.ok(error.issues.some((i) => i.pointer === '/admin/token' && /cannot read file/.test(i.message)));
  });

  test('an unknown upstream reference fails the route build with a pointer', async () => {
    const { buildRouteTable } = await import('../../src/pipeline/route-table.js');
    const { createLogger } = await import('../../src/observe/logger.js');
    const { Metrics } = await import('../../src/observe/metrics.js');
    const loaded = await load('ref.yaml', base.replace('    upstream: u', '    upstream: nope'));
    await assert.rejects(
      buildRouteTable(loaded, {
        logger: createLogger({ level: 'silent' }),
        metrics: new Metrics({ defaultMetrics: false }),
        shared: new Map(),
        onClose() {},
      }),
      (error: unknown) =>
        error instanceof ConfigError &&
        error.issues.some(
          (i) =>
            i.pointer === '/routes/0/upstream' && /unknown upstream "nope"/.test(i.message) && i.line === 11,
        ),
    );
  });
});

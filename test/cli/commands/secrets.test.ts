import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import Database from 'better-sqlite3';
import { run as secrets } from '../../../src/cli/commands/secrets.js';
import { run as storeCommand } from '../../../src/cli/commands/store.js';
import { openSecretsForConfig, readKeyringSections } from '../../../src/crypto/config-secrets.js';
import { readSecret } from '../../../src/crypto/secrets.js';

const MAIN = new URL('../../../src/cli/main.ts', import.meta.url).pathname;

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return {
    io: { stdout: (s: string) => void out.push(s), stderr: (s: string) => void err.push(s) },
    out,
    err,
  };
}

describe('portcullis secrets / store CLI', () => {
  let dir: string;
  let config: string;
  const allOutput: string[] = [];
  const VALUES = ['Upstream-P4ssword-Value', 'replaced-Value-123', 'stdin-Secret-Value-xyz'];

  async function cli(
    fn: typeof secrets,
    args: string[],
    readValue?: () => Promise<string>,
  ): Promise<{ code: number; out: string; err: string }> {
    const c = capture();
    const code = await fn(['--config', config, ...args], c.io, readValue === undefined ? {} : { readValue });
    const out = c.out.join('\n');
    const err = c.err.join('\n');
    allOutput.push(out, err);
    return { code, out, err };
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'portcullis-cli-secrets-'));
    config = join(dir, 'portcullis.yaml');
    await writeFile(
      config,
      [
        '# gateway config',
        'store:',
        '  type: sqlite',
        '  path: ./data/portcullis.db',
        'secrets:',
        '  kek:',
        '    provider: file',
        '    path: ./keys/kek.key # the KEK',
        'routes: []',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('init creates a 0600 KEK file once and refuses to overwrite it', async () => {
    const first = await cli(secrets, ['init']);
    assert.equal(first.code, 0, first.err);
    const info = await stat(join(dir, 'keys/kek.key'));
    assert.equal(info.mode & 0o777, 0o600);
    assert.equal(
      Buffer.from((await readFile(join(dir, 'keys/kek.key'), 'utf8')).trim(), 'base64').length,
      32,
    );
    const before = await readFile(join(dir, 'keys/kek.key'), 'utf8');
    const second = await cli(secrets, ['init']);
    assert.equal(second.code, 1);
    assert.match(second.err, /already exists/);
    assert.equal(await readFile(join(dir, 'keys/kek.key'), 'utf8'), before);
  });

  test('set, list (names and metadata, never values), delete', async () => {
    assert.equal(
      (
        await cli(secrets, [
          'set',
          'upstream-password',
          '--value',
          VALUES[0] as string,
          '--description',
          'billing',
        ])
      ).code,
      0,
    );
    assert.equal((await cli(secrets, ['set', 'from-stdin'], async () => VALUES[2] as string)).code, 0);
    const list = await cli(secrets, ['list', '--json']);
    assert.equal(list.code, 0);
    const rows = JSON.parse(list.out) as {
      name: string;
      metadata: Record<string, unknown>;
      kekVersion: number;
    }[];
    assert.deepEqual(
      rows.map((r) => r.name),
      ['from-stdin', 'upstream-password'],
    );
    assert.deepEqual(rows[1]?.metadata, { description: 'billing' });
    const all = await cli(secrets, ['list', '--all']);
    assert.match(all.out, /portcullis\.pepper/);
    const text = await cli(secrets, ['list']);
    assert.match(text.out, /upstream-password/);

    const opened = await openSecretsForConfig(await readKeyringSections(config));
    try {
      assert.equal(await opened.resolveSecret('upstream-password'), VALUES[0]);
      assert.equal(await opened.resolveSecret('from-stdin'), VALUES[2]);
    } finally {
      await opened.close();
    }
    assert.equal((await cli(secrets, ['delete', 'from-stdin'])).code, 0);
    assert.equal((await cli(secrets, ['delete', 'from-stdin'])).code, 1);
    assert.equal(
      (await cli(secrets, ['set', 'portcullis.pepper', '--value', 'x'])).code,
      1,
      'reserved names are refused',
    );
    assert.equal((await cli(secrets, ['set', 'bad name', '--value', 'x'])).code, 1);
    assert.equal((await cli(secrets, ['set', 'empty', '--value', ''])).code, 2);
  });

  test('set --generate stores a random value and shows it exactly once', async () => {
    const c = capture();
    assert.equal(
      await secrets(['--config', config, 'set', 'generated-token', '--generate', '--json'], c.io),
      0,
    );
    const { value } = JSON.parse(c.out.join('')) as { value: string };
    assert.equal(Buffer.from(value, 'base64url').length, 32);
    const opened = await openSecretsForConfig(await readKeyringSections(config));
    try {
      assert.equal(await opened.resolveSecret('generated-token'), value);
    } finally {
      await opened.close();
    }
    const list = await cli(secrets, ['list', '--json']);
    assert.ok(!list.out.includes(value));
    assert.match(list.out, /"generated": true/);
    assert.equal((await cli(secrets, ['set', 'x', '--generate', '--value', 'y'])).code, 2);
  });

  test('rotate --generate --write-config, then rotate re-wraps and retires v1', async () => {
    await cli(secrets, ['set', 'upstream-password', '--value', VALUES[1] as string]);
    const gen = await cli(secrets, ['rotate', '--generate', '--write-config']);
    assert.equal(gen.code, 0, gen.err);
    assert.equal((await stat(join(dir, 'keys/kek-v2.key'))).mode & 0o777, 0o600);
    const yaml = await readFile(config, 'utf8');
    assert.match(yaml, /# gateway config/, 'comments are kept');
    assert.match(yaml, /version: 2/);
    assert.match(yaml, /kek-v2\.key/);
    assert.match(yaml, /previous:/);

    const rotated = await cli(secrets, ['rotate', '--json', '--batch-size', '1']);
    assert.equal(rotated.code, 0, rotated.err);
    const result = JSON.parse(rotated.out) as {
      currentVersion: number;
      rewrapped: number;
      retirable: number[];
    };
    assert.equal(result.currentVersion, 2);
    assert.ok(result.rewrapped >= 2, 'the secret and the pepper were re-wrapped');
    assert.deepEqual(result.retirable, [1]);

    // with v1 removed from the config everything still opens
    const sections = await readKeyringSections(config);
    const onlyV2 = {
      ...sections,
      secrets: { kek: sections.secrets?.kek as NonNullable<typeof sections.secrets>['kek'] },
    };
    const opened = await openSecretsForConfig(onlyV2 as typeof sections);
    try {
      assert.equal(await readSecret(opened.keyring, opened.store, 'upstream-password'), VALUES[1]);
    } finally {
      await opened.close();
    }
  });

  test('signing keys: list, rotate with a publication window no shorter than the token lifetime', async () => {
    assert.match((await cli(secrets, ['signing-keys'])).out, /no signing keys yet/);
    const tooShort = await cli(secrets, ['rotate-signing-key', '--publish-for', '60s']);
    assert.equal(tooShort.code, 1);
    assert.match(tooShort.err, /at least the token lifetime/);
    assert.equal((await cli(secrets, ['rotate-signing-key', '--publish-for', 'soon'])).code, 1);
    const first = await cli(secrets, ['rotate-signing-key', '--json']);
    assert.equal(first.code, 0, first.err);
    const second = await cli(secrets, ['rotate-signing-key', '--publish-for', '1h', '--json']);
    assert.equal(second.code, 0, second.err);
    const newest = (JSON.parse(second.out) as { kid: string }).kid;
    const list = JSON.parse((await cli(secrets, ['signing-keys', '--json'])).out) as {
      kid: string;
      status: string;
      publishedUntil: string | null;
    }[];
    assert.equal(list.length, 2);
    assert.equal(list.find((k) => k.kid === newest)?.status, 'active');
    const old = list.find((k) => k.kid !== newest);
    assert.equal(old?.status, 'published');
    assert.ok(old?.publishedUntil !== null && Date.parse(old?.publishedUntil ?? '') > Date.now() + 3_000_000);
    assert.ok(!JSON.stringify(list).includes('"d"'), 'no private key material');
  });

  test('store backup makes a consistent 0600 copy and refuses to overwrite', async () => {
    const target = join(dir, 'backup.db');
    const res = await cli(storeCommand as typeof secrets, ['backup', target]);
    assert.equal(res.code, 0, res.err);
    assert.equal((await stat(target)).mode & 0o777, 0o600);
    const db = new Database(target, { readonly: true });
    try {
      assert.equal(db.pragma('integrity_check', { simple: true }), 'ok');
      const names = (db.prepare('SELECT name FROM secrets').all() as { name: string }[]).map((r) => r.name);
      assert.ok(names.includes('upstream-password'));
    } finally {
      db.close();
    }
    assert.equal((await cli(storeCommand as typeof secrets, ['backup', target])).code, 1);
    assert.equal((await cli(storeCommand as typeof secrets, ['backup', target, '--force'])).code, 0);
  });

  test('store backup on PostgreSQL points at pg_dump', async () => {
    const pgConfig = join(dir, 'pg.yaml');
    await writeFile(pgConfig, 'store:\n  type: postgres\n  url: postgres://postgres@127.0.0.1/none\n');
    const c = capture();
    assert.equal(await storeCommand(['--config', pgConfig, 'backup', join(dir, 'x')], c.io), 1);
    assert.match(c.err.join('\n'), /pg_dump/);
  });

  test('init with the env provider and no key set shows a fresh key once; with it set, checks it', async () => {
    const envConfig = join(dir, 'env.yaml');
    const variable = `PORTCULLIS_TEST_KEK_${process.pid}`;
    await writeFile(
      envConfig,
      `store:\n  type: sqlite\n  path: ./env-store.db\nsecrets:\n  kek:\n    provider: env\n    env: ${variable}\n`,
    );
    const c = capture();
    assert.equal(await secrets(['--config', envConfig, 'init', '--json'], c.io), 0);
    const shown = JSON.parse(c.out.join('')) as { env: string; kek: string };
    assert.equal(shown.env, variable);
    assert.equal(Buffer.from(shown.kek, 'base64').length, 32);
    process.env[variable] = shown.kek;
    try {
      const again = capture();
      assert.equal(await secrets(['--config', envConfig, 'init'], again.io), 0, again.err.join('\n'));
      assert.ok(!again.out.join('\n').includes(shown.kek), 'the key is shown only when generated');
    } finally {
      delete process.env[variable];
    }
  });

  test('the real binary reads the value from stdin', async () => {
    const child = spawn(
      process.execPath,
      ['--import', 'tsx', MAIN, 'secrets', 'set', 'piped', '--config', config],
      {
        stdio: ['pipe', 'pipe', 'pipe'],
      },
    );
    let out = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stderr.setEncoding('utf8').on('data', (d: string) => (out += d));
    child.stdin.end('piped-Value-777\n');
    const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
    assert.equal(code, 0, out);
    allOutput.push(out);
    const opened = await openSecretsForConfig(await readKeyringSections(config));
    try {
      assert.equal(await opened.resolveSecret('piped'), 'piped-Value-777');
    } finally {
      await opened.close();
    }
  });

  test('no command ever printed a secret value', () => {
    const everything = allOutput.join('\n');
    for (const v of [...VALUES, 'piped-Value-777']) assert.ok(!everything.includes(v), `output leaked ${v}`);
  });
});

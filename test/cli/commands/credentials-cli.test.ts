import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { run as consumers } from '../../../src/cli/commands/consumers.js';
import { run as keys } from '../../../src/cli/commands/keys.js';
import { run as clients } from '../../../src/cli/commands/clients.js';
import { parseApiKey } from '../../../src/authn/api-key-format.js';

type Command = (args: string[], io: { stdout(t: string): void; stderr(t: string): void }) => Promise<number>;

describe('consumers / keys / clients CLI', () => {
  let dir: string;
  let config: string;

  async function cli(
    command: Command,
    ...args: string[]
  ): Promise<{ code: number; out: string; err: string }> {
    let out = '';
    let err = '';
    const code = await command([...args, '--config', config], {
      stdout: (text) => void (out += text),
      stderr: (text) => void (err += text),
    });
    return { code, out, err };
  }
  async function json<T>(command: Command, ...args: string[]): Promise<T> {
    const result = await cli(command, ...args, '--json');
    assert.equal(result.code, 0, result.err);
    return JSON.parse(result.out) as T;
  }

  before(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pcs-cli-'));
    await writeFile(join(dir, 'kek.key'), randomBytes(32).toString('base64'), { mode: 0o600 });
    config = join(dir, 'portcullis.yaml');
    await writeFile(
      config,
      [
        'version: 1',
        'listeners: [{ host: 127.0.0.1, port: 0 }]',
        'store: { type: sqlite, path: store.db }',
        'secrets: { kek: { provider: file, path: kek.key } }',
        'authn: { apiKey: { prefix: acme } }',
        'upstreams: { u: { targets: [{ url: "http://127.0.0.1:9" }] } }',
        'routes: [{ name: h, match: { path: /h }, upstream: u, public: true }]',
        '',
      ].join('\n'),
    );
  });
  after(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  test('consumer lifecycle', async () => {
    const created = await json<{
      id: string;
      name: string;
      roles: string[];
      tenant: string;
      attributes: Record<string, string>;
    }>(consumers, 'create', 'shop', '--roles', 'reader,writer', '--tenant', 'acme', '--attr', 'plan=gold');
    assert.equal(created.name, 'shop');
    assert.deepEqual(created.roles, ['reader', 'writer']);
    assert.deepEqual(created.attributes, { plan: 'gold' });
    const list = await json<{ name: string }[]>(consumers, 'list');
    assert.ok(list.some((c) => c.name === 'shop'));
    const text = await cli(consumers, 'list');
    assert.match(text.out, /ID\s+NAME\s+ROLES/);
    const disabled = await json<{ disabled: boolean }>(consumers, 'disable', 'shop');
    assert.equal(disabled.disabled, true);
    await json(consumers, 'enable', created.id);
    const duplicate = await cli(consumers, 'create', 'shop');
    assert.equal(duplicate.code, 1);
    assert.match(duplicate.err, /error:/);
  });

  test('keys: created once with the configured prefix, listed without secrets, rotated and revoked', async () => {
    await json(consumers, 'create', 'api-user');
    const created = await json<{
      key: string;
      record: { lookupId: string; scopes: string[]; expiresAt: string };
    }>(keys, 'create', 'api-user', '--scopes', 'orders:read', '--cidrs', '10.0.0.0/8', '--expires', '30d');
    const parsed = parseApiKey(created.key);
    assert.ok(parsed.ok);
    assert.equal(parsed.key.prefix, 'acme');
    assert.deepEqual(created.record.scopes, ['orders:read']);
    assert.ok(Date.parse(created.record.expiresAt) > Date.now() + 29 * 86_400_000);

    const human = await cli(keys, 'create', 'api-user');
    assert.match(human.out, /shown only once/);

    const listed = await cli(keys, 'list', '--consumer', 'api-user', '--json');
    assert.equal(listed.code, 0);
    assert.ok(!listed.out.includes(created.key));
    assert.doesNotMatch(listed.out, /hash/i);
    assert.equal((JSON.parse(listed.out) as unknown[]).length, 2);

    const rotated = await json<{
      key: string;
      previous: { lookupId: string; notAfter: string; status: string };
    }>(keys, 'rotate', created.record.lookupId, '--overlap', '1h');
    assert.notEqual(rotated.key, created.key);
    assert.equal(rotated.previous.status, 'active');
    assert.ok(Date.parse(rotated.previous.notAfter) <= Date.now() + 3_600_000);

    const revoked = await json<{ status: string }>(keys, 'revoke', created.record.lookupId);
    assert.equal(revoked.status, 'revoked');
    const again = await cli(keys, 'rotate', created.record.lookupId);
    assert.equal(again.code, 1, 'a revoked key cannot be rotated');
  });

  test('bad input: exit codes and messages, no stack traces', async () => {
    const unknown = await cli(keys, 'create', 'nobody');
    assert.equal(unknown.code, 1);
    assert.match(unknown.err, /no consumer nobody/);
    assert.equal((await cli(keys, 'create')).code, 2);
    assert.equal((await cli(keys, 'explode')).code, 2);
    assert.equal((await cli(keys, 'create', 'api-user', '--expires', 'soon')).code, 2);
    assert.equal((await cli(keys, 'create', 'api-user', '--cidrs', '300.1.1.1/8')).code, 1);
    assert.equal((await cli(keys, 'revoke', 'not-a-lookup-id')).code, 1);
    const asJson = await cli(keys, 'create', 'nobody', '--json');
    assert.equal(asJson.code, 1);
    assert.deepEqual(JSON.parse(asJson.err), { error: 'no consumer nobody', code: 'not_found' });
    const missingConfig = await keys(['list', '--config', join(dir, 'nope.yaml')], {
      stdout: () => {},
      stderr: () => {},
    });
    assert.equal(missingConfig, 1);
  });

  test('clients: secret shown once or a public JWK; revoke', async () => {
    await json(consumers, 'create', 'svc');
    const secret = await json<{ clientId: string; clientSecret: string; record: { authMethod: string } }>(
      clients,
      'create',
      'svc',
      '--scopes',
      'orders:read',
    );
    assert.equal(secret.record.authMethod, 'client_secret');
    assert.ok(secret.clientSecret.length >= 40);
    const jwkFile = join(dir, 'client.jwk.json');
    await writeFile(
      jwkFile,
      JSON.stringify({ kty: 'OKP', crv: 'Ed25519', x: '11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo' }),
    );
    const jwk = await json<{ clientSecret?: string; record: { authMethod: string } }>(
      clients,
      'create',
      'svc',
      '--jwks',
      jwkFile,
    );
    assert.equal(jwk.clientSecret, undefined);
    assert.equal(jwk.record.authMethod, 'private_key_jwt');
    const list = await cli(clients, 'list', '--consumer', 'svc', '--json');
    assert.ok(!list.out.includes(secret.clientSecret));
    const revoked = await json<{ status: string }>(clients, 'revoke', secret.clientId);
    assert.equal(revoked.status, 'revoked');
  });
});

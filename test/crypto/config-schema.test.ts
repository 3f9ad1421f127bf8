import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Ajv2020 } from 'ajv/dist/2020.js';
import { secretsConfigSchema } from '../../src/crypto/config.js';
import { storeConfigSchema } from '../../src/store/config.js';

const ajv = new Ajv2020({ allErrors: true, strict: false, allowUnionTypes: true });
const secrets = ajv.compile(secretsConfigSchema);
const store = ajv.compile(storeConfigSchema);

test('secrets schema: valid sections', () => {
  for (const ok of [
    {},
    { kek: { provider: 'file' } },
    {
      kek: { provider: 'file', path: './k.key', version: 3 },
      previous: [{ provider: 'env', env: 'OLD_KEK', version: 2 }],
    },
    { kek: { provider: 'command', command: ['vault', 'kv', 'get'], timeoutMs: 5000 } },
  ]) {
    assert.equal(secrets(ok), true, JSON.stringify(secrets.errors));
  }
});

test('secrets schema: mistakes are refused', () => {
  for (const bad of [
    { kek: { provider: 'command' } },
    { kek: { provider: 'command', command: [] } },
    { kek: { provider: 'file', env: 'X' } },
    { kek: { provider: 'env', path: './k' } },
    { kek: { provider: 'vault' } },
    { kek: { provider: 'file', version: 0 } },
    { kek: { provider: 'file', value: 'inline keys are not allowed' } },
    { kek: { provider: 'env', env: 'bad name' } },
    { other: true },
  ]) {
    assert.equal(secrets(bad), false, JSON.stringify(bad));
  }
});

test('store schema: sqlite or postgres, nothing else', () => {
  assert.equal(store({ type: 'sqlite' }), true);
  assert.equal(store({ type: 'sqlite', path: './x.db' }), true);
  assert.equal(store({ type: 'postgres', url: 'postgres://u@h/db', poolSize: 5 }), true);
  assert.equal(store({ type: 'postgres' }), false);
  assert.equal(store({ type: 'postgres', url: 'mysql://x' }), false);
  assert.equal(store({ type: 'sqlite', url: 'postgres://u@h/db' }), false);
  assert.equal(store({ type: 'mongo' }), false);
  assert.equal(store({ type: 'postgres', url: 'postgres://u@h/db', poolSize: 0 }), false);
});

#!/usr/bin/env node
// Prepares the example's embedded state once: the keyring (KEK file) and two demo consumers,
// alice and bob, each with an API key. Keys are shown once by the gateway; for this local demo
// they are kept in examples/.portcullis/demo-keys.json (mode 0600) so the printed commands work.
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const config = resolve(process.argv[2] ?? join(root, 'examples', 'portcullis.yaml'));
const state = join(dirname(config), '.portcullis');
const cli = (...args) =>
  execFileSync(process.execPath, [join(root, 'dist', 'cli', 'main.js'), ...args, '--config', config], {
    encoding: 'utf8',
    stdio: ['ignore', 'pipe', 'inherit'],
  });

if (!existsSync(join(state, 'kek.key'))) cli('secrets', 'init');

const keysFile = join(state, 'demo-keys.json');
let keys = existsSync(keysFile) ? JSON.parse(readFileSync(keysFile, 'utf8')) : {};
const consumers = JSON.parse(cli('consumers', 'list', '--json'));
const list = Array.isArray(consumers) ? consumers : (consumers.consumers ?? []);
for (const [name, account] of [
  ['alice', 'acc-alice'],
  ['bob', 'acc-bob'],
]) {
  if (!list.some((c) => c.name === name))
    cli('consumers', 'create', name, '--attr', `account_id=${account}`, '--json');
  if (!keys[name]) keys[name] = JSON.parse(cli('keys', 'create', name, '--json')).key;
}
writeFileSync(keysFile, JSON.stringify(keys, null, 2) + '\n', { mode: 0o600 });

writeFileSync(
  join(state, 'try.txt'),
  `
    Alice's API key:       ${keys.alice}
    List pets (API key):   curl -i -H 'x-api-key: ${keys.alice}' http://127.0.0.1:8080/pets
    No key → 401:          curl -i http://127.0.0.1:8080/pets
    Contract violation:    curl -i -H 'x-api-key: ${keys.alice}' -H 'content-type: application/json' -d '{"name":"Rex","isAdmin":true}' http://127.0.0.1:8080/pets
    Injection → 403:       curl -i -H 'x-api-key: ${keys.alice}' -H 'content-type: application/json' -d '{"name":"<script>alert(1)</script>"}' http://127.0.0.1:8080/pets
    Own account:           curl -i -H 'x-api-key: ${keys.alice}' http://127.0.0.1:8080/accounts/acc-alice
    Bob's account (BOLA):  curl -i -H 'x-api-key: ${keys.alice}' http://127.0.0.1:8080/accounts/acc-bob
`,
);

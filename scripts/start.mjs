#!/usr/bin/env node
// `npm start`: installs dependencies if needed, builds, starts the bundled demo upstream and
// the gateway on the example config (embedded defaults: SQLite store, in-memory counters),
// and prints the URLs to try. Uses only Node built-ins so it runs before `npm install`.
import { spawn, spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  statSync,
  writeFileSync,
  chmodSync,
} from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
process.chdir(root);
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(cmd, args) {
  const r = spawnSync(cmd, args, { stdio: 'inherit' });
  if (r.status !== 0) process.exit(r.status ?? 1);
}

function newest(dir) {
  let latest = 0;
  for (const name of readdirSync(dir)) {
    const full = join(dir, name);
    const s = statSync(full);
    latest = Math.max(latest, s.isDirectory() ? newest(full) : s.mtimeMs);
  }
  return latest;
}

if (!existsSync('node_modules/.package-lock.json')) {
  console.error('portcullis: installing dependencies (npm install)…');
  run(npm, ['install', '--no-audit', '--no-fund']);
}
if (!existsSync('dist/cli/main.js') || newest('src') > statSync('dist/cli/main.js').mtimeMs) {
  console.error('portcullis: building (npm run build)…');
  run(npm, ['run', '--silent', 'build']);
}

const state = join(root, 'examples', '.portcullis');
mkdirSync(state, { recursive: true, mode: 0o700 });
const tokenFile = join(state, 'admin-token');
if (!process.env.PORTCULLIS_ADMIN_TOKEN) {
  if (!existsSync(tokenFile)) {
    writeFileSync(tokenFile, randomBytes(32).toString('base64url') + '\n', { mode: 0o600 });
    chmodSync(tokenFile, 0o600);
  }
  process.env.PORTCULLIS_ADMIN_TOKEN = readFileSync(tokenFile, 'utf8').trim();
}
const config = process.env.PORTCULLIS_CONFIG ?? join('examples', 'portcullis.yaml');
const setup = join('examples', 'setup.mjs');
if (existsSync(setup)) run(process.execPath, [setup, config]);

const children = [];
const demo = spawn(process.execPath, ['dist/demo/upstream.js'], {
  stdio: ['ignore', 'inherit', 'inherit'],
  env: { ...process.env, DEMO_PORT: process.env.DEMO_PORT ?? '3001' },
});
children.push(demo);
const gateway = spawn(process.execPath, ['dist/cli/main.js', 'start', '--config', config], {
  stdio: ['ignore', 'inherit', 'inherit'],
});
children.push(gateway);

const hint = join(state, 'try.txt');
setTimeout(() => {
  const extra = existsSync(hint) ? readFileSync(hint, 'utf8') : '';
  console.error(`
  Portcullis is running (example config: ${config}; logs are JSON lines on stdout).

    Public health check:   curl -i http://127.0.0.1:8080/health
    Echo (public):         curl -i http://127.0.0.1:8080/echo/hello
    HTTPS (dev cert):      curl -ik https://127.0.0.1:8443/health
    A path trick, refused: curl -i --path-as-is 'http://127.0.0.1:8080/echo/%2e%2e/%2e%2e/etc/passwd'
    Metrics:               curl -s http://127.0.0.1:9901/metrics | head
    Admin token:           ${tokenFile}
${extra}
  Stop with Ctrl-C.
`);
}, 1500).unref();

let stopping = false;
const stop = (signal) => {
  if (stopping) return;
  stopping = true;
  for (const child of children) child.kill(signal);
};
process.on('SIGINT', () => stop('SIGTERM'));
process.on('SIGTERM', () => stop('SIGTERM'));
gateway.on('exit', (code) => {
  stop('SIGTERM');
  process.exitCode = code ?? 0;
});

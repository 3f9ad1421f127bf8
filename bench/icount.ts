// Instructions per request for benchmark rows, counted by valgrind's callgrind: a figure that does
// not move with the load on the machine, for A/B comparisons of changes worth a microsecond or two
// (throughput ratios on this 2-core machine move by ±5% from run to run). Usage:
//   node --import tsx bench/icount.ts [--rows plain,rl-memory] [--requests 4000] [--warmup 6000]
//     [--connections 8] [--alt-main FILE] [--no-build]
// The gateway runs under `valgrind --tool=callgrind` with instrumentation off while it warms up
// (its JIT settles), then on for the measured requests; all of its threads are counted (the
// compiler and GC helper threads are real cost too). Slow (about a minute per row); asserts nothing.
import { spawn } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { Pool } from 'undici';
import { benchKek, createFixtures, KEK_ENV } from './lib/fixtures.js';
import { ORDERS_SPEC, rowConfig, startBenchUpstream } from './lib/stack.js';
import { writeConfig } from './lib/gateway.js';
import { freePort, runCommand, waitFor } from './lib/process.js';
import { ROWS, type GatewayRow, type Load } from './rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values } = parseArgs({
  options: {
    rows: { type: 'string', default: 'plain,rl-memory' },
    requests: { type: 'string', default: '4000' },
    warmup: { type: 'string', default: '6000' },
    connections: { type: 'string', default: '8' },
    'alt-main': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    /** Keep each row's callgrind dump in this directory (for callgrind_annotate). */
    keep: { type: 'string' },
    /** V8 flags for the gateway; `--predictable` (the default) runs GC and compilers on the main thread. */
    'node-args': { type: 'string', default: '--predictable' },
  },
});

/** Sends `count` copies of the load over `connections` keep-alive connections; returns the failures. */
async function send(pool: Pool, load: Load, count: number, connections: number): Promise<number> {
  let left = count;
  let failed = 0;
  const worker = async (): Promise<void> => {
    while (left > 0) {
      left--;
      const res = await pool.request({
        path: load.path,
        method: (load.method ?? 'GET') as 'GET',
        headers: load.headers ?? {},
        body: load.body ?? null,
      });
      await res.body.dump();
      if (res.statusCode !== load.expectStatus) failed++;
    }
  };
  await Promise.all(Array.from({ length: connections }, worker));
  return failed;
}

async function callgrind(pid: number, ...args: string[]): Promise<void> {
  await runCommand('callgrind_control', [...args, String(pid)], {});
}

async function main(): Promise<void> {
  const ids = values.rows.split(',');
  const main = values['alt-main'] ?? join(root, 'dist', 'cli', 'main.js');
  if (!values['no-build']) await runCommand('npm', ['run', 'build'], { cwd: root });
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-icount-'));
  const env = { ...process.env, [KEK_ENV]: benchKek(), NODE_ENV: 'production' };
  const upstream = await startBenchUpstream(dir);
  let fixtures: ReturnType<typeof createFixtures> | undefined;
  const lines: string[] = [];
  try {
    fixtures = createFixtures({ dir, upstreamUrl: upstream.url, specFile: ORDERS_SPEC, main, env });
    for (const id of ids) {
      const row = ROWS.find((r) => r.id === id);
      if (row === undefined || (row.kind !== 'gateway' && row.kind !== 'bare')) {
        throw new Error(`no gateway or bare proxy row "${id}"`);
      }
      const port = await freePort();
      let setup: { readonly load: Load; readonly nodeArgs?: readonly string[] };
      let target: string[];
      let childEnv: NodeJS.ProcessEnv = env;
      if (row.kind === 'bare') {
        // the bare proxies of bench/bare-*.ts: what node:http + undici cost without the gateway
        setup = { load: { path: '/items/42', expectStatus: 200 } };
        target = [
          '--import',
          'tsx',
          join(here, row.id === 'bare-dispatch' ? 'bare-dispatch.ts' : 'bare-proxy.ts'),
        ];
        childEnv = { ...env, UPSTREAM: upstream.url, PORT: String(port) };
      } else {
        const gateway = await (row as GatewayRow).setup(fixtures);
        setup = gateway;
        const file = writeConfig(dir, row.id, rowConfig(port, upstream.url, gateway.config));
        target = [main, 'start', '--config', file];
      }
      const out = join(dir, `callgrind.${row.id}`);
      for (const f of readdirSync(dir)) if (f.startsWith(`callgrind.${row.id}.`)) rmSync(join(dir, f));
      const child = spawn(
        'valgrind',
        [
          '--tool=callgrind',
          '--instr-atstart=no',
          `--callgrind-out-file=${out}.%p`,
          process.execPath,
          ...values['node-args'].split(' ').filter((a) => a !== ''),
          ...(setup.nodeArgs ?? []),
          ...target,
        ],
        { env: childEnv, stdio: ['ignore', 'ignore', 'ignore'] },
      );
      const pool = new Pool(`http://127.0.0.1:${port}`, { connections: Number(values.connections) });
      try {
        await waitFor(
          row.id,
          async () => {
            try {
              return (await send(pool, setup.load, 1, 1)) === 0;
            } catch {
              return false;
            }
          },
          120_000,
        );
        const connections = Number(values.connections);
        await send(pool, setup.load, Number(values.warmup), connections);
        await callgrind(child.pid!, '-i', 'on');
        await callgrind(child.pid!, '-z');
        const requests = Number(values.requests);
        const failed = await send(pool, setup.load, requests, connections);
        await callgrind(child.pid!, '-d');
        // `-d` writes <out>.<pid>.1 (the file without a suffix is written at exit)
        const dump = readdirSync(dir).find((f) => f.startsWith(`callgrind.${row.id}.${child.pid!}.`));
        const text = dump === undefined ? '' : readFileSync(join(dir, dump), 'utf8');
        if (values.keep !== undefined && dump !== undefined) {
          mkdirSync(values.keep, { recursive: true });
          copyFileSync(join(dir, dump), join(values.keep, `${row.id}-${child.pid!}.callgrind`));
        }
        const total = Number(/^(?:totals|summary): (\d+)/m.exec(text)?.[1] ?? NaN);
        lines.push(
          `${row.id}: ${Math.round(total / requests).toLocaleString('en')} instructions/request` +
            ` (${requests} requests, ${connections} connections${failed ? `, ${failed} unexpected statuses` : ''})`,
        );
        console.log(lines.at(-1));
      } finally {
        await pool.close();
        child.kill('SIGKILL');
      }
    }
  } finally {
    await upstream.service.stop();
    await fixtures?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`icount failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

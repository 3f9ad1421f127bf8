// Profiles one benchmark row's gateway under wrk load with `node --cpu-prof` and prints the
// top self-time functions. Usage:
//   node --import tsx bench/profile.ts [--row plain] [--duration 10] [--connections 50] [--boost 20] [--alt-main FILE] [--no-build]
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderSummary, type Profile } from './cpuprofile-summary.js';
import { benchKek, createFixtures, KEK_ENV } from './lib/fixtures.js';
import { ORDERS_SPEC, startBenchUpstream, startRowGateway } from './lib/stack.js';
import { writeLoadScript } from './lib/load-script.js';
import { runCommand, setNiceness } from './lib/process.js';
import { runWrk } from './lib/wrk.js';
import { ROWS } from './rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values } = parseArgs({
  options: {
    row: { type: 'string', default: 'plain' },
    duration: { type: 'string', default: '10' },
    connections: { type: 'string', default: '50' },
    top: { type: 'string', default: '25' },
    boost: { type: 'string', default: '0' },
    'alt-main': { type: 'string' },
    'no-build': { type: 'boolean', default: false },
  },
});
setNiceness(-Number(values.boost));

async function main(): Promise<void> {
  const row = ROWS.find((r) => r.id === values.row);
  if (row === undefined || row.kind !== 'gateway') throw new Error(`no gateway row "${values.row}"`);
  const main = values['alt-main'] ?? join(root, 'dist', 'cli', 'main.js');
  if (!values['no-build']) await runCommand('npm', ['run', 'build'], { cwd: root, allowFailure: true });
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-profile-'));
  const env = { ...process.env, [KEK_ENV]: benchKek(), NODE_ENV: 'production' };
  const upstream = await startBenchUpstream(dir);
  let fixtures: ReturnType<typeof createFixtures> | undefined;
  try {
    fixtures = createFixtures({ dir, upstreamUrl: upstream.url, specFile: ORDERS_SPEC, main, env });
    const setup = await row.setup(fixtures);
    const profiles = join(dir, 'profiles');
    mkdirSync(profiles);
    const started = Date.now();
    const gateway = await startRowGateway({
      name: row.id,
      main,
      setup,
      upstreamUrl: upstream.url,
      dir,
      env,
      nodeArgs: ['--cpu-prof', `--cpu-prof-dir=${profiles}`],
    });
    const script = writeLoadScript(dir, row.id, setup.load);
    const url = gateway.url + setup.load.path;
    const connections = Number(values.connections);
    await runWrk({ url, threads: 1, connections, durationSec: 2, script });
    const skipMs = Date.now() - started;
    const run = await runWrk({ url, threads: 1, connections, durationSec: Number(values.duration), script });
    await gateway.service.stop();
    const written = readdirSync(profiles).filter((f) => f.endsWith('.cpuprofile'));
    if (written.length === 0)
      throw new Error('no .cpuprofile written (did the gateway exit cleanly on SIGTERM?)');
    const text = [
      `row ${row.id}: ${Math.round(run.rps)} req/s under profiling (profiling itself slows the process), p99 ${run.p99Ms.toFixed(2)} ms, ${run.non2xx} non-2xx responses`,
      '',
      ...written.map((f) =>
        renderSummary(
          JSON.parse(readFileSync(join(profiles, f), 'utf8')) as Profile,
          Number(values.top),
          skipMs,
        ),
      ),
    ].join('\n');
    mkdirSync(join(here, 'results'), { recursive: true });
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const out = join(here, 'results', `profile-${row.id}-${stamp}.md`);
    writeFileSync(out, `${text}\n`);
    for (const f of written)
      writeFileSync(
        join(here, 'results', `profile-${row.id}-${stamp}-${f}`),
        readFileSync(join(profiles, f)),
      );
    console.log(`${text}\n\nwritten to ${out}`);
  } finally {
    await upstream.service.stop();
    await fixtures?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`profile failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

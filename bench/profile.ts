// Profiles one benchmark row's gateway under wrk load with `node --cpu-prof` and prints the
// top self-time functions. Usage:
//   node --import tsx bench/profile.ts [--row plain] [--duration 10] [--connections 50] [--boost 20] [--alt-main FILE] [--no-build]
import { mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { renderSummary, type Profile } from './cpuprofile-summary.js';
import { withRowGateway } from './lib/one-row.js';
import { runCommand, setNiceness } from './lib/process.js';

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
  const main = values['alt-main'] ?? join(root, 'dist', 'cli', 'main.js');
  if (!values['no-build']) await runCommand('npm', ['run', 'build'], { cwd: root, allowFailure: true });
  const profilesIn = (dir: string) => join(dir, 'profiles');
  const connections = Number(values.connections);
  await withRowGateway(
    {
      rowId: values.row,
      main,
      tag: 'profile',
      nodeArgs: (dir) => {
        mkdirSync(profilesIn(dir));
        return ['--cpu-prof', `--cpu-prof-dir=${profilesIn(dir)}`];
      },
    },
    async ({ row, gateway, dir, startedAt, load }) => {
      const profiles = profilesIn(dir);
      await load(2, connections);
      const skipMs = Date.now() - startedAt;
      const run = await load(Number(values.duration), connections);
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
    },
  );
}

main().catch((error: unknown) => {
  console.error(`profile failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

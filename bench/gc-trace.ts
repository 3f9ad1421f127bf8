// A/B runs of one gateway row under different node flags or builds, with what the garbage
// collector did in each measured window: scavenges and mark-compacts (count, mean and longest
// pause, from `--trace-gc`) beside throughput, p99 and CPU per request. This is how the fifth
// session found that undici's per-request timers set the plain proxy's p99 (bench/RESULTS.md).
// Usage:
//   node --import tsx bench/gc-trace.ts [--row plain] [--rounds 4] [--duration 5]
//     ["--variants= ;--single-threaded-gc"] ["--mains=dist/cli/main.js;/tmp/alt/dist/cli/main.js"]
//     [--pin] [--no-trace]
// Each variant (node flags, `;`-separated) runs with each main; all run side by side, rounds
// interleaved. `--pin` puts the gateways on CPU 1 and wrk and the upstream on CPU 0 (taskset),
// which removes the scheduler from the comparison. Asserts nothing; prints one line per run.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { cpuSeconds, processTree } from './lib/cpu.js';
import { benchKek, createFixtures, KEK_ENV } from './lib/fixtures.js';
import type { RunningGateway } from './lib/gateway.js';
import { writeLoadScript } from './lib/load-script.js';
import { setNiceness } from './lib/process.js';
import { ORDERS_SPEC, startBenchUpstream, startRowGateway } from './lib/stack.js';
import { runWrk } from './lib/wrk.js';
import { ROWS } from './rows.js';

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');
const { values } = parseArgs({
  options: {
    row: { type: 'string', default: 'plain' },
    rounds: { type: 'string', default: '4' },
    duration: { type: 'string', default: '5' },
    variants: { type: 'string', default: '' },
    mains: { type: 'string', default: join(root, 'dist', 'cli', 'main.js') },
    pin: { type: 'boolean', default: false },
    'no-trace': { type: 'boolean', default: false },
  },
});
setNiceness(-20);

function pin(pid: number, cpu: number): void {
  if (values.pin) execFileSync('taskset', ['-a', '-p', '-c', String(cpu), String(pid)], { stdio: 'ignore' });
}

interface Pauses {
  count: number;
  meanMs: number;
  maxMs: number;
}

/** Scavenge and Mark-Compact pauses in a slice of `--trace-gc` output. */
export function gcPauses(trace: string, kind: 'Scavenge' | 'Mark-Compact'): Pauses {
  const pauses = [...trace.matchAll(new RegExp(`${kind}[^,]*, ([\\d.]+) / [\\d.]+ ms`, 'g'))].map((m) =>
    Number(m[1]),
  );
  const total = pauses.reduce((a, b) => a + b, 0);
  return {
    count: pauses.length,
    meanMs: pauses.length === 0 ? 0 : total / pauses.length,
    maxMs: Math.max(0, ...pauses),
  };
}

async function main(): Promise<void> {
  const row = ROWS.find((r) => r.id === values.row);
  if (row === undefined || row.kind !== 'gateway') throw new Error(`no gateway row "${values.row}"`);
  const variants = values.variants.split(';').map((v) => v.trim().split(/\s+/).filter(Boolean));
  const mains = values.mains.split(';').map((m) => resolve(m));
  pin(process.pid, 0);
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-gc-trace-'));
  const env = { ...process.env, [KEK_ENV]: benchKek(), NODE_ENV: 'production' };
  const upstream = await startBenchUpstream(dir);
  pin(upstream.service.pid, 0);
  const fixtures = createFixtures({
    dir,
    upstreamUrl: upstream.url,
    specFile: ORDERS_SPEC,
    main: mains[0]!,
    env,
  });
  const runs: { name: string; gateway: RunningGateway; log: string; script: string }[] = [];
  try {
    const setup = await row.setup(fixtures);
    for (const main of mains) {
      for (const flags of variants) {
        const id = `g${runs.length}`;
        const gateway = await startRowGateway({
          name: id,
          main,
          setup,
          upstreamUrl: upstream.url,
          dir,
          env,
          nodeArgs: [...(values['no-trace'] ? [] : ['--trace-gc']), ...flags],
        });
        for (const pid of processTree(gateway.service.pid)) pin(pid, 1);
        const name = `${mains.length > 1 ? `${main} ` : ''}${flags.join(' ') || '(default flags)'}`;
        runs.push({
          name,
          gateway,
          log: join(dir, `${id}.log`),
          script: writeLoadScript(dir, id, setup.load),
        });
      }
    }
    const wrk = (run: (typeof runs)[number], durationSec: number) =>
      runWrk({
        url: run.gateway.url + setup.load.path,
        threads: 1,
        connections: 50,
        durationSec,
        script: run.script,
      });
    for (const run of runs) await wrk(run, 2);
    for (let round = 0; round < Number(values.rounds); round++) {
      for (const run of runs) {
        const pids = processTree(run.gateway.service.pid);
        const logBefore = readFileSync(run.log, 'utf8').length;
        const cpuBefore = cpuSeconds(pids);
        const result = await wrk(run, Number(values.duration));
        const cpu = cpuSeconds(pids) - cpuBefore;
        const trace = readFileSync(run.log, 'utf8').slice(logBefore);
        const scavenges = gcPauses(trace, 'Scavenge');
        const majors = gcPauses(trace, 'Mark-Compact');
        const gc = values['no-trace']
          ? ''
          : `  scavenges ${scavenges.count} (mean ${scavenges.meanMs.toFixed(2)}, max ${scavenges.maxMs.toFixed(2)} ms)` +
            `  mark-compacts ${majors.count} (max ${majors.maxMs.toFixed(2)} ms)`;
        console.log(
          `round ${round + 1} ${run.name.padEnd(28)} ${Math.round(result.rps).toString().padStart(6)} req/s  p50 ${result.p50Ms.toFixed(2)}  p99 ${result.p99Ms.toFixed(2)} ms  ${((cpu * 1e6) / Math.max(1, result.requests)).toFixed(1)} µs/req${gc}`,
        );
      }
    }
  } finally {
    for (const run of runs) await run.gateway.service.stop();
    await upstream.service.stop();
    await fixtures.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  console.error(`gc-trace failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

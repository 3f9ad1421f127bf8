// `npm run bench`: the upstream, nginx and every Portcullis row measured side by side with wrk,
// in interleaved rounds, medians reported. See docs/benchmarks.md.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { setTimeout as sleep } from 'node:timers/promises';
import { cpuSeconds, processTree } from './lib/cpu.js';
import { benchKek, createFixtures, KEK_ENV } from './lib/fixtures.js';
import { ORDERS_SPEC, rowConfig, startBenchUpstream } from './lib/stack.js';
import { probeStatus, startGateway, validateConfig, writeConfig } from './lib/gateway.js';
import { startNginx } from './lib/nginx.js';
import {
  freePort,
  hasExecutable,
  runCommand,
  setNiceness,
  startService,
  waitFor,
  type Service,
} from './lib/process.js';
import { commandDelta, type BenchRedis } from './lib/redis.js';
import { coreTargets, renderRounds, renderTable, type RowResult, type Sample } from './lib/report.js';
import { runWrk } from './lib/wrk.js';
import { firstRequest, writeLoadScript } from './lib/load-script.js';
import { ROWS, type GatewayRow, type Load } from './rows.js';

const USAGE = `Usage: npm run bench -- [options]
  --rounds N         interleaved rounds per row, median reported (default 3)
  --duration S       seconds per wrk run (default 6)
  --warmup S         unmeasured seconds of load per row before the rounds (default 2)
  --connections N    wrk connections (default 50)
  --boost N          run servers and wrk under nice -n -N (root only): shields the run from other work
  --only a,b         only these rows (ids: ${ROWS.map((r) => r.id).join(', ')})
  --skip a,b         leave these rows out
  --all              also the diagnostic rows (${ROWS.filter((r) => 'extra' in r && r.extra === true)
    .map((r) => r.id)
    .join(', ')})
  --alt-main FILE    a second build's cli/main.js for the plain-alt row (A/B a change: --only plain,plain-alt)
  --alt-of ROW       the row whose setup plain-alt measures (default plain)
  --no-build         use the existing dist/ (default: npm run build first)
  --keep             keep the temp directory (configs, logs)`;

const here = dirname(fileURLToPath(import.meta.url));
const root = resolve(here, '..');

const { values } = parseArgs({
  options: {
    rounds: { type: 'string', default: '3' },
    duration: { type: 'string', default: '6' },
    warmup: { type: 'string', default: '2' },
    boost: { type: 'string', default: '0' },
    connections: { type: 'string', default: '50' },
    only: { type: 'string' },
    skip: { type: 'string' },
    'no-build': { type: 'boolean', default: false },
    keep: { type: 'boolean', default: false },
    all: { type: 'boolean', default: false },
    'alt-main': { type: 'string' },
    'alt-of': { type: 'string', default: 'plain' },
    help: { type: 'boolean', default: false },
  },
});
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const rounds = Number(values.rounds);
const warmupSec = Number(values.warmup);
const niceness = -Number(values.boost);
setNiceness(niceness);
const durationSec = Number(values.duration);
const connections = Number(values.connections);
const only = values.only?.split(',');
const skip = values.skip?.split(',') ?? [];
const altOf = ROWS.find((r) => r.id === values['alt-of']);
if (altOf === undefined || altOf.kind !== 'gateway')
  throw new Error(`--alt-of: no gateway row "${values['alt-of']}"`);
const rows = ROWS.filter(
  (r) =>
    (only === undefined ? values.all || !('extra' in r && r.extra === true) : only.includes(r.id)) &&
    !skip.includes(r.id),
).map((r) =>
  // plain-alt measures the --alt-of row's setup with the other build.
  r.kind === 'gateway' && r.altMain === true && altOf.id !== 'plain'
    ? {
        ...r,
        label: `${altOf.label}, the build given with --alt-main`,
        compareTo: altOf.id,
        setup: altOf.setup,
      }
    : r,
);

interface Target {
  readonly result: RowResult & { samples: Sample[]; notes: string[] };
  readonly url: string;
  readonly load: Load;
  /** wrk Lua script of the load. */
  readonly script: string;
  readonly processRoot: number;
  readonly redis?: BenchRedis;
}

async function checkTools(): Promise<void> {
  const missing: string[] = [];
  for (const tool of ['wrk', 'nginx']) if ((await hasExecutable(tool)) === undefined) missing.push(tool);
  if (missing.length > 0) {
    console.error(
      `missing: ${missing.join(', ')}. Install them first (Debian/Ubuntu):\n  sudo apt-get update && sudo apt-get install -y wrk nginx\n` +
        'redis-server is needed for the Redis rate-limit row: sudo apt-get install -y redis-server',
    );
    process.exit(1);
  }
}

function versionLine(command: string, args: string[]): Promise<string> {
  return runCommand(command, args, { allowFailure: true }).then(
    (r) => (r.stdout + r.stderr).trim().split('\n')[0] ?? '',
  );
}

const startedAt = Date.now();

async function main(): Promise<void> {
  await checkTools();
  const startLoad = loadavg()[0] as number;
  if (startLoad > 1.5 * cpus().length) {
    console.warn(
      `warning: load average ${startLoad.toFixed(1)} on ${cpus().length} CPUs: other work will distort the numbers`,
    );
  }
  const hasRedis = (await hasExecutable('redis-server')) !== undefined;
  const main = join(root, 'dist', 'cli', 'main.js');
  if (!values['no-build']) {
    console.log('building dist/ (npm run build) ...');
    const build = await runCommand('npm', ['run', 'build'], { cwd: root, allowFailure: true });
    if (build.code !== 0) {
      if (!existsSync(main)) throw new Error(`build failed:\n${build.stdout}${build.stderr}`);
      console.warn(
        `warning: npm run build reported errors (type errors elsewhere?); using the emitted dist/\n${build.stdout.slice(-800)}`,
      );
    }
  }
  const dir = mkdtempSync(join(tmpdir(), 'portcullis-bench-'));
  const env = { ...process.env, [KEK_ENV]: benchKek(), NODE_ENV: 'production' };
  const services: Service[] = [];
  const targets: Target[] = [];
  const results: RowResult[] = [];
  let fixtures: ReturnType<typeof createFixtures> | undefined;

  const cleanup = async () => {
    for (const s of services.reverse()) await s.stop().catch(() => undefined);
    await fixtures?.close().catch(() => undefined);
    if (!values.keep) rmSync(dir, { recursive: true, force: true });
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    const upstream = await startBenchUpstream(dir);
    services.push(upstream.service);
    const upstreamUrl = upstream.url;
    fixtures = createFixtures({ dir, upstreamUrl, specFile: ORDERS_SPEC, main, env });

    for (const row of rows) {
      const result = {
        id: row.id,
        label: row.label,
        ...(row.kind === 'gateway' && row.compareTo !== undefined ? { compareTo: row.compareTo } : {}),
        ...(row.kind === 'gateway' && row.target !== undefined ? { target: row.target } : {}),
        samples: [] as Sample[],
        notes: [] as string[],
      } as Target['result'];
      if (row.kind === 'direct') {
        results.push(result);
        const load = { path: '/items/42', expectStatus: 200 };
        targets.push({
          result,
          url: upstreamUrl,
          load,
          script: writeLoadScript(dir, row.id, load),
          processRoot: upstream.service.pid,
        });
        continue;
      }
      if (row.kind === 'nginx') {
        const port = await freePort();
        const nginx = startNginx(join(here, 'nginx.conf'), join(dir, 'nginx'), port, upstream.port);
        services.push(nginx);
        const url = `http://127.0.0.1:${port}`;
        await waitFor('nginx', async () => (await probeStatus(url, { path: '/items/42' })) === 200);
        results.push(result);
        const load = { path: '/items/42', expectStatus: 200 };
        targets.push({
          result,
          url,
          load,
          script: writeLoadScript(dir, row.id, load),
          processRoot: nginx.pid,
        });
        continue;
      }
      if (row.kind === 'bare') {
        const bare = startService(
          'bare-node',
          process.execPath,
          ['--import', 'tsx', join(here, row.id === 'bare-dispatch' ? 'bare-dispatch.ts' : 'bare-proxy.ts')],
          {
            logFile: join(dir, 'bare-node.log'),
            cwd: root,
            env: { ...process.env, UPSTREAM: upstreamUrl },
          },
        );
        services.push(bare);
        let port = 0;
        await waitFor('bare proxy', async () => {
          const line = bare.stdout().split('\n')[0] ?? '';
          if (line !== '') port = (JSON.parse(line) as { port: number }).port;
          return port !== 0;
        });
        results.push(result);
        const load = { path: '/items/42', expectStatus: 200 };
        targets.push({
          result,
          url: `http://127.0.0.1:${port}`,
          load,
          script: writeLoadScript(dir, row.id, load),
          processRoot: bare.pid,
        });
        continue;
      }
      if (row.kind !== 'gateway') continue;
      const target = await prepareGateway(row, result, {
        dir,
        main,
        env,
        upstreamUrl,
        hasRedis,
        fixtures,
        services,
      });
      results.push(result);
      if (target !== undefined) targets.push(target);
    }

    // JIT warm-up, not measured.
    for (const t of targets) {
      await runWrk({
        url: t.url + t.load.path,
        threads: 1,
        connections,
        durationSec: warmupSec,
        script: t.script,
      }).catch((error: unknown) =>
        t.result.notes.push(`warm-up failed: ${(error as Error).message.split('\n')[0]}`),
      );
    }
    const loadBefore = loadavg()[0] as number;
    for (let round = 0; round < rounds; round++) {
      // Rotate the order each round so no row always runs right after the same neighbour.
      const order = targets.map((_, i) => targets[(i + round) % targets.length] as Target);
      for (const t of order) {
        let sample: Sample;
        try {
          sample = await measure(t);
        } catch (error) {
          // A row whose server died must not take the other rows' numbers with it.
          const reason = (error as Error).message.split('\n')[0] ?? String(error);
          t.result.notes.push(`round ${round + 1} failed: ${reason}`);
          console.log(`round ${round + 1}/${rounds} ${t.result.id}: failed: ${reason}`);
          continue;
        }
        t.result.samples.push(sample);
        console.log(
          `round ${round + 1}/${rounds} ${t.result.id.padEnd(18)} ${Math.round(sample.rps).toString().padStart(6)} req/s  p99 ${sample.p99Ms.toFixed(2)} ms  ${((sample.cpuSec * 1e6) / Math.max(1, sample.requests)).toFixed(0)} µs/req`,
        );
        await sleep(300);
      }
    }

    // Round trips vs commands run inside scripts: a short extra run watched with MONITOR.
    for (const t of targets) {
      if (t.redis === undefined) continue;
      let watched;
      try {
        watched = await t.redis.monitor(() =>
          runWrk({ url: t.url + t.load.path, threads: 1, connections, durationSec: 1, script: t.script }),
        );
      } catch (error) {
        t.result.notes.push(`MONITOR sample failed: ${(error as Error).message.split('\n')[0]}`);
        continue;
      }
      const requests = watched.result.requests;
      const per = (calls: Record<string, number>) =>
        Object.entries(calls)
          .filter(([name]) => name !== 'info')
          .map(([name, n]) => `${name} ${(n / Math.max(1, requests)).toFixed(3)}`)
          .join(', ') || 'none';
      t.result.notes.push(
        `MONITOR sample: round trips/request ${per(watched.topLevel)}; inside scripts ${per(watched.inScripts)}`,
      );
    }

    const table = renderTable(results);
    const stamp = new Date().toISOString().replace(/[:.]/g, '-');
    const command = `npm run bench -- --rounds ${rounds} --duration ${durationSec} --connections ${connections}${niceness !== 0 ? ` --boost ${-niceness}` : ''}${only ? ` --only ${only.join(',')}` : ''}${skip.length ? ` --skip ${skip.join(',')}` : ''}`;
    const environment = [
      `- date: ${new Date().toISOString()}`,
      `- command: \`${command}\``,
      `- load: \`wrk -t1 -c${connections} -d${durationSec}s --latency\`, ${rounds} interleaved rounds, median per row; ${warmupSec} s warm-up per row first`,
      `- load average (1 min) before / after the measured rounds: ${loadBefore.toFixed(2)} / ${(loadavg()[0] as number).toFixed(2)}${busyWarning(loadBefore)}`,
      `- machine: ${cpus().length} × ${cpus()[0]?.model ?? 'unknown CPU'}; ${process.version}; ${await versionLine('nginx', ['-v'])}; ${await versionLine('wrk', ['-v'])}${hasRedis ? `; ${await versionLine('redis-server', ['--version'])}` : ''}`,
      "- CPU µs/req: user+sys of the row's server processes (gateway and its cluster workers, nginx master+worker, or the upstream for the direct row) over the measured window, divided by requests",
    ].join('\n');
    const targetLines = coreTargets(results)
      .map((l) => `- ${l}`)
      .join('\n');
    const report = `# Benchmark run ${stamp}\n\n${environment}\n\n${table}\n\nCore targets (issue 2):\n\n${targetLines}\n\n## Rounds\n\n${renderRounds(results)}\n`;
    mkdirSync(join(here, 'results'), { recursive: true });
    const out = join(here, 'results', `${stamp}.md`);
    writeFileSync(out, report);
    writeFileSync(out.replace(/\.md$/, '.json'), `${JSON.stringify({ environment, results }, null, 2)}\n`);
    const elapsed = ((Date.now() - startedAt) / 1000).toFixed(0);
    console.log(
      `\n${environment}\n\n${table}\n\n${targetLines}\n\nwritten to ${out} (whole run ${elapsed} s)`,
    );
  } finally {
    await cleanup();
  }
}

/** Other work on this 2-core machine distorts absolute numbers (ratios suffer less). */
function busyWarning(load: number): string {
  return load > 1.5 * cpus().length
    ? ' — WARNING: the machine was busy with other work; absolute numbers are unreliable'
    : '';
}

async function measure(t: Target): Promise<Sample> {
  const pids = processTree(t.processRoot);
  const redisBefore = t.redis === undefined ? undefined : await t.redis.commandCalls();
  const cpuBefore = cpuSeconds(pids);
  const run = await runWrk({
    url: t.url + t.load.path,
    threads: 1,
    connections,
    durationSec,
    script: t.script,
  });
  const cpuAfter = cpuSeconds(pids);
  const redisAfter = t.redis === undefined ? undefined : await t.redis.commandCalls();
  // wrk counts only non-2xx/3xx; for a row that expects 401 every response is "non-2xx".
  const unexpected = t.load.expectStatus < 400 ? run.non2xx : run.requests - run.non2xx;
  return {
    rps: run.rps,
    p50Ms: run.p50Ms,
    p99Ms: run.p99Ms,
    requests: run.requests,
    cpuSec: cpuAfter - cpuBefore,
    unexpected,
    socketErrors: run.socketErrors,
    ...(redisBefore === undefined || redisAfter === undefined
      ? {}
      : { redisCommands: commandDelta(redisBefore, redisAfter) }),
  };
}

async function prepareGateway(
  row: GatewayRow,
  result: Target['result'],
  ctx: {
    dir: string;
    main: string;
    env: NodeJS.ProcessEnv;
    upstreamUrl: string;
    hasRedis: boolean;
    fixtures: ReturnType<typeof createFixtures>;
    services: Service[];
  },
): Promise<Target | undefined> {
  const skipped = (why: string) => {
    Object.assign(result, { skipped: why });
    console.log(`skip ${row.id}: ${why}`);
    return undefined;
  };
  const main = row.altMain === true ? values['alt-main'] : ctx.main;
  if (main === undefined) return skipped('needs --alt-main FILE');
  if (row.id === 'rl-redis' && !ctx.hasRedis)
    return skipped('redis-server not installed (apt-get install -y redis-server)');
  let setup;
  try {
    setup = await row.setup(ctx.fixtures);
  } catch (error) {
    return skipped(`fixture failed: ${(error as Error).message.split('\n')[0]}`);
  }
  const port = await freePort();
  const config = rowConfig(port, ctx.upstreamUrl, setup.config);
  const file = writeConfig(ctx.dir, row.id, config);
  const invalid = await validateConfig(main, file, ctx.env);
  if (invalid !== undefined) return skipped(`config not accepted yet: ${invalid}`);
  let gateway;
  try {
    gateway = await startGateway({
      name: row.id,
      main,
      configFile: file,
      port,
      dir: ctx.dir,
      env: ctx.env,
      ready: { ...firstRequest(setup.load), expectStatus: setup.load.expectStatus },
      ...(setup.nodeArgs === undefined ? {} : { nodeArgs: setup.nodeArgs }),
    });
  } catch (error) {
    return skipped(`gateway did not serve the row's request: ${(error as Error).message}`);
  }
  ctx.services.push(gateway.service);
  if (setup.check !== undefined) {
    const status = await probeStatus(gateway.url, setup.check);
    if (status !== setup.check.expectStatus) {
      return skipped(
        `feature not enforced yet: check request got ${status}, expected ${setup.check.expectStatus}`,
      );
    }
  }
  const redis = setup.redis === true ? await ctx.fixtures.redis() : undefined;
  return {
    result,
    url: gateway.url,
    load: setup.load,
    script: writeLoadScript(ctx.dir, row.id, setup.load),
    processRoot: gateway.service.pid,
    ...(redis === undefined ? {} : { redis }),
  };
}

main().catch((error: unknown) => {
  console.error(`bench failed: ${(error as Error).stack ?? String(error)}`);
  process.exit(1);
});

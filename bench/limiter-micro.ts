/**
 * Micro-benchmark of the rate-limit stage as the bench rows 'rl-memory' and 'rl-redis' configure
 * it (one GCRA limit keyed by `ip`, never refusing). Run: `node --import tsx bench/limiter-micro.ts
 * [memory|redis]`.
 *
 * - memory: the stage's run() N times on fresh request contexts, minus the cost of making the
 *   contexts; CPU µs per request (median of rounds).
 * - redis: a private redis-server on a free port; a closed loop of C concurrent decisions (like
 *   wrk's connections: each answer starts the next decision); this process's CPU per decision,
 *   redis-server's CPU per decision (it shares the cores in the bench) and the commands it ran.
 * Asserts nothing.
 */
import { readFileSync } from 'node:fs';
import { Metrics } from '../src/observe/metrics.js';
import stage from '../src/stages/traffic/rate-limit.js';
import type { AccessStage } from '../src/pipeline/stage.js';
import type { RequestContext } from '../src/pipeline/context.js';
import type { BuildContext } from '../src/pipeline/build-context.js';
import type { Services } from '../src/pipeline/services.js';
import pino from 'pino';
import { startRedis } from '../test/helpers/redis.js';

const limits = [{ name: 'bench', rate: 100_000_000, per: '1s', key: ['ip'] }];
const which = process.argv[2] ?? 'all';

function services(): Services & { close(): Promise<void> } {
  const closers: (() => Promise<void> | void)[] = [];
  return {
    logger: pino({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map(),
    onClose: (fn) => closers.push(fn),
    close: async () => {
      for (const fn of closers.reverse()) await fn();
    },
  };
}

async function build(svc: Services, counters: Record<string, unknown>): Promise<AccessStage> {
  const route = { name: 'bench', match: { pathPrefix: '/' }, upstream: 'u' };
  const ctx = {
    file: 'bench.yaml',
    configDir: '/tmp',
    config: { version: 1, listeners: [], upstreams: {}, routes: [route], counters },
    route,
    routeIndex: 0,
    pointer: '/routes/0',
    services: svc,
    fail(message: string): never {
      throw new Error(message);
    },
    warn: () => undefined,
    resolvePath: (p: string) => p,
    memo: new Map(),
  } as unknown as BuildContext;
  const built = await stage.build(limits as never, ctx);
  if (built === undefined) throw new Error('stage not built');
  return built as AccessStage;
}

/** A request context as cheap as the runner's: only what the stage reads or writes. */
function context(ip: string): RequestContext {
  return {
    clientIp: ip,
    identity: undefined,
    route: { name: 'bench' },
    responseHeaders: {},
    logFields: {},
  } as unknown as RequestContext;
}

function cpu(): number {
  const u = process.cpuUsage();
  return u.user + u.system;
}

function sys(): number {
  return process.cpuUsage().system;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] as number;
}

async function memory(): Promise<void> {
  const svc = services();
  const s = await build(svc, { type: 'memory' });
  const n = 200_000;
  let sink = 0;
  const empty = (): void => {
    for (let i = 0; i < n; i++) sink += Object.keys(context('127.0.0.1').responseHeaders).length;
  };
  const staged = (): void => {
    for (let i = 0; i < n; i++) {
      const ctx = context('127.0.0.1');
      s.run(ctx);
      sink += Object.keys(ctx.responseHeaders).length;
    }
  };
  for (let w = 0; w < 3; w++) {
    empty();
    staged();
  }
  const base: number[] = [];
  const run: number[] = [];
  for (let r = 0; r < 9; r++) {
    let t = cpu();
    empty();
    base.push((cpu() - t) / n);
    t = cpu();
    staged();
    run.push((cpu() - t) / n);
  }
  const b = median(base);
  const m = median(run);
  const probe = context('127.0.0.1');
  s.run(probe);
  console.log(
    `memory: stage ${(m - b).toFixed(3)} µs/request (run+ctx ${m.toFixed(3)}, ctx alone ${b.toFixed(3)}); sink ${sink > 0}`,
  );
  console.log(`  headers: ${JSON.stringify(probe.responseHeaders)}`);
  await svc.close();
}

function ticks(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.split(' ') ?? [];
  // utime, stime are fields 14 and 15 (1-based); after "pid (comm) " they are at index 11, 12
  return Number(fields[11]) + Number(fields[12]);
}

async function redis(): Promise<void> {
  const server = await startRedis();
  const info = await server.cli('info', 'server');
  const pid = Number(/process_id:(\d+)/.exec(info)?.[1]);
  const svc = services();
  const s = await build(svc, { type: 'redis', url: server.url, commandTimeoutMs: 5000 });
  const concurrency = Number(process.env.CONCURRENCY ?? 50);
  const n = 100_000;
  const ips = Array.from({ length: concurrency }, (_, i) => `10.0.${i >> 8}.${i & 255}`);

  const loop = (total: number): Promise<void> =>
    new Promise((resolve, reject) => {
      let started = 0;
      let finished = 0;
      const next = (slot: number): void => {
        if (started >= total) return;
        started++;
        const ctx = context(ips[slot] as string);
        (s.run(ctx) as Promise<unknown>).then(() => {
          finished++;
          if (finished === total) resolve();
          else next(slot);
        }, reject);
      };
      for (let i = 0; i < concurrency; i++) next(i);
    });

  await new Promise((resolve) => setTimeout(resolve, 200));
  await loop(20_000);
  const own: number[] = [];
  const kernel: number[] = [];
  const theirs: number[] = [];
  const wall: number[] = [];
  await server.cli('config', 'resetstat');
  for (let r = 0; r < 5; r++) {
    const t = cpu();
    const st = sys();
    const k = ticks(pid);
    const w = process.hrtime.bigint();
    await loop(n);
    wall.push(Number(process.hrtime.bigint() - w) / 1000 / n);
    own.push((cpu() - t) / n);
    kernel.push((sys() - st) / n);
    theirs.push(((ticks(pid) - k) * 10_000) / n); // 100 ticks per second
  }
  const stats = await server.cli('info', 'commandstats');
  const calls = [...stats.matchAll(/cmdstat_(\w+):calls=(\d+),usec=\d+,usec_per_call=([\d.]+)/g)]
    .map((m) => `${m[1]}=${m[2]} (${m[3]} µs/call)`)
    .join(' ');
  console.log(
    `redis (C=${concurrency}): gateway ${median(own).toFixed(2)} µs/decision (system ${median(kernel).toFixed(2)}), redis-server ${median(theirs).toFixed(2)} µs/decision, wall ${median(wall).toFixed(2)} µs/decision`,
  );
  console.log(`  commands over ${5 * n} decisions: ${calls}`);
  const probe = context('10.9.9.9');
  await s.run(probe);
  console.log(`  headers: ${JSON.stringify(probe.responseHeaders)}`);
  await svc.close();
  await server.stop();
}

if (which === 'all' || which === 'memory') await memory();
if (which === 'all' || which === 'redis') await redis();

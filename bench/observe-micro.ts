/**
 * Micro-benchmark of the per-request observability cost: the log-phase stages (metrics, access
 * log) built through the real route-table path, and the runner's in-flight gauge / denial counter.
 * Run: `node --import tsx bench/observe-micro.ts`. Prints the median CPU time per operation over
 * several rounds; asserts nothing.
 *
 * A/B in one process: `OBSERVE_BASE=/path/to/other/checkout` also builds the same stages from
 * that checkout (e.g. a `git worktree` of the previous commit, with `node_modules` linked) and
 * measures both, round by round interleaved.
 */
import { randomUUID } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as ConfigLoad from '../src/config/load.js';
import type * as LoggerModule from '../src/observe/logger.js';
import type * as MetricsModule from '../src/observe/metrics.js';
import type * as RouteTableModule from '../src/pipeline/route-table.js';

interface Built {
  readonly label: string;
  readonly metricsStage: (ctx: unknown, summary: unknown) => void;
  readonly logStage: (ctx: unknown, summary: unknown) => void;
  readonly inFlight: () => void;
  readonly denial: () => void;
  readonly scrape: () => Promise<string>;
}

const CONFIG = `
version: 1
listeners: [{ host: 127.0.0.1, port: 0 }]
logging: { level: info, accessLog: true, destination: /dev/null }
upstreams: { up: { targets: [{ url: "http://127.0.0.1:9" }] } }
routes:
  - { name: bench, match: { pathPrefix: / }, upstream: up, public: true }
`;

async function build(root: string, label: string): Promise<Built> {
  const load = async <T>(path: string) => (await import(pathToFileURL(join(root, path)).href)) as T;
  const { loadConfigFile } = await load<typeof ConfigLoad>('src/config/load.ts');
  const { buildRouteTable } = await load<typeof RouteTableModule>('src/pipeline/route-table.ts');
  const { createLogger } = await load<typeof LoggerModule>('src/observe/logger.ts');
  const { Metrics } = await load<typeof MetricsModule>('src/observe/metrics.ts');
  const dir = mkdtempSync(join(tmpdir(), 'observe-micro-'));
  const file = join(dir, 'portcullis.yaml');
  writeFileSync(file, CONFIG);
  const loaded = await loadConfigFile(file);
  const logger = createLogger({ level: 'info', destination: '/dev/null' });
  const metrics = new Metrics();
  const services = { logger, metrics, shared: new Map<string, unknown>(), onClose() {} };
  const table = await buildRouteTable(loaded, services);
  const route = table.routes[0]!;
  const stage = (name: string) => {
    const found = route.log.find((s) => s.name === name);
    if (!found) throw new Error(`${label}: no ${name} stage (${route.log.map((s) => s.name).join(', ')})`);
    return (ctx: unknown, summary: unknown) => found.run(ctx as never, summary as never);
  };
  return {
    label,
    metricsStage: stage('observe.metrics'),
    logStage: stage('observe.access-log'),
    inFlight: () => {
      metrics.inFlight.inc();
      metrics.inFlight.dec();
    },
    denial: () => metrics.denials.inc({ stage: 'authn', code: 'unauthorized' }),
    scrape: () => metrics.registry.metrics(),
  };
}

/** A realistic finished request, shaped like the runner's context and summary. */
function request(i: number) {
  const ctx = {
    id: randomUUID(), // what the runner generates when the client sends none
    method: i % 10 === 0 ? 'POST' : 'GET',
    path: '/items/42',
    host: 'api.example.com',
    clientIp: '203.0.113.7',
    identity: undefined,
    logFields: {},
    upstreamTarget: 'http://127.0.0.1:8080',
  };
  const upstreamNs = BigInt(200_000 + (i % 7) * 130_000);
  const summary = {
    status: i % 20 === 0 ? 404 : 200,
    bytesSent: 812,
    bytesReceived: 0,
    gatewayNs: 61_000n,
    upstreamNs,
    totalNs: upstreamNs + 61_000n,
    aborted: false,
  };
  return { ctx, summary };
}

const SAMPLES = Array.from({ length: 64 }, (_, i) => request(i));
const ITERATIONS = Number(process.env.OBSERVE_ITERATIONS ?? 100_000);
const ROUNDS = 7;

type Case = (b: Built) => (i: number) => void;
const CASES: Record<string, Case> = {
  'observe.metrics stage': (b) => (i) => {
    const s = SAMPLES[i & 63]!;
    b.metricsStage(s.ctx, s.summary);
  },
  'observe.access-log stage': (b) => (i) => {
    const s = SAMPLES[i & 63]!;
    b.logStage(s.ctx, s.summary);
  },
  'inFlight inc+dec': (b) => () => b.inFlight(),
  'denials.inc': (b) => () => b.denial(),
};

/** Process CPU (main thread and the thread pool writing log batches) per operation. The loop
 * yields to the event loop every 256 operations, as a server would, so log writes complete. */
async function round(fn: (i: number) => void): Promise<number> {
  const start = process.cpuUsage();
  for (let i = 0; i < ITERATIONS;) {
    for (const end = i + 256; i < end; i++) fn(i);
    await new Promise(setImmediate);
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / ITERATIONS;
}

const builds = [await build(resolve(import.meta.dirname, '..'), 'this checkout')];
if (process.env.OBSERVE_BASE) builds.unshift(await build(resolve(process.env.OBSERVE_BASE), 'base'));

const only = process.env.OBSERVE_CASE;
for (const [name, make] of Object.entries(CASES)) {
  if (only && !name.includes(only)) continue;
  const fns = builds.map((b) => make(b));
  for (const fn of fns) await round(fn); // warm-up
  const results: number[][] = builds.map(() => []);
  for (let r = 0; r < ROUNDS; r++) {
    for (const [k, fn] of fns.entries()) results[k]!.push(await round(fn));
  }
  for (const [k, b] of builds.entries()) {
    const sorted = results[k]!.sort((x, y) => x - y);
    console.log(
      `${name.padEnd(26)} ${b.label.padEnd(14)} median ${sorted[ROUNDS >> 1]!.toFixed(0).padStart(6)} ns/op` +
        ` (min ${sorted[0]!.toFixed(0)}, max ${sorted[ROUNDS - 1]!.toFixed(0)})`,
    );
  }
}

if (process.env.OBSERVE_SCRAPE) for (const b of builds) console.log(`--- ${b.label}\n${await b.scrape()}`);

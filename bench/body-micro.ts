/**
 * Micro-benchmark of the body path of the 'openapi' and 'openapi-injection' bench rows, in
 * process: the stages are built the way the pipeline builds them (bench/fixtures spec), and each
 * operation runs them over a fresh request context whose body is a Readable carrying the ~2 KB
 * order (bench/lib/payloads.ts) in one chunk, as a socket delivers it.
 * Run: `nice -n 10 node --import tsx bench/body-micro.ts [filter]`. Prints the median CPU time
 * per request over several rounds; asserts nothing. Under tsx every closure costs a little more
 * than in the tsc-built dist/ the bench runs: compare A/B runs of the same kind only.
 */
import { Readable } from 'node:stream';
import { join } from 'node:path';
import type { RouteConfig } from '../src/config/types.js';
import { GatewayError } from '../src/errors/gateway-error.js';
import { DEFAULT_JSON_LIMITS } from '../src/json/limits.js';
import { parseJson } from '../src/json/parse.js';
import { readJson } from '../src/json/read-json.js';
import { scanJson } from '../src/json/scan.js';
import type { RequestContext } from '../src/pipeline/context.js';
import { LazyRequestBody } from '../src/pipeline/lazy-body.js';
import type { AccessStage } from '../src/pipeline/stage.js';
import matchStage from '../src/stages/openapi/match.js';
import requestValidation from '../src/stages/validation/request.js';
import injectionStage from '../src/stages/waf/injection.js';
import { fakeBuildContext } from '../test/openapi/build-context.js';
import { injectionOrderBody, orderBody } from './lib/payloads.js';

const FIXTURES = join(import.meta.dirname, 'fixtures');
const order = Buffer.from(orderBody());
const attack = Buffer.from(injectionOrderBody());
const filter = process.argv[2];

/** A body stream that yields its buffer in one chunk (what IncomingMessage does for 2 KB). */
class OneChunk extends Readable {
  constructor(private readonly chunk: Buffer) {
    super();
  }
  override _read(): void {
    this.push(this.chunk);
    this.push(null);
  }
}

function context(body: Buffer): RequestContext {
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    'content-length': String(body.length),
    'user-agent': 'k6/0.49.0 (https://k6.io/)',
  };
  return {
    id: 'bench',
    method: 'POST',
    path: '/orders',
    query: '',
    params: {},
    operation: undefined,
    identity: undefined,
    body: new LazyRequestBody(
      new OneChunk(body),
      headers['content-length'],
      false,
      headers['content-type'],
      10 * 1024 * 1024,
    ),
    state: new Map(),
    logFields: {},
    upstreamHeaders: {},
    dropHeaders: new Set(),
    responseHeaders: {},
    header: (name: string) => headers[name],
  } as unknown as RequestContext;
}

async function buildStages(injection: boolean): Promise<AccessStage[]> {
  const openapi = { spec: './orders.openapi.yaml', responses: { mode: 'off' } };
  const route = {
    name: 'bench',
    public: true,
    match: { pathPrefix: '/' },
    upstream: 'up',
    openapi,
    ...(injection ? { injection: { mode: 'block' } } : {}),
  } as unknown as RouteConfig;
  const build = fakeBuildContext(join(FIXTURES, 'portcullis.yaml'), route);
  const stages = [
    await matchStage.build(openapi as never, build),
    await requestValidation.build(undefined as never, build),
    ...(injection ? [await injectionStage.build({ mode: 'block' } as never, build)] : []),
  ];
  return stages.filter((s): s is AccessStage => s !== undefined);
}

async function runStages(stages: readonly AccessStage[], ctx: RequestContext): Promise<string> {
  try {
    for (const stage of stages) {
      const result = stage.run(ctx);
      if (result instanceof Promise) await result;
    }
    return 'pass';
  } catch (error) {
    if (error instanceof GatewayError) return error.code;
    throw error;
  }
}

async function measure(label: string, fn: () => Promise<unknown>, iterations: number): Promise<void> {
  if (filter !== undefined && !label.includes(filter)) return;
  for (let i = 0; i < iterations; i++) await fn();
  const rounds: number[] = [];
  for (let r = 0; r < 7; r++) {
    const start = process.cpuUsage();
    for (let i = 0; i < iterations; i++) await fn();
    const used = process.cpuUsage(start);
    rounds.push((used.user + used.system) / iterations);
  }
  rounds.sort((a, b) => a - b);
  console.log(
    `${label}: median ${rounds[3]?.toFixed(2)} µs/op (min ${rounds[0]?.toFixed(2)}, max ${rounds[6]?.toFixed(2)})`,
  );
}

const validation = await buildStages(false);
const both = await buildStages(true);
const outcome = async (stages: AccessStage[], body: Buffer) => runStages(stages, context(body));
console.log(
  `order ${order.length} bytes: validation ${await outcome(validation, order)}, +injection ${await outcome(both, order)}; ` +
    `attack: +injection ${await outcome(both, attack)}`,
);

const N = 20_000;
await measure('context + body stream only (baseline)', async () => void context(order), N);
await measure('read the body (readAll)', async () => void (await context(order).body.read(1 << 20)), N);
await measure('read + hardened JSON parse (readJson)', async () => void (await readJson(context(order))), N);
await measure('match + validation (openapi row)', () => runStages(validation, context(order)), N);
await measure(
  'match + validation + injection (openapi-injection row)',
  () => runStages(both, context(order)),
  N,
);
await measure('match + validation + injection, attack body (403)', () => runStages(both, context(attack)), N);
// the hardened parse of the same bytes, alone and in parts (JSON.parse is the floor)
const orderText = order.toString('latin1');
const prettyText = JSON.stringify(JSON.parse(orderText), null, 2);
await measure('hardened JSON parse of the bytes (parseJson)', async () => void parseJson(order), N);
await measure('  structural scan (scanJson)', async () => void scanJson(orderText, DEFAULT_JSON_LIMITS), N);
await measure(
  '  structural scan, pretty-printed',
  async () => void scanJson(prettyText, DEFAULT_JSON_LIMITS),
  N,
);
await measure('  JSON.parse alone', async () => void JSON.parse(orderText), N);
// the built stages hold timers and handles of their services: leave without waiting for them
process.exit(0);

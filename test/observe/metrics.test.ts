import assert from 'node:assert/strict';
import { test } from 'node:test';
import { AggregatorRegistry, Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { RouteConfig } from '../../src/config/types.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { LogStage, ResponseSummary } from '../../src/pipeline/stage.js';
import stage from '../../src/stages/observe/metrics.js';
import { fakeBuild, fakeContext, fakeServices } from '../traffic/fakes.js';

const BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/** The metrics as they were built before the cells: plain prom-client objects, same names. */
function reference() {
  const registry = new Registry();
  return {
    registry,
    requests: new Counter({
      name: 'portcullis_requests_total',
      help: 'Requests handled, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [registry],
    }),
    duration: new Histogram({
      name: 'portcullis_request_duration_seconds',
      help: 'Total request time in the gateway, by route and status',
      labelNames: ['route', 'status'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    upstreamDuration: new Histogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Upstream response time, by route and upstream',
      labelNames: ['route', 'upstream'],
      buckets: BUCKETS,
      registers: [registry],
    }),
    inFlight: new Gauge({
      name: 'portcullis_requests_in_flight',
      help: 'Requests currently being handled',
      registers: [registry],
    }),
    upstreamHealthy: new Gauge({
      name: 'portcullis_upstream_target_healthy',
      help: '1 when an upstream target is healthy, 0 when ejected or failing health checks',
      labelNames: ['upstream', 'target'],
      registers: [registry],
    }),
    denials: new Counter({
      name: 'portcullis_denials_total',
      help: 'Requests refused by a gateway stage, by stage and error code',
      labelNames: ['stage', 'code'],
      registers: [registry],
    }),
  };
}

interface Request {
  readonly route: string;
  readonly upstream?: string;
  readonly method: string;
  readonly status: number;
  readonly totalNs: bigint;
  readonly upstreamNs: bigint;
}

/** What the log stage did with prom-client before: the reference the cells must reproduce. */
function recordReference(ref: ReturnType<typeof reference>, r: Request): void {
  const status = String(r.status);
  ref.requests.inc({ route: r.route, method: r.method, status });
  ref.duration.observe({ route: r.route, status }, Number(r.totalNs) / 1e9);
  if (r.upstreamNs > 0n)
    ref.upstreamDuration.observe({ route: r.route, upstream: r.upstream ?? '-' }, Number(r.upstreamNs) / 1e9);
}

function summary(r: Request): ResponseSummary {
  return {
    status: r.status,
    bytesSent: 0,
    bytesReceived: 0,
    gatewayNs: r.totalNs - r.upstreamNs,
    upstreamNs: r.upstreamNs,
    totalNs: r.totalNs,
    aborted: false,
  };
}

async function buildStage(metrics: Metrics, route: string, upstream?: string): Promise<LogStage> {
  const services = { ...fakeServices(), metrics };
  // no upstream: an OAuth-server style route
  const routeConfig = { name: route, upstream } as Partial<RouteConfig>;
  return (await stage.build(undefined, fakeBuild(services, { route: routeConfig }))) as LogStage;
}

function run(s: LogStage, r: Request): void {
  const ctx = { ...fakeContext(), method: r.method };
  s.run(ctx, summary(r));
}

/** Deterministic mixed traffic: methods, statuses, durations across every bucket and beyond. */
function traffic(n: number, route: string, upstream?: string): Request[] {
  const methods = ['GET', 'GET', 'POST', 'DELETE', 'PATCH'];
  const statuses = [200, 200, 201, 404, 502, 503, 429];
  const out: Request[] = [];
  for (let i = 0; i < n; i++) {
    const total = BigInt(Math.round(10 ** (2 + ((i * 7919) % 900) / 100))); // 100 ns … 10 s+
    out.push({
      route,
      ...(upstream ? { upstream } : {}),
      method: methods[i % methods.length]!,
      status: statuses[(i * 31) % statuses.length]!,
      totalNs: total,
      upstreamNs: i % 9 === 0 ? 0n : total / 2n,
    });
  }
  return out;
}

/** The exposition without the default process metrics. */
async function exposition(registry: { metrics(): Promise<string> }): Promise<string> {
  return (await registry.metrics())
    .split('\n')
    .filter((line) => !/portcullis_(process|nodejs)_/.test(line))
    .join('\n');
}

test('the log stage exposes exactly what prom-client label children exposed', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const ref = reference();
  const a = await buildStage(metrics, 'orders', 'u');
  const b = await buildStage(metrics, 'things', 'v');
  const requests = [...traffic(500, 'orders', 'u'), ...traffic(300, 'things', 'v')];
  for (const [i, r] of requests.entries()) {
    run(r.route === 'orders' ? a : b, r);
    recordReference(ref, r);
    if (i === 400) assert.equal(await exposition(metrics.registry), await exposition(ref.registry));
  }
  metrics.inFlight.inc();
  metrics.inFlight.inc();
  metrics.inFlight.dec();
  ref.inFlight.inc();
  ref.inFlight.inc();
  ref.inFlight.dec();
  metrics.denials.inc({ stage: 'authn', code: 'unauthorized' });
  metrics.denials.inc({ stage: 'authn', code: 'unauthorized' });
  metrics.denials.inc({ stage: 'waf', code: 'forbidden' }, 3);
  ref.denials.inc({ stage: 'authn', code: 'unauthorized' });
  ref.denials.inc({ stage: 'authn', code: 'unauthorized' });
  ref.denials.inc({ stage: 'waf', code: 'forbidden' }, 3);
  const text = await exposition(metrics.registry);
  assert.equal(text, await exposition(ref.registry));
  assert.match(text, /portcullis_requests_total\{route="orders",method="GET",status="200"\} \d+/);
  assert.match(text, /portcullis_request_duration_seconds_bucket\{le="\+Inf",route="things",status="503"\}/);
  assert.match(text, /portcullis_requests_in_flight 1\n/);
  // scraping twice does not count twice
  assert.equal(await exposition(metrics.registry), text);
});

test('a reload (new stages, same Metrics) keeps counting the same series', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const ref = reference();
  const before = await buildStage(metrics, 'orders', 'u');
  for (const r of traffic(50, 'orders', 'u')) {
    run(before, r);
    recordReference(ref, r);
  }
  await exposition(metrics.registry); // a scrape between the generations
  const after = await buildStage(metrics, 'orders', 'u');
  for (const r of traffic(70, 'orders', 'u')) {
    run(after, r);
    recordReference(ref, r);
  }
  assert.equal(await exposition(metrics.registry), await exposition(ref.registry));
});

test('a route without an upstream observes nothing upstream; no empty series appear', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  await buildStage(metrics, 'oauth');
  const text = await exposition(metrics.registry);
  assert.doesNotMatch(text, /portcullis_upstream_duration_seconds_(bucket|sum|count)/);
  assert.doesNotMatch(text, /portcullis_requests_total\{/);
});

test('many methods and statuses past the per-route cache are all still counted', async () => {
  const metrics = new Metrics({ defaultMetrics: false });
  const ref = reference();
  const s = await buildStage(metrics, 'r');
  for (let i = 0; i < 3000; i++) {
    const r: Request = {
      route: 'r',
      method: `M${i % 1500}`,
      status: 100 + (i % 900),
      totalNs: 1_000_000n,
      upstreamNs: 0n,
    };
    run(s, r);
    recordReference(ref, r);
  }
  assert.equal(await exposition(metrics.registry), await exposition(ref.registry));
});

test('registry JSON (cluster aggregation) matches prom-client, and reset clears the series', async () => {
  const workers = [new Metrics({ defaultMetrics: false }), new Metrics({ defaultMetrics: false })];
  const refs = [reference(), reference()];
  for (const [k, metrics] of workers.entries()) {
    const s = await buildStage(metrics, 'orders', 'u');
    for (const r of traffic(100 + k * 37, 'orders', 'u')) {
      run(s, r);
      recordReference(refs[k]!, r);
    }
  }
  const aggregated = AggregatorRegistry.aggregate(
    await Promise.all(workers.map((m) => m.registry.getMetricsAsJSON())),
  );
  const expected = AggregatorRegistry.aggregate(
    await Promise.all(refs.map((r) => r.registry.getMetricsAsJSON())),
  );
  assert.equal(await exposition(aggregated), await exposition(expected));

  workers[0]!.registry.resetMetrics();
  refs[0]!.registry.resetMetrics();
  assert.equal(await exposition(workers[0]!.registry), await exposition(refs[0]!.registry));
  const s = await buildStage(workers[0]!, 'orders', 'u');
  for (const r of traffic(10, 'orders', 'u')) {
    run(s, r);
    recordReference(refs[0]!, r);
  }
  assert.equal(await exposition(workers[0]!.registry), await exposition(refs[0]!.registry));
});

test('invalid values are refused as prom-client refuses them', () => {
  const metrics = new Metrics({ defaultMetrics: false });
  assert.throws(() => metrics.denials.inc({ stage: 'a', code: 'b' }, -1), TypeError);
  assert.throws(() => metrics.duration.observe({ route: 'r', status: '200' }, Number.NaN), TypeError);
});

import { Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import { CellCounter, CellHistogram, PlainGauge } from './metric-cells.js';

const LATENCY_BUCKETS = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10];

/**
 * The metrics registry and the core gateway metrics. Modules add their own with `registry`.
 * The per-request ones (requests, durations, in flight, denials) record into plain numbers
 * (see metric-cells.ts) that prom-client reads at scrape time.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: CellCounter<'route' | 'method' | 'status'>;
  readonly duration: CellHistogram<'route' | 'status'>;
  readonly upstreamDuration: CellHistogram<'route' | 'upstream'>;
  readonly inFlight: PlainGauge;
  readonly upstreamHealthy: Gauge<'upstream' | 'target'>;
  readonly denials: CellCounter<'stage' | 'code'>;
  private readonly extra = new Map<string, unknown>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.requests = new CellCounter({
      name: 'portcullis_requests_total',
      help: 'Requests handled, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registry: this.registry,
    });
    this.duration = new CellHistogram({
      name: 'portcullis_request_duration_seconds',
      help: 'Total request time in the gateway, by route and status',
      labelNames: ['route', 'status'],
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.upstreamDuration = new CellHistogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Upstream response time, by route and upstream',
      labelNames: ['route', 'upstream'],
      buckets: LATENCY_BUCKETS,
      registry: this.registry,
    });
    this.inFlight = new PlainGauge({
      name: 'portcullis_requests_in_flight',
      help: 'Requests currently being handled',
      registry: this.registry,
    });
    this.upstreamHealthy = new Gauge({
      name: 'portcullis_upstream_target_healthy',
      help: '1 when an upstream target is healthy, 0 when ejected or failing health checks',
      labelNames: ['upstream', 'target'],
      registers: [this.registry],
    });
    this.denials = new CellCounter({
      name: 'portcullis_denials_total',
      help: 'Requests refused by a gateway stage, by stage and error code',
      labelNames: ['stage', 'code'],
      registry: this.registry,
    });
  }

  /** Returns the metric registered under `name`, creating it once (safe across reloads). */
  metric<T>(name: string, create: (registry: Registry) => T): T {
    let metric = this.extra.get(name) as T | undefined;
    if (metric === undefined) {
      metric = create(this.registry);
      this.extra.set(name, metric);
    }
    return metric;
  }
}

import { Counter, Gauge, Histogram, Registry, collectDefaultMetrics } from 'prom-client';

/** The metrics registry and the core gateway metrics. Modules add their own with `registry`. */
export class Metrics {
  readonly registry = new Registry();
  readonly requests: Counter<'route' | 'method' | 'status'>;
  readonly duration: Histogram<'route' | 'status'>;
  readonly upstreamDuration: Histogram<'route' | 'upstream'>;
  readonly inFlight: Gauge;
  readonly upstreamHealthy: Gauge<'upstream' | 'target'>;
  readonly denials: Counter<'stage' | 'code'>;
  private readonly extra = new Map<string, unknown>();

  constructor(options: { defaultMetrics?: boolean } = {}) {
    if (options.defaultMetrics !== false)
      collectDefaultMetrics({ register: this.registry, prefix: 'portcullis_' });
    this.requests = new Counter({
      name: 'portcullis_requests_total',
      help: 'Requests handled, by route, method and status',
      labelNames: ['route', 'method', 'status'],
      registers: [this.registry],
    });
    this.duration = new Histogram({
      name: 'portcullis_request_duration_seconds',
      help: 'Total request time in the gateway, by route and status',
      labelNames: ['route', 'status'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.upstreamDuration = new Histogram({
      name: 'portcullis_upstream_duration_seconds',
      help: 'Upstream response time, by route and upstream',
      labelNames: ['route', 'upstream'],
      buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers: [this.registry],
    });
    this.inFlight = new Gauge({
      name: 'portcullis_requests_in_flight',
      help: 'Requests currently being handled',
      registers: [this.registry],
    });
    this.upstreamHealthy = new Gauge({
      name: 'portcullis_upstream_target_healthy',
      help: '1 when an upstream target is healthy, 0 when ejected or failing health checks',
      labelNames: ['upstream', 'target'],
      registers: [this.registry],
    });
    this.denials = new Counter({
      name: 'portcullis_denials_total',
      help: 'Requests refused by a gateway stage, by stage and error code',
      labelNames: ['stage', 'code'],
      registers: [this.registry],
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

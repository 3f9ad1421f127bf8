import type { Counter, Histogram } from 'prom-client';
import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';

interface Children {
  readonly requests: Counter.Internal;
  readonly duration: Histogram.Internal<'route' | 'status'>;
}

/** Request count and latency histograms by route and status. Label children are cached per route. */
export default defineStage({
  name: 'observe.metrics',
  phase: 'log',
  order: ORDER.log.metrics,
  build(_config, build) {
    const metrics = build.services.metrics;
    const route = build.route.name;
    const upstream = metrics.upstreamDuration.labels({ route, upstream: build.route.upstream ?? '-' });
    const children = new Map<string, Children>();
    return {
      name: 'observe.metrics',
      run(ctx, summary) {
        const key = ctx.method + summary.status;
        let child = children.get(key);
        if (child === undefined) {
          const status = String(summary.status);
          child = {
            requests: metrics.requests.labels({ route, method: ctx.method, status }),
            duration: metrics.duration.labels({ route, status }),
          };
          if (children.size < 1000) children.set(key, child);
        }
        child.requests.inc();
        child.duration.observe(Number(summary.totalNs) / 1e9);
        if (summary.upstreamNs > 0n) upstream.observe(Number(summary.upstreamNs) / 1e9);
      },
    };
  },
});

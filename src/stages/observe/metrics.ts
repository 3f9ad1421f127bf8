import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';

/** Request count and latency histograms by route and status. */
export default defineStage({
  name: 'observe.metrics',
  phase: 'log',
  order: ORDER.log.metrics,
  build(_config, build) {
    const metrics = build.services.metrics;
    const route = build.route.name;
    const upstreamName = build.route.upstream ?? '-';
    return {
      name: 'observe.metrics',
      run(ctx, summary) {
        const status = String(summary.status);
        metrics.requests.inc({ route, method: ctx.method, status });
        metrics.duration.observe({ route, status }, Number(summary.totalNs) / 1e9);
        if (summary.upstreamNs > 0n) metrics.upstreamDuration.observe({ route, upstream: upstreamName }, Number(summary.upstreamNs) / 1e9);
      },
    };
  },
});

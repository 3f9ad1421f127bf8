import { accessLogger } from '../../observe/logger.js';
import { defineStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';

const NS_PER_MS = 1e6;

/**
 * One JSON access-log line per request. Credentials never appear: only the method, the
 * normalised path (query strings are not logged), status, sizes, timings and stage log fields.
 */
export default defineStage({
  name: 'observe.access-log',
  phase: 'log',
  order: ORDER.log.accessLog,
  build(_config, build) {
    const logging = build.config.logging;
    if (logging?.accessLog === false) return undefined;
    const logger = accessLogger(build.services.logger);
    const routeName = build.route.name;
    return {
      name: 'observe.access-log',
      run(ctx, summary) {
        const fields = ctx as unknown as { upstreamTarget?: string };
        logger.info({
          requestId: ctx.id,
          route: routeName,
          method: ctx.method,
          path: ctx.path,
          host: ctx.host,
          client: ctx.clientIp,
          status: summary.status,
          bytesIn: summary.bytesReceived,
          bytesOut: summary.bytesSent,
          gatewayMs: Number(summary.gatewayNs) / NS_PER_MS,
          upstreamMs: Number(summary.upstreamNs) / NS_PER_MS,
          totalMs: Number(summary.totalNs) / NS_PER_MS,
          upstream: fields.upstreamTarget,
          consumer: ctx.identity?.consumerId ?? ctx.identity?.subject,
          error: summary.errorCode,
          aborted: summary.aborted || undefined,
          ...ctx.logFields,
        });
      },
    };
  },
});

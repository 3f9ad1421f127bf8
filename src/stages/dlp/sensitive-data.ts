import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { Counter } from 'prom-client';
import { scanJsonText, scanText, type BodyScan } from '../../dlp/body.js';
import { SENSITIVE_DATA_ROUTE_SCHEMA, type SensitiveDataConfig } from '../../dlp/config.js';
import { DEFAULT_DETECTORS } from '../../dlp/detectors.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { ORDER } from '../../pipeline/order.js';
import type { ResponseContext } from '../../pipeline/response.js';
import { defineStage } from '../../pipeline/stage.js';

function isJson(mediaType: string | undefined): boolean {
  return mediaType === 'application/json' || (mediaType !== undefined && mediaType.endsWith('+json'));
}

function isText(mediaType: string | undefined): boolean {
  return (
    mediaType !== undefined &&
    (mediaType.startsWith('text/') ||
      mediaType === 'application/xml' ||
      mediaType.endsWith('+xml') ||
      mediaType === 'application/x-www-form-urlencoded' ||
      mediaType === 'application/javascript' ||
      mediaType === 'application/x-ndjson')
  );
}

function decode(body: Buffer, response: ResponseContext, limit: number): Buffer {
  const header = response.headers['content-encoding'];
  const encoding = (Array.isArray(header) ? header.join(',') : (header ?? '')).trim().toLowerCase();
  const options = { maxOutputLength: limit };
  try {
    if (encoding === '' || encoding === 'identity') return body;
    if (encoding === 'gzip' || encoding === 'x-gzip') return gunzipSync(body, options);
    if (encoding === 'deflate') return inflateSync(body, options);
    if (encoding === 'br') return brotliDecompressSync(body, options);
  } catch (error) {
    throw new GatewayError('upstream_bad_response', { reason: 'sensitive_data_undecodable', cause: error });
  }
  // an encoding we cannot read cannot be inspected: refuse rather than pass it unchecked
  throw new GatewayError('upstream_bad_response', { reason: 'sensitive_data_unknown_encoding' });
}

/**
 * Finds payment cards, national identifiers, keys and cloud secrets in upstream responses and
 * masks them, blocks the response (502) or reports them (docs/sensitive-data.md).
 */
export default defineStage<SensitiveDataConfig>({
  name: 'dlp.sensitive-data',
  phase: 'response',
  order: ORDER.response.sensitiveData,
  routeKey: 'sensitiveData',
  routeSchema: SENSITIVE_DATA_ROUTE_SCHEMA,
  build(config, build) {
    if (config === undefined) return undefined;
    const mode = config.mode ?? 'mask';
    if (mode === 'report') build.warn('sensitiveData is in report mode: responses are sent unmasked');
    const detectors = config.detectors ?? DEFAULT_DETECTORS;
    const limit = config.maxBodyBytes ?? 1024 * 1024;
    const errorResponses = config.errorResponses ?? true;
    const route = build.route.name;
    const logger = build.services.logger;
    const counter = build.services.metrics.metric(
      'portcullis_sensitive_data_total',
      (registry) =>
        new Counter({
          name: 'portcullis_sensitive_data_total',
          help: 'Sensitive values found in responses, by route, detector and mode',
          labelNames: ['route', 'detector', 'mode'],
          registers: [registry],
        }),
    );

    return {
      name: 'dlp.sensitive-data',
      async run(ctx, response) {
        if (response.local || ctx.method === 'HEAD' || response.status === 204 || response.status === 304)
          return;
        if (!errorResponses && response.status >= 400) return;
        const mediaType = response.mediaType;
        const json = isJson(mediaType);
        if (!json && !isText(mediaType)) return;
        const raw = await response.read(limit);
        const body = decode(raw, response, limit);
        const text = body.toString('utf8');
        const scan: BodyScan = json ? scanJsonText(text, detectors) : scanText(text, detectors);
        if (body !== raw) response.replace(body); // the runner drops content-encoding once the body is read
        if (scan.found.size === 0) return;
        const found = Object.fromEntries(scan.found);
        for (const [detector, n] of scan.found) counter.inc({ route, detector, mode }, n);
        ctx.logFields.sensitiveData = { mode, found };
        if (mode === 'block')
          throw new GatewayError('sensitive_data_blocked', { reason: 'sensitive_data_in_response' });
        if (mode === 'report') {
          logger.warn(
            { requestId: ctx.id, route, sensitiveData: found },
            'sensitive data in response (report only)',
          );
          return;
        }
        if (scan.masked !== undefined) response.replace(scan.masked);
      },
    };
  },
});

import { accessLineWriter, type Logger } from '../../observe/logger.js';
import { jsonLogString, maskLogValue, REDACTED } from '../../observe/redact.js';
import type { RequestContext } from '../../pipeline/context.js';
import { defineStage, type ResponseSummary } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';

const NS_PER_MS = 1e6;

/** Stage log-field keys whose values are never logged (log fields are not headers, but still). */
const REDACT_KEYS: ReadonlySet<string> = new Set([
  'authorization',
  'cookie',
  'apiKey',
  'token',
  'password',
  'secret',
  'clientSecret',
]);

/** The fixed keys of a line, in order; a stage log field with one of these names replaces it. */
const FIXED_KEYS: ReadonlySet<string> = new Set([
  'requestId',
  'route',
  'method',
  'path',
  'host',
  'client',
  'status',
  'bytesIn',
  'bytesOut',
  'gatewayMs',
  'upstreamMs',
  'totalMs',
  'upstream',
  'consumer',
  'error',
  'aborted',
]);

/** A JSON string literal for a key (stage field names: fixed words, rarely escaped). */
function jsonKey(text: string): string {
  return JSON.stringify(text);
}

/** A masked JSON string literal for a value that came from the request, the config or a stage. */
const masked = (text: string): string => jsonLogString(text);

/** A number the way pino writes it (non-finite as null). */
function jsonNumber(value: number): string {
  return Number.isFinite(value) ? String(value) : 'null';
}

/**
 * One value the way pino writes it: strings masked, numbers (non-finite as null), booleans,
 * anything else as JSON with sensitive data masked; `undefined` when the key is left out.
 */
function jsonValue(key: string, value: unknown): string | undefined {
  if (value === undefined) return undefined;
  if (REDACT_KEYS.has(key)) return `"${REDACTED}"`;
  switch (typeof value) {
    case 'string':
      return masked(value);
    case 'number':
      return jsonNumber(value);
    case 'boolean':
      return String(value);
    case 'bigint':
      return String(value);
    case 'function':
    case 'symbol':
      return undefined;
    default: {
      let json: string | undefined;
      try {
        json = JSON.stringify(value);
      } catch {
        json = '"[unserialisable]"';
      }
      return json === undefined ? undefined : maskLogValue(json);
    }
  }
}

/** The fields of a line, for the general path (a logger not from createLogger, or a key clash). */
function record(
  ctx: RequestContext,
  summary: ResponseSummary,
  routeName: string,
  extra: Record<string, unknown>,
): Record<string, unknown> {
  return {
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
    upstream: ctx.upstreamTarget,
    consumer: ctx.identity?.consumerId ?? ctx.identity?.subject,
    error: summary.errorCode,
    aborted: summary.aborted || undefined,
    ...extra,
  };
}

/** `,"key":value` for every field that is written. */
function serialise(fields: Record<string, unknown>): string {
  let out = '';
  for (const key in fields) {
    if (!Object.prototype.hasOwnProperty.call(fields, key)) continue;
    const value = jsonValue(key, fields[key]);
    if (value !== undefined) out += `,${jsonKey(key)}:${value}`;
  }
  return out;
}

/** Through the logger itself (a logger not made by createLogger): values masked here. */
function viaLogger(logger: Logger, routeName: string) {
  const child = logger.child({ type: 'access' });
  return (ctx: RequestContext, summary: ResponseSummary) => {
    const line = JSON.parse(
      `{${serialise(record(ctx, summary, routeName, ctx.logFields)).slice(1)}}`,
    ) as object;
    child.info(line);
  };
}

/**
 * One JSON access-log line per request. Credentials never appear: only the method, the
 * normalised path (query strings are not logged), status, sizes, timings and stage log fields.
 *
 * The line is serialised here, field by field, and written to the logger's destination: the
 * record is fixed, so pino's generic key walk and redaction paths were most of the cost. Values
 * that come from the request or from stages are masked like every log line (card numbers, keys,
 * ...; see redact.ts), stage log fields named like credentials are redacted.
 */
export default defineStage({
  name: 'observe.access-log',
  phase: 'log',
  order: ORDER.log.accessLog,
  build(_config, build) {
    const logging = build.config.logging;
    if (logging?.accessLog === false) return undefined;
    const routeName = build.route.name;
    const writer = accessLineWriter(build.services.logger, { type: 'access' });
    if (writer === undefined)
      return { name: 'observe.access-log', run: viaLogger(build.services.logger, routeName) };
    const route = `,"route":${masked(routeName)}`;
    return {
      name: 'observe.access-log',
      run(ctx, summary) {
        if (!writer.enabled()) return;
        const logFields = ctx.logFields;
        let extra = '';
        for (const key in logFields) {
          if (!Object.prototype.hasOwnProperty.call(logFields, key)) continue;
          if (FIXED_KEYS.has(key)) {
            // a stage field replacing a fixed one: the general path keeps pino's key order
            writer.write(
              writer.start() + serialise(record(ctx, summary, routeName, logFields)).slice(1) + '}\n',
            );
            return;
          }
          const value = jsonValue(key, logFields[key]);
          if (value !== undefined) extra += `,${jsonKey(key)}:${value}`;
        }
        const identity = ctx.identity;
        const consumer = identity === undefined ? undefined : (identity.consumerId ?? identity.subject);
        const upstream = ctx.upstreamTarget;
        writer.write(
          writer.start() +
            `"requestId":${jsonLogString(ctx.id, false)}${route}` +
            `,"method":${masked(ctx.method)},"path":${masked(ctx.path)},"host":${masked(ctx.host)}` +
            `,"client":${masked(ctx.clientIp)},"status":${jsonNumber(summary.status)}` +
            `,"bytesIn":${jsonNumber(summary.bytesReceived)},"bytesOut":${jsonNumber(summary.bytesSent)}` +
            `,"gatewayMs":${Number(summary.gatewayNs) / NS_PER_MS}` +
            `,"upstreamMs":${Number(summary.upstreamNs) / NS_PER_MS}` +
            `,"totalMs":${Number(summary.totalNs) / NS_PER_MS}` +
            (upstream === undefined ? '' : `,"upstream":${masked(upstream)}`) +
            (consumer === undefined ? '' : `,"consumer":${masked(consumer)}`) +
            (summary.errorCode === undefined ? '' : `,"error":${masked(summary.errorCode)}`) +
            (summary.aborted ? ',"aborted":true' : '') +
            extra +
            '}\n',
        );
      },
    };
  },
});

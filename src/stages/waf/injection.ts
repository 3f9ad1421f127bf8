import { Counter } from 'prom-client';
import { GatewayError } from '../../errors/gateway-error.js';
import { DEFAULT_JSON_LIMITS } from '../../json/limits.js';
import { parseJson } from '../../json/parse.js';
import { cachedJson, NOT_CACHED, readJson } from '../../json/read-json.js';
import type { OperationView } from '../../openapi/operation-context.js';
import type { CompiledOperation } from '../../openapi/types.js';
import type { RequestContext } from '../../pipeline/context.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';
import { compileInjection, INJECTION_ROUTE_SCHEMA, type InjectionConfig } from '../../waf/config.js';
import type { FieldLocation } from '../../waf/field-ref.js';
import { multipartFields } from '../../waf/multipart-fields.js';
import { percentDecodeOnce } from '../../waf/normalise.js';
import { scanRequest, type Finding, type ScanInput } from '../../waf/scan-request.js';
import { schemaKind, type FieldKind } from '../../waf/schema-kind.js';

type OperationSchemas = NonNullable<ScanInput['schema']>;
const schemaCache = new WeakMap<CompiledOperation, OperationSchemas>();

/** The schemas of the matched OpenAPI operation, read once per operation. */
function operationSchemas(operation: CompiledOperation): OperationSchemas {
  let schemas = schemaCache.get(operation);
  if (schemas === undefined) {
    const json = operation.requestBody?.content.find(
      (c) => c.mediaRange === 'application/json' || c.mediaRange.endsWith('+json') || c.mediaRange === '*/*',
    );
    const kinds = new Map<string, FieldKind>();
    for (const [location, list] of Object.entries(operation.parameters)) {
      for (const p of list)
        kinds.set(
          location + ':' + (location === 'header' ? p.name.toLowerCase() : p.name),
          schemaKind(p.schema),
        );
    }
    schemas = {
      body: json?.schema,
      parameter: (location: FieldLocation, name: string) => kinds.get(location + ':' + name),
    };
    schemaCache.set(operation, schemas);
  }
  return schemas;
}

function isJson(mediaType: string | undefined): boolean {
  return mediaType === 'application/json' || (mediaType !== undefined && mediaType.endsWith('+json'));
}

const FORM = 'application/x-www-form-urlencoded';
const MULTIPART = 'multipart/form-data';
const MULTIPART_LIMITS = { maxParts: 1000, maxFieldBytes: 1024 * 1024 };

/**
 * Bodies without a media type or with a textual one are inspected too: many back ends parse
 * JSON whatever the Content-Type says, so `text/plain` must not be a way around the checks.
 */
function isTextual(mediaType: string | undefined): boolean {
  return (
    mediaType === undefined ||
    mediaType.startsWith('text/') ||
    mediaType === 'application/xml' ||
    mediaType.endsWith('+xml')
  );
}

/** A textual body: JSON when it parses as JSON (hardened parser), else one free-text value. */
function textBody(buffer: Buffer): ScanInput['body'] {
  const text = buffer.toString('utf8');
  const first = text.trimStart()[0];
  if (first === '{' || first === '[') {
    try {
      return { kind: 'json', value: parseJson(buffer) };
    } catch {
      // not JSON after all: inspect it as text
    }
  }
  return { kind: 'text', text };
}

function hasKeys(record: Readonly<Record<string, string>>): boolean {
  for (const key in record) if (Object.hasOwn(record, key)) return true;
  return false;
}

/**
 * Without template parameters, the path's segments are inspected, named by position (`/path/2`).
 * The normalised path keeps reserved characters percent-encoded: this is their one decode.
 */
function pathSegments(path: string): Record<string, string> {
  const out: Record<string, string> = {};
  const segments = path.split('/');
  for (let i = 1; i < segments.length; i++) {
    const segment = segments[i] as string;
    if (segment !== '') out[String(i)] = percentDecodeOnce(segment);
  }
  return out;
}

/** A request as the scanner reads it: one object per request, no closure. */
class ContextInput implements ScanInput {
  readonly query: string;
  readonly params: Readonly<Record<string, string>>;
  readonly body: ScanInput['body'];
  readonly schema: OperationSchemas | undefined;
  private readonly ctx: RequestContext;

  constructor(ctx: RequestContext, body: ScanInput['body'], schema: OperationSchemas | undefined) {
    this.ctx = ctx;
    this.query = ctx.query;
    this.params = hasKeys(ctx.params) ? ctx.params : pathSegments(ctx.path);
    this.body = body;
    this.schema = schema;
  }

  header(name: string): string | undefined {
    return this.ctx.header(name);
  }
}

/**
 * Injection defence: SQL, NoSQL, command, path traversal, XSS, template injection and SSRF
 * checks over the free-text fields of a request (docs/injection.md). Fields the OpenAPI schema
 * constrains are left to request validation.
 */
export default defineStage<InjectionConfig>({
  name: 'waf.injection',
  phase: 'access',
  order: ORDER.access.injection,
  routeKey: 'injection',
  routeSchema: INJECTION_ROUTE_SCHEMA,
  build(config, build) {
    if (config === undefined) return undefined;
    const plan = compileInjection(config, (message, pointer) => build.fail(message, pointer));
    if (plan.mode === 'report')
      build.warn('injection is in report mode: detected attacks are logged, not refused');
    const metrics = build.services.metrics;
    const detections = metrics.metric(
      'portcullis_injection_detections_total',
      (registry) =>
        new Counter({
          name: 'portcullis_injection_detections_total',
          help: 'Requests the injection stage flagged, by route, attack class and mode',
          labelNames: ['route', 'class', 'mode'],
          registers: [registry],
        }),
    );
    const logger = build.services.logger;
    const route = build.route.name;
    const jsonLimits = { ...DEFAULT_JSON_LIMITS, maxBodyBytes: plan.maxBodyBytes };

    const decide = (ctx: RequestContext, finding: Finding | undefined): void => {
      if (finding === undefined) return;
      detections.inc({ route, class: finding.class, mode: plan.mode });
      ctx.logFields.injection = {
        class: finding.class,
        rule: finding.rule,
        field: finding.field,
        mode: plan.mode,
      };
      if (plan.mode === 'report') {
        logger.warn(
          { requestId: ctx.id, route, injection: ctx.logFields.injection },
          'injection detected (report only)',
        );
        return;
      }
      throw new GatewayError('request_blocked', { reason: `injection_${finding.class}` });
    };

    const inputFor = (ctx: RequestContext, body: ScanInput['body']): ScanInput => {
      const operation = (ctx.operation as OperationView | undefined)?.compiled;
      return new ContextInput(ctx, body, operation === undefined ? undefined : operationSchemas(operation));
    };

    const withBody = async (ctx: RequestContext): Promise<void> => {
      let body: ScanInput['body'];
      if (isJson(ctx.body.mediaType)) {
        const value = await readJson(ctx, jsonLimits);
        if (value !== undefined) body = { kind: 'json', value };
      } else if (ctx.body.mediaType === MULTIPART) {
        const buffer = await ctx.body.read(plan.maxBodyBytes);
        body = {
          kind: 'multipart',
          fields: await multipartFields(buffer, ctx.header('content-type') ?? '', MULTIPART_LIMITS),
        };
      } else if (ctx.body.mediaType === FORM) {
        body = { kind: 'form', text: (await ctx.body.read(plan.maxBodyBytes)).toString('utf8') };
      } else {
        body = textBody(await ctx.body.read(plan.maxBodyBytes));
      }
      await scan(ctx, body);
    };

    const scan = (ctx: RequestContext, body: ScanInput['body']): Promise<void> | undefined => {
      const result = scanRequest(plan, inputFor(ctx, body));
      if (result instanceof Promise) return result.then((finding) => decide(ctx, finding));
      decide(ctx, result);
      return undefined;
    };

    return {
      name: 'waf.injection',
      run(ctx) {
        const mediaType = ctx.body.mediaType;
        if (!ctx.body.present) return scan(ctx, undefined);
        if (isJson(mediaType)) {
          // request validation usually parsed the body already: no promise then
          const value = cachedJson(ctx, jsonLimits);
          if (value !== NOT_CACHED)
            return scan(ctx, value === undefined ? undefined : { kind: 'json', value });
          return withBody(ctx);
        }
        if (mediaType === FORM || mediaType === MULTIPART || isTextual(mediaType)) return withBody(ctx);
        return scan(ctx, undefined);
      },
    };
  },
});

import { brotliDecompressSync, gunzipSync, inflateSync } from 'node:zlib';
import { GatewayError } from '../errors/gateway-error.js';
import type { RequestContext } from '../pipeline/context.js';
import type { ResponseContext } from '../pipeline/response.js';
import { findMediaType, isJsonMediaType } from './media-type.js';
import { matchedOperation } from './operation-context.js';
import type { ResponseMode } from './route-config.js';
import { stripUndeclared } from './strip.js';
import type { CompiledApi, CompiledOperation, CompiledResponse } from './types.js';
import { fromAjv, type Violation } from './violations.js';

export interface ResponseCheckOptions {
  readonly mode: ResponseMode;
  readonly blockUndeclaredStatus: boolean;
  readonly blockUndeclaredContentType: boolean;
  readonly maxBodyBytes: number;
}

/** What a response check found; `kind` is also the metric label. */
export interface ResponseFinding {
  readonly kind:
    | 'undeclared_status'
    | 'undeclared_content_type'
    | 'schema'
    | 'invalid_json'
    | 'unsupported_encoding'
    | 'stripped';
  readonly violations?: readonly Violation[];
  readonly removed?: number;
}

const DECODERS = new Map<string, (buffer: Buffer, options: { maxOutputLength: number }) => Buffer>([
  ['gzip', gunzipSync],
  ['x-gzip', gunzipSync],
  ['deflate', inflateSync],
  ['br', brotliDecompressSync],
]);
const REPORTED_VIOLATIONS = 5;

/**
 * Checks an upstream response against the operation's declared responses: status (exact, `2XX`,
 * `default`), media type and, for JSON bodies, the schema. `report` records findings, `strip`
 * removes undeclared members first (then reports the rest), `block` answers 502
 * `response_contract_violation`. Undeclared statuses and media types are blocked only when asked.
 */
export function createResponseChecker(
  api: CompiledApi,
  options: ResponseCheckOptions,
  record: (ctx: RequestContext, finding: ResponseFinding) => void,
): (ctx: RequestContext, response: ResponseContext) => void | Promise<void> {
  const responseFor = new Map<CompiledOperation, Map<number, CompiledResponse | null>>();
  for (const operation of api.operations) responseFor.set(operation, new Map());

  const violation = (ctx: RequestContext, finding: ResponseFinding, block: boolean): void => {
    record(ctx, finding);
    if (block) throw new GatewayError('response_contract_violation', { reason: `response_${finding.kind}` });
  };

  return (ctx, response) => {
    if (response.local) return;
    const match = matchedOperation(ctx);
    if (match === undefined) return;
    const cache = responseFor.get(match.operation);
    if (cache === undefined) return;
    let declared = cache.get(response.status);
    if (declared === undefined) {
      declared = findResponse(match.operation.responses, response.status) ?? null;
      cache.set(response.status, declared);
    }
    if (declared === null) {
      if (options.blockUndeclaredStatus || options.mode !== 'off') {
        violation(ctx, { kind: 'undeclared_status' }, options.blockUndeclaredStatus);
      }
      return;
    }
    if (declared.content.length === 0 || response.mediaType === undefined) return;
    const media = findMediaType(declared.content, response.mediaType);
    if (media === undefined) {
      if (options.blockUndeclaredContentType || options.mode !== 'off') {
        violation(ctx, { kind: 'undeclared_content_type' }, options.blockUndeclaredContentType);
      }
      return;
    }
    if (options.mode === 'off' || media.validate === undefined || media.schema === undefined) return;
    if (
      !isJsonMediaType(response.mediaType) ||
      ctx.method === 'HEAD' ||
      response.status === 204 ||
      response.status === 304
    ) {
      return;
    }
    const encodingHeader = response.headers['content-encoding'];
    const encoding = (Array.isArray(encodingHeader) ? encodingHeader.join(',') : (encodingHeader ?? ''))
      .trim()
      .toLowerCase();
    const decode = encoding === '' || encoding === 'identity' ? undefined : DECODERS.get(encoding);
    if (encoding !== '' && encoding !== 'identity' && decode === undefined) {
      // Reading would hand the runner bytes it then sends without their encoding: leave it alone.
      violation(ctx, { kind: 'unsupported_encoding' }, options.mode === 'block');
      return;
    }
    return check(ctx, response, media.validate, media.schema, decode);
  };

  async function check(
    ctx: RequestContext,
    response: ResponseContext,
    validate: NonNullable<CompiledResponse['content'][number]['validate']>,
    schema: NonNullable<CompiledResponse['content'][number]['schema']>,
    decode: ((buffer: Buffer, options: { maxOutputLength: number }) => Buffer) | undefined,
  ): Promise<void> {
    let body = await response.read(options.maxBodyBytes);
    if (decode !== undefined) {
      try {
        body = decode(body, { maxOutputLength: options.maxBodyBytes });
      } catch (error) {
        throw new GatewayError('upstream_bad_response', { reason: 'response_decoding_failed', cause: error });
      }
      // The runner drops Content-Encoding once the body was read: send the decoded bytes.
      response.replace(body);
    }
    // Strip mode promises that only declared members leave: a body it cannot walk is withheld.
    const failClosed = options.mode === 'block' || options.mode === 'strip';
    let value: unknown;
    let valid: boolean;
    try {
      value = JSON.parse(body.toString('utf8'));
      if (options.mode === 'strip') {
        const removed = stripUndeclared(value, schema, api.resolveRef);
        if (removed > 0) {
          response.replace(JSON.stringify(value));
          record(ctx, { kind: 'stripped', removed });
        }
      }
      valid = validate(value) as boolean;
    } catch {
      // Not JSON, or nested too deeply to walk (RangeError).
      violation(ctx, { kind: 'invalid_json' }, failClosed);
      return;
    }
    if (valid) return;
    const violations: Violation[] = [];
    fromAjv('response', validate.errors, violations);
    violation(
      ctx,
      { kind: 'schema', violations: violations.slice(0, REPORTED_VIOLATIONS) },
      options.mode === 'block',
    );
  }
}

function findResponse(responses: readonly CompiledResponse[], status: number): CompiledResponse | undefined {
  const exact = String(status);
  const range = `${exact[0] ?? ''}XX`;
  return (
    responses.find((r) => r.status === exact) ??
    responses.find((r) => r.status === range) ??
    responses.find((r) => r.status === 'DEFAULT')
  );
}

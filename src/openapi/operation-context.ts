import type { RequestContext } from '../pipeline/context.js';
import type { CompiledApi, CompiledOperation, SecurityRequirement } from './types.js';

/** What `openapi.match` leaves in `ctx.state` for later stages. */
export interface OperationMatch {
  readonly api: CompiledApi;
  readonly operation: CompiledOperation;
  /** Path template captures as received (percent-encoded), for style-aware parsing. */
  readonly rawParams: Readonly<Record<string, string>>;
}

export const OPERATION_STATE_KEY = 'openapi.match';

/** The value `openapi.match` puts in `ctx.operation` (built once per operation at config load). */
export interface OperationView {
  readonly operationId?: string;
  readonly method: string;
  readonly pathTemplate: string;
  readonly tags: readonly string[];
  readonly security: readonly SecurityRequirement[];
  readonly privileged: boolean;
  readonly deprecated: boolean;
  /** The full compiled operation (parameters, body and response validators). */
  readonly compiled: CompiledOperation;
  readonly [key: string]: unknown;
}

export function operationView(operation: CompiledOperation): OperationView {
  return Object.freeze({
    ...(operation.operationId === undefined ? {} : { operationId: operation.operationId }),
    method: operation.method,
    pathTemplate: operation.pathTemplate,
    tags: operation.tags,
    security: operation.security,
    privileged: operation.privileged,
    deprecated: operation.deprecated,
    compiled: operation,
  });
}

/** The operation matched for this request, when `openapi.match` ran and found one. */
export function matchedOperation(ctx: RequestContext): OperationMatch | undefined {
  return ctx.state.get(OPERATION_STATE_KEY) as OperationMatch | undefined;
}

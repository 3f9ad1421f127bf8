import type { CompiledApi, CompiledOperation, SecurityRequirement } from '../openapi/types.js';
import { parseSelector, type Selector } from './selector.js';

/** What authorization needs to know of one OpenAPI operation, to validate rules at load. */
export interface OperationInfo {
  readonly operationId: string | undefined;
  readonly method: string;
  readonly pathTemplate: string;
  readonly pathParams: ReadonlySet<string>;
  readonly queryParams: ReadonlySet<string>;
  /** Lower case. */
  readonly headerParams: ReadonlySet<string>;
  /** Top-level JSON body properties; `any` when the schema does not list them; undefined when no JSON body. */
  readonly bodyProperties: ReadonlySet<string> | 'any' | undefined;
  readonly security: readonly SecurityRequirement[];
  readonly privileged: boolean;
}

export function operationsOf(api: CompiledApi): OperationInfo[] {
  return api.operations.map(toOperationInfo);
}

export function toOperationInfo(op: CompiledOperation): OperationInfo {
  return {
    operationId: op.operationId,
    method: op.method.toUpperCase(),
    pathTemplate: op.pathTemplate,
    pathParams: new Set(op.parameters.path.map((p) => p.name)),
    queryParams: new Set(op.parameters.query.map((p) => p.name)),
    headerParams: new Set(op.parameters.header.map((p) => p.name.toLowerCase())),
    bodyProperties: jsonBodyProperties(op),
    security: op.security,
    privileged: op.privileged,
  };
}

function jsonBodyProperties(op: CompiledOperation): ReadonlySet<string> | 'any' | undefined {
  const media = op.requestBody?.content.find(
    (m) => m.mediaRange === 'application/json' || m.mediaRange.endsWith('+json'),
  );
  if (media === undefined) return undefined;
  const schema = media.schema;
  if (typeof schema !== 'object' || schema === null) return 'any';
  const properties = schema.properties;
  if (properties === null || typeof properties !== 'object') return 'any';
  return new Set(Object.keys(properties));
}

/** The operations of a document a selector names (GET also names HEAD: it is authorised as GET). */
export function selectedOperations(
  selector: Selector,
  operations: readonly OperationInfo[],
  basePath = '',
): OperationInfo[] {
  return operations.filter((op) => {
    if (selector.kind === 'all') return true;
    if (selector.kind === 'operation') return op.operationId === selector.operationId;
    const method = op.method === 'HEAD' ? 'GET' : op.method;
    if (selector.method !== '*' && selector.method !== method) return false;
    const template = selector.template;
    return (
      template !== undefined &&
      (template.sameShape(basePath + op.pathTemplate) ||
        (template.open && template.match(basePath + op.pathTemplate, 'restrict') !== undefined))
    );
  });
}

/**
 * An operationId selector that also matches, when restricting, the operation's own method and
 * path: a request the OpenAPI matcher did not map (non-strict mode, a case or slash variant the
 * upstream still accepts) stays under the rules written for that operation.
 */
export function withOperationPaths(
  selector: Selector,
  operations: readonly OperationInfo[],
  basePath: string,
): Selector {
  if (selector.kind !== 'operation') return selector;
  const paths: Selector[] = [];
  for (const op of selectedOperations(selector, operations, basePath)) {
    const path = operationPathSelector(op, basePath);
    if (path !== undefined) paths.push(path);
  }
  if (paths.length === 0) return selector;
  return {
    ...selector,
    matches: (request, mode) =>
      selector.matches(request, mode) ||
      (mode === 'restrict' && paths.some((path) => path.matches(request, mode))),
    capture: (request) => {
      const own = selector.capture(request);
      if (own !== undefined) return own;
      for (const path of paths) {
        const captured = path.capture(request);
        if (captured !== undefined) return captured;
      }
      return undefined;
    },
  };
}

/** `METHOD <basePath><template>` of an operation, as a route selector (HEAD is authorised as GET). */
export function operationPathSelector(op: OperationInfo, basePath: string): Selector | undefined {
  try {
    return parseSelector(`${op.method === 'HEAD' ? 'GET' : op.method} ${basePath}${op.pathTemplate}`);
  } catch {
    return undefined;
  }
}

import { GatewayError } from '../../errors/gateway-error.js';
import { getOpenApi } from '../../openapi/index.js';
import { decodeComponent, ParameterFormatError } from '../../openapi/parameters.js';
import {
  OPERATION_STATE_KEY,
  operationView,
  type OperationMatch,
  type OperationView,
} from '../../openapi/operation-context.js';
import {
  OPENAPI_ROUTE_SCHEMA,
  resolveOpenApiRouteConfig,
  type OpenApiRouteConfigInput,
} from '../../openapi/route-config.js';
import type { CompiledOperation } from '../../openapi/types.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';

/**
 * Maps each request to its OpenAPI operation (method + path template, literal segments first),
 * sets `ctx.operation` and `ctx.params`. In strict mode undeclared paths get 404 and undeclared
 * methods 405 (with `Allow`). HEAD falls back to the GET operation.
 */
export default defineStage<OpenApiRouteConfigInput>({
  name: 'openapi.match',
  phase: 'access',
  order: ORDER.access.operationMatch,
  routeKey: 'openapi',
  routeSchema: OPENAPI_ROUTE_SCHEMA,
  async build(config, build) {
    if (config === undefined) return undefined;
    const settings = resolveOpenApiRouteConfig(config);
    const api = await getOpenApi(build);
    if (api === undefined) return undefined;
    const basePath = (settings.basePath === 'servers' ? api.serverBasePath : settings.basePath).replace(
      /\/+$/,
      '',
    );
    const views = new Map<CompiledOperation, OperationView>(
      api.operations.map((op) => [op, operationView(op)]),
    );
    const allow = new Map<ReadonlyMap<string, CompiledOperation>, string>();
    const strict = settings.strict;

    return {
      name: 'openapi.match',
      run(ctx) {
        let path = ctx.path;
        if (basePath !== '') {
          if (path === basePath) path = '/';
          else if (path.startsWith(basePath) && path.charCodeAt(basePath.length) === 47)
            path = path.slice(basePath.length);
          else path = '';
        }
        const match = path === '' ? undefined : api.matcher.match(path);
        if (match === undefined) {
          if (strict) throw new GatewayError('not_found', { reason: 'openapi_undeclared_path' });
          return;
        }
        const methods = match.value;
        const operation = methods.get(ctx.method) ?? (ctx.method === 'HEAD' ? methods.get('GET') : undefined);
        if (operation === undefined) {
          if (!strict) return;
          let allowed = allow.get(methods);
          if (allowed === undefined) {
            const names = [...methods.keys()];
            if (methods.has('GET') && !methods.has('HEAD')) names.push('HEAD');
            allowed = names.join(', ');
            allow.set(methods, allowed);
          }
          throw new GatewayError('method_not_allowed', {
            reason: 'openapi_undeclared_method',
            headers: { allow: allowed },
          });
        }
        const params: Record<string, string> = {};
        for (const [name, raw] of Object.entries(match.params)) {
          try {
            params[name] = decodeComponent(raw, false);
          } catch (error) {
            if (!(error instanceof ParameterFormatError)) throw error;
            throw new GatewayError('validation_failed', {
              reason: 'openapi_path_encoding',
              extensions: { errors: [{ in: 'path', pointer: '/' + name, message: error.message }] },
            });
          }
        }
        ctx.params = params;
        ctx.operation = views.get(operation);
        if (operation.operationId !== undefined) ctx.logFields.operationId = operation.operationId;
        const state: OperationMatch = { api, operation, rawParams: match.params };
        ctx.state.set(OPERATION_STATE_KEY, state);
      },
    };
  },
});

import { callerRoles } from '../../authz/caller-roles.js';
import { isJsonMediaType } from '../../authz/json-body.js';
import { applicableTrees } from '../../authz/property-rules.js';
import { filterValue } from '../../authz/property-tree.js';
import { authzRequest } from '../../authz/request-view.js';
import { routePolicy } from '../../authz/route-policy.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type ResponseStage } from '../../pipeline/stage.js';

const STAGE = 'authz.property-filter';

/**
 * Property-level authorization of responses (excessive data exposure): JSON responses keep only
 * the properties the caller's roles may read, recursively through arrays. A JSON body that cannot
 * be read or parsed is withheld (502), never passed through unfiltered.
 */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'response',
  order: ORDER.response.propertyFilter,
  async build(_config, build): Promise<ResponseStage | undefined> {
    const policy = await routePolicy(build);
    if (policy === undefined || !policy.properties.some((rule) => rule.read !== undefined)) return undefined;
    const { properties, claimPaths, maxResponseBytes } = policy;
    return {
      name: STAGE,
      async run(ctx, response) {
        if (response.local || response.status === 204 || response.status === 304) return;
        const trees = applicableTrees(properties, authzRequest(ctx), callerRoles(ctx, claimPaths), 'read');
        if (trees.length === 0) return;
        // An untyped body is sniffed: JSON without a content type must not slip past the filter.
        const untyped = response.mediaType === undefined;
        if (!untyped && !isJsonMediaType(response.mediaType)) return;
        const encoding = response.headers['content-encoding'];
        const raw = await response.read(maxResponseBytes);
        if (encoding !== undefined && String(encoding).toLowerCase() !== 'identity') {
          throw new GatewayError('upstream_bad_response', { reason: 'authz_filter_encoded_body' });
        }
        if (raw.length === 0 || (untyped && !looksLikeJson(raw))) return;
        let value: unknown;
        try {
          value = JSON.parse(raw.toString('utf8'));
        } catch (error) {
          throw new GatewayError('upstream_bad_response', {
            reason: 'authz_filter_invalid_json',
            cause: error,
          });
        }
        if (value === null || typeof value !== 'object') return;
        for (const tree of trees) value = filterValue(value, tree);
        response.replace(JSON.stringify(value));
        ctx.logFields.authzFiltered = true;
      },
    };
  },
});

function looksLikeJson(raw: Buffer): boolean {
  for (const byte of raw) {
    if (
      byte === 0x20 ||
      byte === 0x09 ||
      byte === 0x0a ||
      byte === 0x0d ||
      byte === 0xef ||
      byte === 0xbb ||
      byte === 0xbf
    )
      continue;
    return byte === 0x7b || byte === 0x5b;
  }
  return false;
}

import { callerKey, routeTracker } from '../../authz/enumeration-state.js';
import { routePolicy } from '../../authz/route-policy.js';
import { GatewayError } from '../../errors/gateway-error.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.enumeration-guard';

/** Throttles (429) a caller the enumeration detector flagged, for the rest of its window. */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.enumerationGuard,
  async build(_config, build): Promise<AccessStage | undefined> {
    const policy = await routePolicy(build);
    if (policy === undefined || policy.enumeration?.action !== 'throttle') return undefined;
    const tracker = routeTracker(build.services, policy);
    if (tracker === undefined) return undefined;
    return {
      name: STAGE,
      run(ctx) {
        const seconds = tracker.blockedFor(callerKey(ctx), Date.now());
        if (seconds > 0) {
          ctx.logFields.authz = { decision: 'deny', check: 'enumeration', reason: 'enumeration_throttled' };
          throw new GatewayError('rate_limited', {
            headers: { 'retry-after': String(seconds) },
            reason: 'authz_enumeration',
          });
        }
      },
    };
  },
});

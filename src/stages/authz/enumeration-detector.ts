import { authzAudit } from '../../authz/decision.js';
import { callerKey, objectId, routeTracker } from '../../authz/enumeration-state.js';
import { routePolicy } from '../../authz/route-policy.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type LogStage } from '../../pipeline/stage.js';

const STAGE = 'authz.enumeration-detector';

/**
 * ID enumeration (BOLA probing): counts per caller the distinct objects that drew a 403 or 404
 * within a window; crossing the limit raises an audit event (and arms the guard when throttling).
 */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'log',
  order: ORDER.log.enumerationDetector,
  async build(_config, build): Promise<LogStage | undefined> {
    const policy = await routePolicy(build);
    const tracker = policy === undefined ? undefined : routeTracker(build.services, policy);
    if (policy === undefined || tracker === undefined) return undefined;
    const audit = authzAudit(build.services).logger;
    const action = policy.enumeration?.action ?? 'report';
    return {
      name: STAGE,
      run(ctx, summary) {
        if (summary.status !== 403 && summary.status !== 404) return;
        try {
          const caller = callerKey(ctx);
          const result = tracker.record(caller, objectId(ctx), Date.now());
          if (!result.crossed) return;
          audit.warn(
            {
              event: 'authz_enumeration',
              route: ctx.route.name,
              caller,
              subject: ctx.identity?.subject,
              clientIp: ctx.clientIp,
              distinctObjects: result.distinct,
              windowSec: tracker.windowMs / 1000,
              action,
            },
            'possible object id enumeration',
          );
        } catch {
          // a log stage never throws
        }
      },
    };
  },
});

import { deny } from '../../authz/decision.js';
import { isValidIp } from '../../authz/conditions.js';
import { routePolicy } from '../../authz/route-policy.js';
import { ORDER } from '../../pipeline/order.js';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';

const STAGE = 'authz.conditions';

/** Source address allow/deny lists, required mTLS and time windows of a route. */
export default defineStage<undefined>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authzConditions,
  async build(_config, build): Promise<AccessStage | undefined> {
    const policy = await routePolicy(build);
    const conditions = policy?.conditions;
    if (policy === undefined || conditions === undefined) return undefined;
    const { allow, deny: denyList, requireMtls, windows } = conditions;
    const audit = policy.audit;
    return {
      name: STAGE,
      run(ctx) {
        const ip = ctx.clientIp;
        if ((allow !== undefined || denyList !== undefined) && !isValidIp(ip)) {
          deny(audit, ctx, {
            check: 'conditions',
            rule: 'ip',
            reason: 'client_ip_unknown',
            inputs: { clientIp: ip },
          });
        }
        if (denyList?.has(ip) === true) {
          deny(audit, ctx, {
            check: 'conditions',
            rule: 'ipDeny',
            reason: 'ip_denied',
            inputs: { clientIp: ip },
          });
        }
        if (allow !== undefined && !allow.has(ip)) {
          deny(audit, ctx, {
            check: 'conditions',
            rule: 'ipAllow',
            reason: 'ip_not_allowed',
            inputs: { clientIp: ip },
          });
        }
        if (requireMtls) {
          const socket = ctx.tlsSocket;
          const cert = socket?.authorized === true ? socket.getPeerCertificate() : undefined;
          if (cert === undefined || cert === null || Object.keys(cert).length === 0) {
            deny(audit, ctx, {
              check: 'conditions',
              rule: 'requireMtls',
              reason: 'no_verified_client_certificate',
            });
          }
        }
        if (windows !== undefined && !windows.isOpen(Date.now())) {
          deny(audit, ctx, { check: 'conditions', rule: 'timeWindows', reason: 'outside_time_window' });
        }
      },
    };
  },
});

import { Counter } from 'prom-client';
import { GatewayError } from '../errors/gateway-error.js';
import type { Logger } from '../observe/logger.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Services } from '../pipeline/services.js';

export type Check =
  | 'rbac'
  | 'scopes'
  | 'ownership'
  | 'policy'
  | 'properties'
  | 'conditions'
  | 'enumeration'
  | 'method_override'
  | 'no_identity';

/** Why a request was refused or let through: logged and audited, never sent to the client. */
export interface Decision {
  readonly check: Check;
  /** The rule that decided, as written in config (selector, rule text, role grant). */
  readonly rule: string;
  /** The values compared (request values, identity values), shortened. */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** Machine reason, e.g. `not_owner`, `policy_timeout`, `mass_assignment`. */
  readonly reason: string;
}

const MAX_INPUT = 128;

/** Where authorization decisions go: audit lines (`audit: true, component: authz`) and a counter. */
export interface AuthzAudit {
  readonly logger: Logger;
  readonly denials: Counter<'route' | 'check' | 'reason'>;
}

export function authzAudit(services: Services): AuthzAudit {
  return {
    logger: services.logger.child({ audit: true, component: 'authz' }),
    denials: services.metrics.metric(
      'portcullis_authz_denials_total',
      (registry) =>
        new Counter({
          name: 'portcullis_authz_denials_total',
          help: 'Requests refused by authorization, by route, check and reason',
          labelNames: ['route', 'check', 'reason'],
          registers: [registry],
        }),
    ),
  };
}

/** Writes an audit line for a decision (a refusal, or an allowed privileged call). */
export function audit(sink: AuthzAudit, ctx: RequestContext, event: string, decision: Decision): void {
  sink.logger.warn(
    {
      event,
      requestId: ctx.id,
      route: ctx.route.name,
      method: ctx.method,
      path: ctx.path,
      clientIp: ctx.clientIp,
      subject: ctx.identity?.subject,
      consumerId: ctx.identity?.consumerId,
      check: decision.check,
      rule: decision.rule,
      reason: decision.reason,
      inputs: decision.inputs,
    },
    event === 'authz_denied' ? 'authorization denied' : 'authorization event',
  );
}

/** Records the refusal in the access log and the audit log, then throws the generic 403. */
export function deny(sink: AuthzAudit, ctx: RequestContext, decision: Decision): never {
  record(sink, ctx, decision);
  throw new GatewayError('forbidden', { reason: `authz_${decision.check}:${decision.reason}` });
}

/** Like `deny`, with the RFC 6750 `insufficient_scope` challenge naming the scopes needed. */
export function denyScope(
  sink: AuthzAudit,
  ctx: RequestContext,
  decision: Decision,
  scopes: readonly string[],
): never {
  record(sink, ctx, decision);
  throw new GatewayError('insufficient_scope', {
    reason: `authz_scopes:${decision.reason}`,
    headers: { 'www-authenticate': `Bearer error="insufficient_scope", scope="${scopes.join(' ')}"` },
  });
}

function record(sink: AuthzAudit, ctx: RequestContext, decision: Decision): void {
  sink.denials.inc({ route: ctx.route.name, check: decision.check, reason: decision.reason });
  ctx.logFields.authz = {
    decision: 'deny',
    check: decision.check,
    rule: decision.rule,
    reason: decision.reason,
    inputs: decision.inputs,
    subject: ctx.identity?.subject,
  };
  audit(sink, ctx, 'authz_denied', decision);
}

/** Shortens a value for logs. */
export function shorten(value: unknown): unknown {
  if (typeof value === 'string') return value.length > MAX_INPUT ? value.slice(0, MAX_INPUT) + '…' : value;
  if (Array.isArray(value)) return value.slice(0, 10).map(shorten);
  return value;
}

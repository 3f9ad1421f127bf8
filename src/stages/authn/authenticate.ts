import { setTimeout as sleep } from 'node:timers/promises';
import { Counter } from 'prom-client';
import { defineStage, type AccessStage } from '../../pipeline/stage.js';
import { ORDER } from '../../pipeline/order.js';
import type { BuildContext } from '../../pipeline/build-context.js';
import type { RequestContext } from '../../pipeline/context.js';
import type { JSONSchemaType } from '../../pipeline/json-schema.js';
import { GatewayError } from '../../errors/gateway-error.js';
import type { Authenticator } from '../../authn/authenticator.js';
import { AUTHENTICATOR_FACTORIES, findFactory } from '../../authn/registry.js';
import { authenticateAllOf, authenticateAnyOf, type AuthOutcome } from '../../authn/combine.js';
import { bruteForceGuard } from '../../authn/brute-force-service.js';
import type { FailureVerdict } from '../../authn/brute-force.js';
import { takeQueryParam } from '../../authn/query-param.js';
import { compileIdentityHeaders, DEFAULT_FORWARD_HEADERS } from '../../authn/identity-headers.js';
import { CellCounter, type CounterCell } from '../../observe/metric-cells.js';
import {
  BRUTE_FORCE_SCHEMA,
  ROUTE_AUTHENTICATION_SCHEMA,
  type AuthnGlobalConfig,
  type RouteAuthenticationConfig,
} from '../../authn/config.js';

const STAGE = 'authn.authenticate';

/** Headers that must never be overwritten with identity values. */
const RESERVED_HEADERS = new Set([
  'host',
  'connection',
  'keep-alive',
  'transfer-encoding',
  'te',
  'trailer',
  'upgrade',
  'content-length',
  'content-type',
  'content-encoding',
  'authorization',
  'cookie',
  'x-api-key',
  'forwarded',
  'x-forwarded-for',
  'x-forwarded-host',
  'x-forwarded-proto',
]);

function globalSchema(): JSONSchemaType {
  const properties: Record<string, JSONSchemaType> = {
    realm: {
      type: 'string',
      pattern: '^[\\x20-\\x21\\x23-\\x5b\\x5d-\\x7e]{1,64}$',
      default: 'portcullis',
      description: 'Realm in `WWW-Authenticate` challenges.',
    },
    bruteForce: BRUTE_FORCE_SCHEMA,
  };
  for (const factory of AUTHENTICATOR_FACTORIES) {
    if (factory.globalKey !== undefined && factory.globalSchema !== undefined) {
      properties[factory.globalKey] = factory.globalSchema;
    }
  }
  return {
    type: 'object',
    additionalProperties: false,
    description:
      'Authentication settings shared by all routes; each method kind contributes its own sub-section.',
    properties,
  };
}

interface AuthnMetrics {
  /** Cells: plain numbers on the hot path, read by prom-client at scrape (a flood of 401s is hot too). */
  readonly failures: CellCounter<'route' | 'method' | 'reason'>;
  readonly successes: CellCounter<'route' | 'method'>;
  readonly blocks: Counter<'route' | 'subject'>;
}

function authnMetrics(build: BuildContext): AuthnMetrics {
  const { metrics } = build.services;
  return {
    failures: metrics.metric(
      'portcullis_authn_failures_total',
      (registry) =>
        new CellCounter({
          name: 'portcullis_authn_failures_total',
          help: 'Failed authentications, by route, method and precise reason',
          labelNames: ['route', 'method', 'reason'],
          registry,
        }),
    ),
    successes: metrics.metric(
      'portcullis_authn_success_total',
      (registry) =>
        new CellCounter({
          name: 'portcullis_authn_success_total',
          help: 'Successful authentications, by route and method',
          labelNames: ['route', 'method'],
          registry,
        }),
    ),
    blocks: metrics.metric(
      'portcullis_authn_blocked_total',
      (registry) =>
        new Counter({
          name: 'portcullis_authn_blocked_total',
          help: 'Requests refused by brute-force protection, by route and blocked subject (ip or key)',
          labelNames: ['route', 'subject'],
          registers: [registry],
        }),
    ),
  };
}

function withRealm(challenge: string, realm: string): string {
  return challenge.replace('realm="portcullis"', `realm="${realm}"`);
}

export default defineStage<RouteAuthenticationConfig>({
  name: STAGE,
  phase: 'access',
  order: ORDER.access.authn,
  routeKey: 'authentication',
  routeSchema: ROUTE_AUTHENTICATION_SCHEMA,
  globalKey: 'authn',
  globalSchema: globalSchema(),
  async build(config, build): Promise<AccessStage | undefined> {
    if (build.route.public === true) {
      if (config !== undefined) build.fail('a route cannot be both `public: true` and have `authentication`');
      return undefined;
    }
    if (config === undefined) {
      return build.fail(
        'this route has no `authentication` section: add one (e.g. `authentication: { anyOf: [api_key] }`) or mark the route `public: true` to serve it without authentication',
      );
    }
    const global = (build.config.authn ?? {}) as AuthnGlobalConfig;
    const realm = global.realm ?? 'portcullis';
    if (config.anyOf !== undefined && config.allOf !== undefined) {
      build.fail('use either `anyOf` or `allOf`, not both');
    }
    if (config.anyOf === undefined && config.allOf === undefined) {
      build.fail('list the accepted methods in `anyOf` (any one suffices) or `allOf` (all are required)');
    }
    const mode = config.allOf !== undefined ? 'allOf' : 'anyOf';
    const methods = config.allOf ?? config.anyOf ?? [];
    if (methods.length === 0) build.fail('list at least one authentication method', `/${mode}`);

    const authenticators: Authenticator[] = [];
    for (const [index, method] of methods.entries()) {
      const colon = method.indexOf(':');
      const kind = colon === -1 ? method : method.slice(0, colon);
      const instance = colon === -1 ? undefined : method.slice(colon + 1);
      const factory = findFactory(kind);
      if (factory === undefined) {
        return build.fail(
          `unknown authentication method "${method}"; known kinds: ${AUTHENTICATOR_FACTORIES.map((f) => f.kind).join(', ')}`,
          `/${mode}/${index}`,
        );
      }
      authenticators.push(await factory.create(instance, build));
    }

    const forwardHeaders = config.forwardHeaders ?? DEFAULT_FORWARD_HEADERS;
    for (const name of Object.keys(forwardHeaders)) {
      if (RESERVED_HEADERS.has(name.toLowerCase()) || name.toLowerCase().startsWith('proxy-')) {
        build.fail(
          `"${name}" cannot carry identity: it is a connection, framing or credential header`,
          `/forwardHeaders`,
        );
      }
    }
    const headerWriter = compileIdentityHeaders(forwardHeaders);
    const identityHeaderNames = new Set(headerWriter.names);
    const forwardedNames = headerWriter.names;
    const credentialHeaders =
      config.forwardCredential === true
        ? []
        : [...new Set(authenticators.flatMap((a) => a.credentialHeaders ?? []))];
    const queryParams = [...new Set(authenticators.flatMap((a) => a.credentialQueryParams ?? []))];
    const scrubQuery = (ctx: RequestContext): void => {
      for (const name of queryParams) takeQueryParam(ctx, name);
    };
    const challenges = authenticators.map((a) => withRealm(a.challenge, realm));
    const missingChallenge = [...new Set(challenges)].join(', ');
    const guard = bruteForceGuard(build, global.bruteForce);
    const metrics = authnMetrics(build);
    const audit = build.services.logger.child({ audit: true, component: STAGE });
    const routeName = build.route.name;
    const successCells = new Map<string, CounterCell<'route' | 'method'>>();
    const countSuccess = (method: string): void => {
      let cell = successCells.get(method);
      if (cell === undefined) {
        cell = metrics.successes.cell({ route: routeName, method });
        successCells.set(method, cell);
      }
      cell.value++;
    };

    const unauthenticated = (
      reason: string,
      failed: Authenticator | undefined,
      oauthError?: string,
    ): GatewayError => {
      let header = missingChallenge;
      if (failed !== undefined) {
        const failedIndex = authenticators.indexOf(failed);
        const base = challenges[failedIndex];
        const withError = `${base}, error="${oauthError ?? 'invalid_token'}"`;
        // The failed method's challenge carries the error; an identical challenge of another method is not repeated.
        header = [...new Set(challenges.map((c, i) => (i === failedIndex ? withError : c)))]
          .filter((c) => c !== base)
          .join(', ');
      }
      return new GatewayError('unauthenticated', { headers: { 'www-authenticate': header }, reason });
    };

    const blocked = (
      ctx: RequestContext,
      subject: 'ip' | 'key',
      seconds: number,
      credentialId?: string,
    ): GatewayError => {
      metrics.blocks.inc({ route: routeName, subject });
      ctx.logFields.authnReason = `blocked_${subject}`;
      audit.warn(
        {
          event: 'authn_blocked',
          requestId: ctx.id,
          route: routeName,
          clientIp: ctx.clientIp,
          subject,
          credentialId,
        },
        'authentication refused: too many failures',
      );
      return new GatewayError('auth_blocked', {
        headers: { 'retry-after': String(seconds) },
        reason: `blocked_${subject}`,
      });
    };

    const finish = (ctx: RequestContext, outcome: AuthOutcome): void | Promise<void> => {
      scrubQuery(ctx);
      if (outcome.kind === 'ok') {
        const { identity } = outcome;
        if (guard !== undefined && identity.credentialId !== undefined && identity.method === 'api_key') {
          const seconds = guard.blockedSeconds('key', identity.credentialId);
          if (seconds > 0) throw blocked(ctx, 'key', seconds, identity.credentialId);
        }
        ctx.identity = identity;
        for (let i = 0; i < credentialHeaders.length; i++) ctx.dropHeaders.add(credentialHeaders[i]!);
        const values = headerWriter.valuesFor(identity);
        for (let i = 0; i < forwardedNames.length; i++) {
          const value = values[i];
          if (value === undefined) ctx.dropHeaders.add(forwardedNames[i]!);
          else ctx.upstreamHeaders[forwardedNames[i]!] = value;
        }
        // Upstreams behind CGI/WSGI-style servers read `x_consumer_id` as `x-consumer-id`: drop those spellings too.
        const incoming = ctx.req.headers;
        for (const name in incoming) {
          if (name.includes('_') && identityHeaderNames.has(name.replaceAll('_', '-')))
            ctx.dropHeaders.add(name);
        }
        ctx.logFields.authnMethod = identity.method;
        if (identity.consumerId !== undefined) ctx.logFields.consumerId = identity.consumerId;
        if (identity.credentialId !== undefined) ctx.logFields.credentialId = identity.credentialId;
        countSuccess(identity.method);
        return;
      }
      if (outcome.kind === 'missing') {
        ctx.logFields.authnReason =
          outcome.method === undefined ? 'credential_missing' : `credential_missing:${outcome.method}`;
        metrics.failures.inc({
          route: routeName,
          method: outcome.method ?? 'none',
          reason: 'credential_missing',
        });
        throw unauthenticated('credential_missing', undefined);
      }
      const { failure, authenticator } = outcome;
      ctx.logFields.authnMethod = authenticator.method;
      ctx.logFields.authnReason = failure.reason;
      if (failure.credentialId !== undefined) ctx.logFields.credentialId = failure.credentialId;
      metrics.failures.inc({ route: routeName, method: authenticator.method, reason: failure.reason });
      audit.warn(
        {
          event: 'authn_failure',
          requestId: ctx.id,
          route: routeName,
          method: authenticator.method,
          reason: failure.reason,
          clientIp: ctx.clientIp,
          credentialId: failure.credentialId,
        },
        'authentication failed',
      );
      const error = unauthenticated(failure.reason, authenticator, failure.oauthError);
      if (guard === undefined) throw error;
      const byIp = guard.countFailure('ip', ctx.clientIp);
      const byKey =
        failure.credentialId !== undefined && authenticator.method === 'api_key'
          ? guard.countFailure('key', failure.credentialId)
          : undefined;
      const answer = (ip: FailureVerdict, key: FailureVerdict | undefined): Promise<never> => {
        const delayMs = Math.max(ip.delayMs, key?.delayMs ?? 0);
        if (delayMs === 0) throw error;
        return sleep(delayMs).then(() => {
          throw error;
        });
      };
      // counted in this process: answered without a promise unless the answer is delayed
      if (!(byIp instanceof Promise) && !(byKey instanceof Promise)) return answer(byIp, byKey);
      return Promise.all([byIp, byKey]).then(([ip, key]) => answer(ip, key));
    };

    const evaluate =
      mode === 'allOf'
        ? (ctx: RequestContext) => authenticateAllOf(authenticators, ctx)
        : (ctx: RequestContext) => authenticateAnyOf(authenticators, ctx);

    return {
      name: STAGE,
      run(ctx) {
        if (guard !== undefined) {
          const seconds = guard.blockedSeconds('ip', ctx.clientIp);
          if (seconds > 0) {
            scrubQuery(ctx);
            throw blocked(ctx, 'ip', seconds);
          }
        }
        const outcome = evaluate(ctx);
        if (outcome instanceof Promise) return outcome.then((settled) => finish(ctx, settled));
        return finish(ctx, outcome);
      },
    };
  },
});

import { Counter } from 'prom-client';
import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';
import {
  OAUTH_DEFAULTS,
  oauthServerGlobalSchema,
  oauthServerRouteSchema,
  type OAuthServerRouteConfig,
} from '../../oauth/config.js';
import { oauthRuntime, oauthServerConfig } from '../../oauth/runtime.js';
import { OAuthServer } from '../../oauth/server.js';
import { bruteForceGuard, type BruteForceConfig } from '../../authn/brute-force-service.js';

/**
 * The built-in OAuth 2.0 authorization server (client_credentials). A route with an
 * `oauthServer` section is answered entirely here: no upstream is called.
 */
export default defineStage<OAuthServerRouteConfig>({
  name: 'oauth.server',
  phase: 'access',
  // before authentication: the token endpoint authenticates its clients itself
  order: ORDER.access.oauthServer,
  routeKey: 'oauthServer',
  routeSchema: oauthServerRouteSchema,
  globalKey: 'oauthServer',
  globalSchema: oauthServerGlobalSchema,
  async build(config, build) {
    if (config === undefined) return undefined;
    const global = oauthServerConfig(build, build.pointer);
    let runtime;
    try {
      runtime = await oauthRuntime(build, global);
    } catch (error) {
      return build.fail(
        `the authorization server needs the credential store and keyring: ${(error as Error).message}`,
      );
    }
    const requests = build.services.metrics.metric(
      'portcullis_oauth_requests_total',
      (registry) =>
        new Counter({
          name: 'portcullis_oauth_requests_total',
          help: 'Built-in authorization server requests, by endpoint and outcome (ok or the OAuth error code)',
          labelNames: ['endpoint', 'outcome'],
          registers: [registry],
        }),
    );
    const authn = build.config.authn as { realm?: string; bruteForce?: BruteForceConfig } | undefined;
    const realm = authn?.realm ?? 'portcullis';
    const guard = bruteForceGuard(build, authn?.bruteForce);
    const server = new OAuthServer({
      config: global,
      basePath: config.basePath ?? OAUTH_DEFAULTS.basePath,
      realm,
      runtime,
      onOutcome: (endpoint, outcome) => requests.inc({ endpoint, outcome }),
      ...(guard === undefined ? {} : { guard }),
      audit: build.services.logger.child({ audit: true, component: 'oauth.server' }),
    });
    return { name: 'oauth.server', run: (ctx) => server.handle(ctx) };
  },
});

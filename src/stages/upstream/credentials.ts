import { ORDER } from '../../pipeline/order.js';
import { defineStage } from '../../pipeline/stage.js';

interface UpstreamCredentialsConfig {
  readonly headers?: Readonly<Record<string, string>>;
  readonly basic?: { readonly username: string; readonly password: string };
  readonly bearer?: string;
}

const FORBIDDEN = new Set(['host', 'content-length', 'transfer-encoding', 'connection', 'te', 'upgrade']);

/**
 * Injects credentials the upstream expects (an API key header, basic auth, a bearer token),
 * normally from `${secret:…}` references so they are stored encrypted. Whatever the client sent
 * under the same header names is replaced, and the values never reach logs or answers.
 */
export default defineStage<UpstreamCredentialsConfig>({
  name: 'upstream.credentials',
  phase: 'access',
  order: ORDER.access.upstreamCredentials,
  routeKey: 'upstreamCredentials',
  routeSchema: {
    type: 'object',
    additionalProperties: false,
    description:
      'Credentials added to the upstream request (use ${secret:name} so they are encrypted at rest). See docs/secrets.md.',
    properties: {
      headers: {
        type: 'object',
        description: 'Header name → value, e.g. { x-api-key: "${secret:billing-api-key}" }',
        additionalProperties: { type: 'string', minLength: 1 },
        propertyNames: { pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
      },
      basic: {
        type: 'object',
        additionalProperties: false,
        required: ['username', 'password'],
        properties: { username: { type: 'string', pattern: '^[^:]*$' }, password: { type: 'string' } },
      },
      bearer: { type: 'string', minLength: 1 },
    },
  },
  build(config, build) {
    if (!config) return undefined;
    const headers: Record<string, string> = {};
    for (const [name, value] of Object.entries(config.headers ?? {})) {
      const lower = name.toLowerCase();
      if (FORBIDDEN.has(lower))
        build.fail(`header "${name}" cannot be set as an upstream credential`, `/headers/${name}`);
      headers[lower] = value;
    }
    if (config.basic && config.bearer) build.fail('use either `basic` or `bearer`, not both');
    if (config.basic) {
      headers.authorization = `Basic ${Buffer.from(`${config.basic.username}:${config.basic.password}`).toString('base64')}`;
    }
    if (config.bearer) headers.authorization = `Bearer ${config.bearer}`;
    const entries = Object.entries(headers);
    if (entries.length === 0) return undefined;
    return {
      name: 'upstream.credentials',
      run(ctx) {
        for (const [name, value] of entries) ctx.upstreamHeaders[name] = value;
      },
    };
  },
});

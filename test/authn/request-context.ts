import type { RequestContext } from '../../src/pipeline/context.js';

/** A minimal RequestContext for library-level authentication tests. */
export function fakeContext(
  options: { headers?: Record<string, string>; query?: string; clientIp?: string } = {},
): RequestContext {
  const headers = Object.fromEntries(
    Object.entries(options.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]),
  );
  return {
    id: 'req-1',
    startNs: 0n,
    req: { headers } as unknown as RequestContext['req'],
    method: 'GET',
    path: '/orders',
    query: options.query ?? '',
    host: 'api.test',
    clientIp: options.clientIp ?? '192.0.2.10',
    protocol: 'http',
    tlsSocket: undefined,
    route: { name: 'orders' } as RequestContext['route'],
    params: {},
    identity: undefined,
    operation: undefined,
    body: {} as RequestContext['body'],
    upstreamHeaders: {},
    dropHeaders: new Set(),
    responseHeaders: {},
    state: new Map(),
    logFields: {},
    header: (name: string) => headers[name.toLowerCase()],
  };
}

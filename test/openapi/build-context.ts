import { dirname, resolve } from 'node:path';
import { ConfigError } from '../../src/config/config-error.js';
import type { GatewayConfig, RouteConfig } from '../../src/config/types.js';
import { createLogger } from '../../src/observe/logger.js';
import { Metrics } from '../../src/observe/metrics.js';
import type { BuildContext } from '../../src/pipeline/build-context.js';

/** A hand-made BuildContext for library tests (one route, a shared memo). */
export function fakeBuildContext(
  configFile: string,
  route: RouteConfig,
  memo = new Map<string, unknown>(),
  pointer = '/routes/0/openapi',
): BuildContext {
  const configDir = dirname(configFile);
  return {
    file: configFile,
    configDir,
    config: { version: 1, listeners: [], upstreams: {}, routes: [route] } as GatewayConfig,
    route,
    routeIndex: 0,
    pointer,
    services: {
      logger: createLogger({ level: 'silent' }),
      metrics: new Metrics({ defaultMetrics: false }),
      shared: new Map(),
      onClose: () => undefined,
    },
    fail(message: string, subPointer = ''): never {
      throw new ConfigError(configFile, [{ pointer: pointer + subPointer, message }]);
    },
    warn: () => undefined,
    resolvePath: (path: string) => resolve(configDir, path),
    memo,
  };
}

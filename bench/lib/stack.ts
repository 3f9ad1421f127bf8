import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { GatewaySetup } from '../rows.js';
import { startGateway, writeConfig, type RunningGateway } from './gateway.js';
import { firstRequest } from './load-script.js';
import { freePort, startService, waitFor, type Service } from './process.js';

const benchDir = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** The OpenAPI document the validation rows use. */
export const ORDERS_SPEC = join(benchDir, 'fixtures', 'orders.openapi.yaml');

/** Starts bench/upstream.ts (its log in `dir`) and waits for the port it prints. */
export async function startBenchUpstream(
  dir: string,
): Promise<{ service: Service; port: number; url: string }> {
  const service = startService(
    'upstream',
    process.execPath,
    ['--import', 'tsx', join(benchDir, 'upstream.ts')],
    {
      logFile: join(dir, 'upstream.log'),
      cwd: resolve(benchDir, '..'),
    },
  );
  let port = 0;
  try {
    await waitFor('upstream', async () => {
      const line = service.stdout().split('\n')[0] ?? '';
      if (line !== '') port = (JSON.parse(line) as { port: number }).port;
      return port !== 0;
    });
  } catch (error) {
    await service.stop();
    throw error;
  }
  return { service, port, url: `http://127.0.0.1:${port}` };
}

/** A row's gateway config: one listener, the bench upstream as `up`, logs quiet unless the row says. */
export function rowConfig(port: number, upstreamUrl: string, config: Record<string, unknown>): object {
  return {
    version: 1,
    listeners: [{ port }],
    upstreams: { up: { targets: [{ url: upstreamUrl }] } },
    logging: { level: 'warn', accessLog: false },
    ...config,
  };
}

/**
 * Starts one row's gateway in front of the bench upstream (config written to `dir` as `name`)
 * and waits until it answers the row's request. `nodeArgs` come before the row's own.
 */
export async function startRowGateway(options: {
  readonly name: string;
  readonly main: string;
  readonly setup: GatewaySetup;
  readonly upstreamUrl: string;
  readonly dir: string;
  readonly env: NodeJS.ProcessEnv;
  readonly nodeArgs?: readonly string[];
}): Promise<RunningGateway> {
  const { name, setup, dir } = options;
  const port = await freePort();
  const configFile = writeConfig(dir, name, rowConfig(port, options.upstreamUrl, setup.config));
  return startGateway({
    name,
    main: options.main,
    configFile,
    port,
    dir,
    env: options.env,
    nodeArgs: [...(options.nodeArgs ?? []), ...(setup.nodeArgs ?? [])],
    ready: { ...firstRequest(setup.load), expectStatus: setup.load.expectStatus },
  });
}

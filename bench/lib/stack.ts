import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startService, waitFor, type Service } from './process.js';

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

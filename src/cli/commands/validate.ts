import { parseArgs } from 'node:util';
import { ConfigError, formatIssues } from '../../config/config-error.js';
import { loadConfigFile } from '../../config/load.js';
import { createLogger } from '../../observe/logger.js';
import { Metrics } from '../../observe/metrics.js';
import { buildRouteTable } from '../../pipeline/route-table.js';
import type { CliIo } from '../io.js';

/** `portcullis validate FILE`: schema, references and every route's stages are built. */
export async function run(args: string[], io: CliIo): Promise<number> {
  const { positionals, values } = parseArgs({
    args,
    allowPositionals: true,
    options: { json: { type: 'boolean' }, help: { type: 'boolean' } },
  });
  const file = positionals[0];
  if (values.help || file === undefined) {
    io.stdout(
      'Usage: portcullis validate FILE [--json]\nChecks a config file: schema, references, and that every route builds.',
    );
    return file === undefined && !values.help ? 2 : 0;
  }
  const services = {
    logger: createLogger({ level: 'silent' }),
    metrics: new Metrics({ defaultMetrics: false }),
    shared: new Map<string, unknown>(),
    closers: [] as (() => unknown)[],
    onClose(fn: () => unknown) {
      this.closers.push(fn);
    },
  };
  try {
    const loaded = await loadConfigFile(file, { resolveSecret: async () => 'validated-secret-placeholder' });
    const table = await buildRouteTable(loaded, services);
    await table.close();
    for (const close of services.closers) await close();
    if (values.json)
      io.stdout(JSON.stringify({ valid: true, routes: table.routes.length, warnings: table.warnings }));
    else {
      if (table.warnings.length)
        io.stderr(formatIssues(loaded.file, table.warnings).replace(/^/gm, 'warning: '));
      io.stdout(`${loaded.file}: valid (${table.routes.length} routes, ${table.warnings.length} warnings)`);
    }
    return 0;
  } catch (error) {
    for (const close of services.closers) await Promise.resolve(close()).catch(() => undefined);
    if (error instanceof ConfigError) {
      if (values.json) io.stdout(JSON.stringify({ valid: false, file: error.file, errors: error.issues }));
      else io.stderr(error.message.replace(/^/gm, 'error: '));
      return 1;
    }
    throw error;
  }
}

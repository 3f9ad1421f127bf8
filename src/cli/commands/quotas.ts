import { parseArgs } from 'node:util';
import { loadConfigFile } from '../../config/load.js';
import { openOfflineQuotas } from '../../traffic/quota-offline.js';
import { resolveQuotaSubject } from '../../traffic/quota-admin.js';
import { quotaUsage, resetQuotas } from '../../traffic/quota-registry.js';
import type { CliIo } from '../io.js';

const USAGE = `usage:
  portcullis quotas show  (--consumer <id|name> | --plan <plan>) [--config file] [--json]
  portcullis quotas reset (--consumer <id|name> | --plan <plan>) [--quota name ...] [--config file] [--json]`;

/** `portcullis quotas show|reset`: reads the quota stores the config names (Redis or the credential store). */
export async function run(args: string[], io: CliIo): Promise<number> {
  const [sub, ...rest] = args;
  if (sub !== 'show' && sub !== 'reset') {
    (sub === undefined || sub === '--help' || sub === '-h' ? io.stdout : io.stderr)(USAGE);
    return sub === '--help' || sub === '-h' ? 0 : 2;
  }
  let values: { config?: string; consumer?: string; plan?: string; quota?: string[]; json?: boolean };
  try {
    values = parseArgs({
      args: rest,
      options: {
        config: { type: 'string', short: 'c' },
        consumer: { type: 'string' },
        plan: { type: 'string' },
        quota: { type: 'string', multiple: true },
        json: { type: 'boolean' },
      },
      strict: true,
      allowPositionals: false,
    }).values;
  } catch (error) {
    io.stderr(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  if (values.consumer === undefined && values.plan === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  let opened: Awaited<ReturnType<typeof openOfflineQuotas>> | undefined;
  try {
    const loaded = await loadConfigFile(values.config ?? 'portcullis.yaml');
    const quotas = await openOfflineQuotas(loaded.config, loaded.configDir);
    opened = quotas;
    const who = await resolveQuotaSubject(() => quotas.store, values.consumer, values.plan);
    if (who === undefined) {
      io.stderr(`error: no consumer "${values.consumer}"`);
      return 1;
    }
    if (sub === 'show') {
      const usage = await quotaUsage(quotas.quotas, who);
      if (values.json === true) io.stdout(JSON.stringify(usage, null, 2));
      else if (usage.length === 0) io.stdout('no quotas apply');
      else {
        io.stdout(
          usage
            .map((u) => `${u.quota}\t${u.subject}\t${u.period}\t${u.used}/${u.limit}\tresets ${u.resetsAt}`)
            .join('\n'),
        );
      }
    } else {
      const reset = await resetQuotas(quotas.quotas, who, values.quota ?? []);
      io.stdout(values.json === true ? JSON.stringify({ reset }) : `reset: ${reset.join(', ') || 'nothing'}`);
    }
    return 0;
  } catch (error) {
    io.stderr(`error: ${error instanceof Error ? error.message : String(error)}`);
    return 1;
  } finally {
    await opened?.close();
  }
}

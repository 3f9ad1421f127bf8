import { existsSync } from 'node:fs';
import { chmod, rm } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { readKeyringSections } from '../../crypto/config-secrets.js';
import { resolveStorePath } from '../../store/index.js';
import { SqliteStore } from '../../store/sqlite.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: portcullis store backup <file> [--config FILE] [--force] [--json]

  backup <file>   consistent online copy of the embedded SQLite store (the gateway may keep running).
                  The copy holds encrypted secrets and credential hashes, but not the KEK: keep
                  the KEK file's backup somewhere else. For PostgreSQL use pg_dump.`;

export async function run(args: string[], io: CliIo): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args,
      allowPositionals: true,
      strict: true,
      options: {
        config: { type: 'string' },
        json: { type: 'boolean' },
        force: { type: 'boolean' },
        help: { type: 'boolean', short: 'h' },
      },
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, target] = positionals;
  if (values.help === true) {
    io.stdout(USAGE);
    return 0;
  }
  if (sub !== 'backup' || target === undefined) {
    io.stderr(USAGE);
    return 2;
  }
  try {
    const sections = await readKeyringSections(values.config ?? 'portcullis.yaml', {
      optional: values.config === undefined,
    });
    if (sections.store?.type === 'postgres') {
      io.stderr(
        'the store is PostgreSQL: back it up with pg_dump (e.g. pg_dump --format=custom --file=portcullis.dump <url>)',
      );
      return 1;
    }
    const source = resolveStorePath(sections.store?.path, sections.configDir);
    if (!existsSync(source)) {
      io.stderr(`no store at ${source}`);
      return 1;
    }
    const destination = resolve(target);
    if (destination === source) {
      io.stderr('the backup file must differ from the store file');
      return 1;
    }
    if (existsSync(destination)) {
      if (values.force !== true) {
        io.stderr(`${destination} exists; pass --force to replace it`);
        return 1;
      }
      await rm(destination);
    }
    const store = new SqliteStore(source);
    // the copy (and any file SQLite makes beside it) is created 0600, never readable meanwhile
    const umask = process.umask(0o077);
    try {
      await store.backup(destination);
    } finally {
      process.umask(umask);
      await store.close();
    }
    await chmod(destination, 0o600);
    io.stdout(
      values.json === true
        ? JSON.stringify({ source, backup: destination })
        : `backed up ${source} to ${destination}`,
    );
    return 0;
  } catch (error) {
    io.stderr(`portcullis store backup: ${(error as Error).message}`);
    return 1;
  }
}

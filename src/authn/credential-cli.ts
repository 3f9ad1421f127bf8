import { parseArgs, type ParseArgsConfig } from 'node:util';
import { readFile } from 'node:fs/promises';
import { loadConfigFile } from '../config/load.js';
import { ConfigError } from '../config/config-error.js';
import { CredentialAdminError, type CredentialAdmin } from './credential-admin.js';
import { openCredentialAdmin } from './credential-admin-open.js';

import type { CliIo } from '../cli/io.js';

export type { CliIo };

export interface CommandContext {
  readonly admin: CredentialAdmin;
  readonly values: Record<string, string | boolean | string[] | undefined>;
  readonly positionals: string[];
  readonly json: boolean;
  print(value: unknown, text: () => string): void;
}

type Options = NonNullable<ParseArgsConfig['options']>;

const COMMON_OPTIONS: Options = {
  config: { type: 'string', short: 'c' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};

export const DEFAULT_CONFIG_FILE = 'portcullis.yaml';

export interface SubcommandSpec {
  readonly usage: string;
  readonly options?: Options;
  /** Number of positional arguments required. */
  readonly positionals?: number;
  run(ctx: CommandContext): Promise<void>;
}

/**
 * Runs `portcullis <group> <subcommand> ...`: parses flags, opens the store from the config
 * file, prints human text or `--json`. Exit codes: 0 done, 1 failed, 2 usage error.
 */
export async function runSubcommand(
  group: string,
  specs: Readonly<Record<string, SubcommandSpec>>,
  args: readonly string[],
  io: CliIo,
): Promise<number> {
  const [name, ...rest] = args;
  const spec = name === undefined ? undefined : specs[name];
  const usage = () =>
    Object.entries(specs)
      .map(([sub, s]) => `  portcullis ${group} ${sub} ${s.usage} [--config file] [--json]`)
      .join('\n');
  if (spec === undefined) {
    if (name === undefined || name === 'help' || name === '--help' || name === '-h') {
      io.stdout(`usage:\n${usage()}\n`);
      return name === undefined ? 2 : 0;
    }
    io.stderr(`unknown command: ${group} ${name}\nusage:\n${usage()}\n`);
    return 2;
  }
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({
      args: [...rest],
      options: { ...COMMON_OPTIONS, ...spec.options },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    io.stderr(`${(error as Error).message}\nusage: portcullis ${group} ${name} ${spec.usage}\n`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help === true) {
    io.stdout(`usage: portcullis ${group} ${name} ${spec.usage} [--config file] [--json]\n`);
    return 0;
  }
  if (positionals.length !== (spec.positionals ?? 0)) {
    io.stderr(`usage: portcullis ${group} ${name} ${spec.usage}\n`);
    return 2;
  }
  const json = values.json === true;
  /** Errors go to stderr: one line of text, or `{"error": ..., "code": ...}` with --json. */
  const report = (message: string, code?: string): void => {
    io.stderr(
      json
        ? JSON.stringify({ error: message, ...(code === undefined ? {} : { code }) }) + '\n'
        : `error: ${message}\n`,
    );
  };
  let opened: Awaited<ReturnType<typeof openCredentialAdmin>> | undefined;
  try {
    const configFile = typeof values.config === 'string' ? values.config : DEFAULT_CONFIG_FILE;
    opened = await openCredentialAdmin(await loadConfigFile(configFile));
    await spec.run({
      admin: opened.admin,
      values: values as CommandContext['values'],
      positionals,
      json,
      print(value, text) {
        io.stdout(json ? JSON.stringify(value, null, 2) + '\n' : text() + '\n');
      },
    });
    return 0;
  } catch (error) {
    if (
      error instanceof CredentialAdminError ||
      error instanceof ConfigError ||
      error instanceof UsageError
    ) {
      report(error.message, error instanceof CredentialAdminError ? error.code : undefined);
      return error instanceof UsageError ? 2 : 1;
    }
    report(error instanceof Error ? error.message : String(error));
    return 1;
  } finally {
    await opened?.close();
  }
}

export class UsageError extends Error {}

/** `a,b, c` -> ['a','b','c'] (repeatable flags are joined). */
export function listOption(value: unknown): string[] | undefined {
  if (value === undefined) return undefined;
  const items = (Array.isArray(value) ? value : [value]).flatMap((v) => String(v).split(','));
  return items.map((item) => item.trim()).filter((item) => item !== '');
}

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** `90s`, `15m`, `12h`, `30d`, `2w` or `0` -> milliseconds. */
export function parseDuration(value: string, what: string): number {
  if (value === '0') return 0;
  const match = /^(\d{1,9})([smhdw])$/.exec(value);
  if (match === null) throw new UsageError(`${what}: expected a duration such as 90s, 15m, 12h, 30d`);
  return Number(match[1]) * (UNIT_MS[match[2] as string] as number);
}

/** A duration from now (`30d`) or an ISO 8601 date -> ms since epoch. */
export function parseExpiry(value: string, now = Date.now()): number {
  if (/^\d{1,9}[smhdw]$/.test(value)) return now + parseDuration(value, '--expires');
  const at = Date.parse(value);
  if (Number.isNaN(at) || !/^\d{4}-\d{2}-\d{2}/.test(value))
    throw new UsageError('--expires: expected a duration (30d) or an ISO date');
  return at;
}

/** `k=v` pairs -> object (values kept as strings). */
export function attributesOption(value: unknown): Record<string, string> | undefined {
  if (value === undefined) return undefined;
  const out: Record<string, string> = {};
  for (const pair of Array.isArray(value) ? value : [value]) {
    const text = String(pair);
    const eq = text.indexOf('=');
    if (eq <= 0) throw new UsageError(`--attr expects name=value, got ${text}`);
    out[text.slice(0, eq)] = text.slice(eq + 1);
  }
  return out;
}

export async function readJsonFile(path: string): Promise<unknown> {
  try {
    return JSON.parse(await readFile(path, 'utf8')) as unknown;
  } catch (error) {
    throw new UsageError(`cannot read JSON from ${path}: ${(error as Error).message}`);
  }
}

/** Fixed-width text table. */
export function table(rows: readonly (readonly string[])[]): string {
  if (rows.length === 0) return '';
  const widths = (rows[0] as readonly string[]).map((_, col) =>
    Math.max(...rows.map((row) => (row[col] ?? '').length)),
  );
  return rows
    .map((row) =>
      row
        .map((cell, col) => cell.padEnd(widths[col] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

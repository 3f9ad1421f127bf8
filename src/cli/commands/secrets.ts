import { randomBytes } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DEFAULT_KEK, DEFAULT_KEK_ENV, type KekConfig, type SecretsConfig } from '../../crypto/config.js';
import {
  openSecretsForConfig,
  readKeyringSections,
  type KeyringSections,
} from '../../crypto/config-secrets.js';
import { readConfigDocument } from '../../config/load.js';
import { rotateKek } from '../../crypto/rotate.js';
import { assertSecretName, RESERVED_SECRET_PREFIX, setSecret } from '../../crypto/secrets.js';
import { rotateSigningKey, type SigningAlg } from '../../crypto/signing-keys.js';
import type { SigningKeyRecord } from '../../store/types.js';
import type { CliIo } from '../io.js';

const USAGE = `Usage: portcullis secrets <command> [--config FILE] [--json]

  init                       create the KEK file (32 random bytes, mode 0600) and the pepper
  set <name> [--value V]     store a secret (value from --value or stdin); --description TEXT
  set <name> --generate      store 256 random bits and show them once (e.g. an admin token)
  list [--all]               names and metadata, never values (--all shows internal entries)
  delete <name>              remove a stored secret
  rotate --generate          add a new KEK version (new key file; --write-config updates the YAML)
  rotate                     re-wrap every data key under the current KEK and report unused versions
  signing-keys               list the OAuth token-signing keys (kid, alg, status; never private parts)
  rotate-signing-key [--publish-for 15m]
                             new signing key now; the old one stays in the JWKS for the window
                             (default: oauthServer.tokenTtlSec + 5 minutes)

Config references stored secrets as \${secret:name}.`;

const OPTIONS = {
  config: { type: 'string' },
  json: { type: 'boolean' },
  value: { type: 'string' },
  description: { type: 'string' },
  all: { type: 'boolean' },
  generate: { type: 'boolean' },
  'write-config': { type: 'boolean' },
  'batch-size': { type: 'string' },
  'publish-for': { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Reads stdin to the end (for `secrets set` without --value); drops one trailing newline. */
async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks)
    .toString('utf8')
    .replace(/\r?\n$/, '');
}

export interface SecretsCommandDeps {
  /** Where `secrets set` reads a value when --value is absent (tests). */
  readonly readValue?: () => Promise<string>;
}

export async function run(args: string[], io: CliIo, deps: SecretsCommandDeps = {}): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({ args, options: OPTIONS, allowPositionals: true, strict: true });
  } catch (error) {
    io.stderr(`${(error as Error).message}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  const [sub, ...rest] = positionals;
  if (values.help === true || sub === undefined) {
    io.stdout(USAGE);
    return sub === undefined && values.help !== true ? 2 : 0;
  }
  const json = values.json === true;
  const print = (data: unknown, text: string): void => io.stdout(json ? JSON.stringify(data, null, 2) : text);
  const configFile = values.config ?? 'portcullis.yaml';
  try {
    const sections = await readKeyringSections(configFile, { optional: values.config === undefined });
    switch (sub) {
      case 'init':
        return await init(sections, io, print);
      case 'set': {
        const name = rest[0];
        if (name === undefined) return usage(io, 'secrets set needs a name');
        assertSecretName(name);
        if (values.generate === true && values.value !== undefined) {
          return usage(io, '--generate and --value exclude each other');
        }
        // --generate: 256 random bits, shown once (e.g. an admin token to hand to operators)
        const generated = values.generate === true ? randomBytes(32).toString('base64url') : undefined;
        const value = generated ?? values.value ?? (await (deps.readValue ?? readStdin)());
        if (value === '') return usage(io, 'refusing to store an empty secret');
        const opened = await openSecretsForConfig(sections);
        try {
          const metadata = {
            ...(values.description === undefined ? {} : { description: values.description }),
            ...(generated === undefined ? {} : { generated: true }),
          };
          await setSecret(opened.keyring, opened.store, name, value, metadata);
        } finally {
          await opened.close();
        }
        const stored = `stored secret ${name}; reference it as \${secret:${name}}`;
        if (generated === undefined) print({ name, stored: true }, stored);
        else print({ name, stored: true, value: generated }, `${stored}\nvalue (shown once): ${generated}`);
        return 0;
      }
      case 'list': {
        const opened = await openSecretsForConfig(sections);
        try {
          const list = (await opened.store.listSecrets()).filter(
            (s) => values.all === true || !s.name.startsWith(RESERVED_SECRET_PREFIX),
          );
          const rows = list.map((s) => ({
            name: s.name,
            kekVersion: s.kekVersion,
            metadata: s.metadata,
            createdAt: new Date(s.createdAt).toISOString(),
            updatedAt: new Date(s.updatedAt).toISOString(),
          }));
          print(
            rows,
            rows.length === 0
              ? 'no secrets stored'
              : table([
                  ['NAME', 'KEK', 'UPDATED', 'METADATA'],
                  ...rows.map((r) => [r.name, `v${r.kekVersion}`, r.updatedAt, JSON.stringify(r.metadata)]),
                ]),
          );
        } finally {
          await opened.close();
        }
        return 0;
      }
      case 'delete': {
        const name = rest[0];
        if (name === undefined) return usage(io, 'secrets delete needs a name');
        assertSecretName(name);
        const opened = await openSecretsForConfig(sections);
        try {
          const deleted = await opened.store.deleteSecret(name);
          if (!deleted) {
            io.stderr(`no secret named ${name}`);
            return 1;
          }
        } finally {
          await opened.close();
        }
        print({ name, deleted: true }, `deleted secret ${name}`);
        return 0;
      }
      case 'rotate':
        if (values.generate === true)
          return await generateKek(sections, values['write-config'] === true, io, print);
        return await rewrap(sections, values['batch-size'], print);
      case 'signing-keys':
        return await listSigningKeys(sections, print);
      case 'rotate-signing-key':
        return await rotateSigning(sections, values['publish-for'], print);
      default:
        return usage(io, `unknown secrets command "${sub}"`);
    }
  } catch (error) {
    io.stderr(`portcullis secrets ${sub}: ${(error as Error).message}`);
    return 1;
  }
}

function usage(io: CliIo, message: string): number {
  io.stderr(`${message}\n\n${USAGE}`);
  return 2;
}

function table(rows: readonly (readonly string[])[]): string {
  const widths = rows[0]?.map((_, i) => Math.max(...rows.map((r) => (r[i] ?? '').length))) ?? [];
  return rows
    .map((r) =>
      r
        .map((c, i) => c.padEnd(widths[i] ?? 0))
        .join('  ')
        .trimEnd(),
    )
    .join('\n');
}

function kekPath(kek: KekConfig, configDir: string): string {
  const p = kek.path ?? (DEFAULT_KEK.path as string);
  return isAbsolute(p) ? p : resolve(configDir, p);
}

/** Writes a new 32-byte KEK file with mode 0600; never overwrites. */
async function writeKekFile(path: string): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  await writeFile(path, randomBytes(32).toString('base64') + '\n', { mode: 0o600, flag: 'wx' });
}

async function init(
  sections: KeyringSections,
  io: CliIo,
  print: (data: unknown, text: string) => void,
): Promise<number> {
  const kek = sections.secrets?.kek ?? DEFAULT_KEK;
  let created: string | undefined;
  if (kek.provider === 'env') {
    const name = kek.env ?? DEFAULT_KEK_ENV;
    if ((process.env[name] ?? '') === '') {
      // The one place a new key is shown, once; it is not stored anywhere by the gateway.
      const key = randomBytes(32).toString('base64');
      print(
        { env: name, kek: key },
        `generated a KEK for the env provider (shown once, store it in your secret manager):\n${name}=${key}\nthen run \`portcullis secrets init\` again with it set.`,
      );
      return 0;
    }
  }
  if (kek.provider === 'file') {
    const path = kekPath(kek, sections.configDir);
    if (existsSync(path)) {
      io.stderr(
        `KEK file ${path} already exists; refusing to overwrite it (the store's secrets depend on it)`,
      );
      return 1;
    }
    await writeKekFile(path);
    created = path;
  }
  // Records the KEK check value and creates the pepper, so a wrong key is caught at next start.
  const opened = await openSecretsForConfig(sections);
  await opened.close();
  const text =
    created === undefined
      ? `KEK provider "${kek.provider}" is configured; the key was checked and the pepper created. Keep the key out of the store's backups.`
      : `created KEK file ${created} (mode 0600). Back it up separately from the store: without it, stored secrets cannot be read.`;
  print({ kekFile: created ?? null, version: kek.version ?? 1 }, text);
  return 0;
}

async function generateKek(
  sections: KeyringSections,
  writeConfig: boolean,
  io: CliIo,
  print: (data: unknown, text: string) => void,
): Promise<number> {
  const current = sections.secrets?.kek ?? DEFAULT_KEK;
  if (current.provider !== 'file') {
    io.stderr(
      `the current KEK comes from the ${current.provider} provider: create the new key there, then set secrets.kek to it (version ${(current.version ?? 1) + 1}) and move the old entry to secrets.previous`,
    );
    return 1;
  }
  const previous = sections.secrets?.previous ?? [];
  const nextVersion = Math.max(current.version ?? 1, ...previous.map((p) => p.version ?? 1)) + 1;
  const currentPath = kekPath(current, sections.configDir);
  const newPath = join(dirname(currentPath), `kek-v${nextVersion}.key`);
  await writeKekFile(newPath);
  const relPath = relative(sections.configDir, newPath);
  const newKek: KekConfig = {
    version: nextVersion,
    provider: 'file',
    path: relPath.startsWith('..') ? newPath : `./${relPath}`,
  };
  const oldKek: KekConfig = { ...current, version: current.version ?? 1 };
  const next: SecretsConfig = { kek: newKek, previous: [oldKek, ...previous] };
  let wroteConfig = false;
  if (writeConfig) {
    if (sections.file === undefined || !['.yaml', '.yml'].includes(extname(sections.file))) {
      io.stderr('--write-config edits YAML config files only; update the config by hand');
    } else {
      await updateYamlSecrets(sections.file, next);
      wroteConfig = true;
    }
  }
  const snippet = [
    'secrets:',
    '  kek:',
    `    version: ${nextVersion}`,
    '    provider: file',
    `    path: ${newKek.path}`,
    '  previous:',
    ...next.previous!.flatMap((p) => [
      `    - version: ${p.version ?? 1}`,
      `      provider: ${p.provider}`,
      ...(p.path === undefined ? [] : [`      path: ${p.path}`]),
      ...(p.env === undefined ? [] : [`      env: ${p.env}`]),
      ...(p.command === undefined ? [] : [`      command: ${JSON.stringify(p.command)}`]),
    ]),
  ].join('\n');
  print(
    { kekFile: newPath, version: nextVersion, configUpdated: wroteConfig, secrets: next },
    [
      `created KEK version ${nextVersion}: ${newPath} (mode 0600)`,
      wroteConfig ? `updated ${basename(sections.file as string)}:` : 'put this in the config:',
      snippet,
      'then reload every gateway node and run `portcullis secrets rotate` to re-wrap the data keys.',
    ].join('\n'),
  );
  return 0;
}

/** Replaces the `secrets:` section of a YAML file, keeping the rest (and its comments). */
async function updateYamlSecrets(file: string, next: SecretsConfig): Promise<void> {
  const { doc } = readConfigDocument(file, await readFile(file, 'utf8'));
  doc.setIn(['secrets', 'kek'], doc.createNode(next.kek));
  doc.setIn(['secrets', 'previous'], doc.createNode(next.previous));
  await writeFile(`${file}.bak`, await readFile(file), { mode: 0o600 });
  await writeFile(file, doc.toString());
}

async function rewrap(
  sections: KeyringSections,
  batchSizeText: string | undefined,
  print: (data: unknown, text: string) => void,
): Promise<number> {
  const batchSize = batchSizeText === undefined ? 100 : Number(batchSizeText);
  if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) {
    throw new TypeError('--batch-size must be an integer between 1 and 10000');
  }
  const opened = await openSecretsForConfig(sections);
  try {
    const result = await rotateKek(opened.keyring, opened.store, { batchSize });
    const usage = Object.fromEntries([...result.usage].map(([v, n]) => [`v${v}`, n]));
    const lines = [
      `re-wrapped ${result.rewrapped} data key(s) under KEK version ${opened.keyring.currentVersion}`,
      `data keys per KEK version: ${
        Object.entries(usage)
          .map(([v, n]) => `${v}=${n}`)
          .join(', ') || 'none'
      }`,
      result.retirable.length === 0
        ? 'no older KEK version to retire'
        : `KEK version(s) ${result.retirable.join(', ')} no longer wrap anything: remove them from secrets.previous and destroy their keys`,
    ];
    print(
      {
        currentVersion: opened.keyring.currentVersion,
        rewrapped: result.rewrapped,
        usage,
        retirable: result.retirable,
      },
      lines.join('\n'),
    );
  } finally {
    await opened.close();
  }
  return 0;
}

/** The `oauthServer` settings that matter for signing keys (read without full validation). */
function oauthSettings(sections: KeyringSections): { alg: SigningAlg; tokenTtlSec: number } {
  const raw =
    sections.file === undefined
      ? undefined
      : ((readConfigDocument(sections.file).doc.toJS() as Record<string, unknown> | null)?.['oauthServer'] as
          { signingAlg?: unknown; tokenTtlSec?: unknown } | undefined);
  return {
    alg: raw?.signingAlg === 'EdDSA' ? 'EdDSA' : 'ES256',
    tokenTtlSec: typeof raw?.tokenTtlSec === 'number' ? raw.tokenTtlSec : 600,
  };
}

function parseDuration(text: string): number {
  const match = /^(\d+)(s|m|h|d)?$/.exec(text.trim());
  if (match === null) throw new TypeError(`bad duration "${text}" (e.g. 900, 90s, 15m, 2h, 1d)`);
  const unit = { s: 1, m: 60, h: 3600, d: 86_400 }[(match[2] ?? 's') as 's' | 'm' | 'h' | 'd'];
  return Number(match[1]) * unit * 1000;
}

function signingKeyStatus(record: SigningKeyRecord, now: number): string {
  if (record.retiredAt === null || record.retiredAt > now) return 'active';
  if (record.notAfter === null || record.notAfter > now) return 'published';
  return 'expired';
}

async function listSigningKeys(
  sections: KeyringSections,
  print: (data: unknown, text: string) => void,
): Promise<number> {
  const opened = await openSecretsForConfig(sections);
  try {
    const now = Date.now();
    const iso = (t: number | null) => (t === null ? null : new Date(t).toISOString());
    const rows = (await opened.store.listSigningKeys()).map((r) => ({
      kid: r.kid,
      alg: r.alg,
      status: signingKeyStatus(r, now),
      createdAt: iso(r.createdAt),
      retiredAt: iso(r.retiredAt),
      publishedUntil: iso(r.notAfter),
      kekVersion: r.privateKey.kekVersion,
    }));
    print(
      rows,
      rows.length === 0
        ? 'no signing keys yet (the authorization server creates one on first use)'
        : table([
            ['KID', 'ALG', 'STATUS', 'CREATED', 'PUBLISHED UNTIL'],
            ...rows.map((r) => [r.kid, r.alg, r.status, r.createdAt ?? '-', r.publishedUntil ?? '-']),
          ]),
    );
  } finally {
    await opened.close();
  }
  return 0;
}

async function rotateSigning(
  sections: KeyringSections,
  publishFor: string | undefined,
  print: (data: unknown, text: string) => void,
): Promise<number> {
  const oauth = oauthSettings(sections);
  const minimum = oauth.tokenTtlSec * 1000;
  const publishForMs = publishFor === undefined ? minimum + 300_000 : parseDuration(publishFor);
  if (publishForMs < minimum) {
    throw new TypeError(
      `--publish-for must be at least the token lifetime (${oauth.tokenTtlSec}s), or tokens signed by the old key stop verifying early`,
    );
  }
  const opened = await openSecretsForConfig(sections);
  try {
    const created = await rotateSigningKey(opened.keyring, opened.store, { alg: oauth.alg, publishForMs });
    const until = new Date(Date.now() + publishForMs).toISOString();
    print(
      { kid: created.kid, alg: created.alg, previousPublishedUntil: until },
      `new ${created.alg} signing key ${created.kid} is active on every node; previous keys stay published until ${until}`,
    );
  } finally {
    await opened.close();
  }
  return 0;
}

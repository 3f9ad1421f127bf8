import { execFile } from 'node:child_process';
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import { DEFAULT_KEK_ENV, DEFAULT_KEK_PATH, type KekConfig } from './config.js';
import { KeyringError } from './errors.js';
import { KNOWN_EXAMPLE_KEKS } from './known-example-keys.js';

export const KEK_BYTES = 32;

/** One version of the key-encryption key, wherever it is kept. */
export interface KekProvider {
  readonly version: number;
  /** Where the key comes from, for messages (never the key). */
  readonly source: string;
  load(): Promise<Buffer>;
}

export function createKekProvider(config: KekConfig, configDir: string): KekProvider {
  const version = config.version ?? 1;
  switch (config.provider) {
    case 'file': {
      const path = resolveIn(configDir, config.path ?? DEFAULT_KEK_PATH);
      return { version, source: `file ${path}`, load: () => loadFileKek(path) };
    }
    case 'env': {
      const name = config.env ?? DEFAULT_KEK_ENV;
      return { version, source: `environment variable ${name}`, load: async () => loadEnvKek(name) };
    }
    case 'command': {
      const argv = config.command ?? [];
      if (argv.length === 0)
        throw new KeyringError('config_invalid', 'secrets.kek.command must name a program');
      return {
        version,
        source: `command ${argv[0]}`,
        load: () => loadCommandKek(argv, config.timeoutMs ?? 10_000),
      };
    }
    default:
      throw new KeyringError(
        'config_invalid',
        `unknown KEK provider ${String((config as { provider: unknown }).provider)}`,
      );
  }
}

function resolveIn(dir: string, path: string): string {
  return isAbsolute(path) ? path : resolve(dir, path);
}

async function loadFileKek(path: string): Promise<Buffer> {
  const source = `KEK file ${path}`;
  let info;
  try {
    info = await stat(path);
  } catch (error) {
    if ((error as { code?: unknown }).code === 'ENOENT') {
      throw new KeyringError(
        'kek_missing',
        `${source} does not exist; create it with \`portcullis secrets init\``,
      );
    }
    throw new KeyringError('kek_missing', `${source} cannot be read`, { cause: error });
  }
  if (!info.isFile()) throw new KeyringError('kek_invalid', `${source} is not a regular file`);
  if (process.platform !== 'win32' && (info.mode & 0o077) !== 0) {
    throw new KeyringError(
      'kek_insecure_permissions',
      `${source} is readable or writable by group or others (mode ${(info.mode & 0o777).toString(8)}); run chmod 600`,
    );
  }
  return decodeKek(await readFile(path, 'utf8'), source);
}

function loadEnvKek(name: string): Buffer {
  const value = process.env[name];
  if (value === undefined || value.trim() === '') {
    throw new KeyringError('kek_missing', `environment variable ${name} holding the KEK is not set`);
  }
  return decodeKek(value, `KEK in environment variable ${name}`);
}

function loadCommandKek(argv: readonly string[], timeoutMs: number): Promise<Buffer> {
  const [program, ...args] = argv as [string, ...string[]];
  const source = `KEK command ${program}`;
  return new Promise((resolvePromise, reject) => {
    execFile(
      program,
      args,
      { timeout: timeoutMs, maxBuffer: 64 * 1024, encoding: 'utf8', windowsHide: true },
      (error, stdout) => {
        if (error !== null) {
          const code = (error as { code?: unknown }).code;
          const why = error.killed
            ? `timed out after ${timeoutMs} ms`
            : `failed (${String(code ?? error.signal ?? 'error')})`;
          // stdout/stderr are not quoted: they may hold key material.
          reject(new KeyringError('kek_provider_failed', `${source} ${why}`));
          return;
        }
        try {
          resolvePromise(decodeKek(stdout, source));
        } catch (decodeError) {
          reject(decodeError as Error);
        }
      },
    );
  });
}

const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes and vets a base64 KEK: exactly 32 bytes, not an example value, not degenerate. */
export function decodeKek(text: string, source: string): Buffer {
  const trimmed = text.trim();
  if (trimmed === '') throw new KeyringError('kek_missing', `${source} is empty`);
  if (!BASE64.test(trimmed))
    throw new KeyringError('kek_invalid', `${source} is not base64 (expected 32 random bytes, base64)`);
  if (KNOWN_EXAMPLE_KEKS.includes(trimmed)) {
    throw new KeyringError(
      'kek_example',
      `${source} holds a published example key; generate your own with \`portcullis secrets init\``,
    );
  }
  const key = Buffer.from(trimmed, 'base64');
  if (key.length < KEK_BYTES) {
    throw new KeyringError(
      'kek_weak',
      `${source} is ${key.length} bytes; a KEK must be ${KEK_BYTES} random bytes`,
    );
  }
  if (key.length !== KEK_BYTES) {
    throw new KeyringError(
      'kek_invalid',
      `${source} is ${key.length} bytes; a KEK must be exactly ${KEK_BYTES} bytes`,
    );
  }
  if (new Set(key).size < 8)
    throw new KeyringError('kek_weak', `${source} is not random (too few distinct bytes)`);
  return key;
}

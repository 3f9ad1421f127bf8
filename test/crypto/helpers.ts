import { randomBytes } from 'node:crypto';
import { mkdtemp, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export async function tempDir(): Promise<string> {
  return mkdtemp(join(tmpdir(), 'portcullis-crypto-'));
}

/** Writes a fresh random KEK file (mode 0600) and returns its path. */
export async function writeKekFile(
  dir: string,
  name: string,
  content?: string,
  mode = 0o600,
): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, (content ?? randomBytes(32).toString('base64')) + '\n', { mode });
  return path;
}

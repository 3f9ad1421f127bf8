import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import type { ConfigIssue } from './config-error.js';

/** Resolves `${secret:name}` references; provided once the keyring is open. */
export type SecretResolver = (name: string) => Promise<string>;

const REFERENCE = /\$\{(env|file|secret):([^}:]+)(?::-([^}]*))?\}/g;

export interface InterpolationResult {
  readonly value: unknown;
  readonly issues: ConfigIssue[];
  /** Pointers of values that came from `${secret:…}` or `${file:…}` (never echoed). */
  readonly sensitivePointers: Set<string>;
}

/**
 * Replaces `${env:NAME}`, `${env:NAME:-default}`, `${file:path}` and `${secret:name}` in every
 * string. A reference that cannot be resolved is an issue at its JSON pointer.
 */
export async function interpolate(
  value: unknown,
  configDir: string,
  env: NodeJS.ProcessEnv,
  resolveSecret: SecretResolver | undefined,
): Promise<InterpolationResult> {
  const issues: ConfigIssue[] = [];
  const sensitivePointers = new Set<string>();

  async function visit(node: unknown, pointer: string): Promise<unknown> {
    if (typeof node === 'string') return replace(node, pointer);
    if (Array.isArray(node)) {
      const out: unknown[] = [];
      for (let i = 0; i < node.length; i++) out.push(await visit(node[i], `${pointer}/${i}`));
      return out;
    }
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [key, child] of Object.entries(node)) {
        out[key] = await visit(child, `${pointer}/${key.replaceAll('~', '~0').replaceAll('/', '~1')}`);
      }
      return out;
    }
    return node;
  }

  async function replace(text: string, pointer: string): Promise<string> {
    if (!text.includes('${')) return text;
    let out = '';
    let last = 0;
    for (const match of text.matchAll(REFERENCE)) {
      const [whole, kind, name, fallback] = match as unknown as [string, string, string, string | undefined];
      out += text.slice(last, match.index);
      last = (match.index ?? 0) + whole.length;
      if (kind === 'env') {
        const v = env[name];
        if (v === undefined || v === '') {
          if (fallback !== undefined) out += fallback;
          else
            issues.push({
              pointer,
              message: `environment variable ${name} is not set (referenced as \${env:${name}})`,
            });
        } else out += v;
      } else if (kind === 'file') {
        const path = isAbsolute(name) ? name : resolve(configDir, name);
        try {
          out += readFileSync(path, 'utf8').trim();
          sensitivePointers.add(pointer);
        } catch {
          issues.push({ pointer, message: `cannot read file ${path} (referenced as \${file:${name}})` });
        }
      } else {
        sensitivePointers.add(pointer);
        if (resolveSecret === undefined) {
          issues.push({
            pointer,
            message: `\${secret:${name}} needs the secrets keyring (configure \`secrets\`)`,
          });
          continue;
        }
        try {
          out += await resolveSecret(name);
        } catch (error) {
          issues.push({ pointer, message: `secret ${name} cannot be resolved: ${(error as Error).message}` });
        }
      }
    }
    return out + text.slice(last);
  }

  const result = await visit(value, '');
  return { value: result, issues, sensitivePointers };
}

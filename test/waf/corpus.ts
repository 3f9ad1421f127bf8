import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Loads the hand-written corpus in test/fixtures/waf (format described in its README.md). */
export const FIXTURES = fileURLToPath(new URL('../fixtures/waf/', import.meta.url));

export function readLines(name: string): string[] {
  const out: string[] = [];
  for (const line of readFileSync(join(FIXTURES, name), 'utf8').split('\n')) {
    if (line.trim() === '' || line.startsWith('#')) continue;
    out.push(line.startsWith('~ ') ? (JSON.parse(line.slice(2)) as string) : line);
  }
  return out;
}

export const CONTENT_CLASSES = ['sqli', 'xss', 'cmdi', 'traversal', 'ssti', 'encoding'] as const;

import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { ATTACK_CLASSES } from '../../src/waf/classes.js';
import { Inspector, type Detection } from '../../src/waf/inspector.js';
import { walkJson } from '../../src/waf/json-walk.js';
import type { Paranoia } from '../../src/waf/classes.js';

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

export function allClasses(paranoia: Paranoia = 1): Inspector {
  return new Inspector({ paranoia, classes: new Set(ATTACK_CLASSES) });
}

/**
 * Runs one corpus sample as the stage would see it: `json: {...}` as a JSON body (keys and
 * strings), `query: a=b` as a query string (keys and values), anything else as a free-text value.
 */
export function inspectSample(inspector: Inspector, sample: string): Detection | undefined {
  if (sample.startsWith('json: ')) {
    return walkJson<Detection>(JSON.parse(sample.slice(6)) as unknown, undefined, {
      key: (k) => inspector.inspectKey(k),
      string: (v) => inspector.inspectValue(v, true),
    });
  }
  if (sample.startsWith('query: ')) {
    for (const [k, v] of new URLSearchParams(sample.slice(7))) {
      const hit =
        inspector.inspectKey(k) ?? inspector.inspectValue(k, false) ?? inspector.inspectValue(v, false);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  return inspector.inspectValue(sample, false);
}

/** Attack samples by class: the main corpus files plus the hold-out file. */
export function attackSamples(): { cls: string; sample: string; holdout: boolean }[] {
  const out: { cls: string; sample: string; holdout: boolean }[] = [];
  for (const cls of [...CONTENT_CLASSES, 'nosqli']) {
    for (const line of readLines(`${cls}.txt`)) out.push({ cls, sample: line, holdout: false });
  }
  for (const line of readLines('holdout.txt')) {
    const tab = line.indexOf('\t');
    out.push({ cls: line.slice(0, tab), sample: line.slice(tab + 1), holdout: true });
  }
  return out;
}

export function benignSamples(): { sample: string; holdout: boolean }[] {
  return [
    ...readLines('benign.txt').map((sample) => ({ sample, holdout: false })),
    ...readLines('benign-json.jsonl').map((line) => ({ sample: 'json: ' + line, holdout: false })),
    ...readLines('benign-holdout.txt').map((sample) => ({ sample, holdout: true })),
  ];
}

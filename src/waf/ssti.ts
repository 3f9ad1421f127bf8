import { charMask, requiredBits } from './char-mask.js';
import type { Paranoia, RuleHit } from './classes.js';

/**
 * Server-side template and expression-language injection (PayloadsAllTheThings "Server Side
 * Template Injection": Jinja2, Twig, Freemarker, Velocity, Thymeleaf/SpEL, ERB, Smarty, Handlebars,
 * Pug; CRS 944150 Log4j JNDI lookups; CRS 934100 Node.js). Template delimiters alone are normal
 * in user text (`Hello {{name}}`); the rule needs a delimiter whose body evaluates something:
 * arithmetic, object traversal to dangerous members, or code execution helpers.
 */

const OPENERS: readonly (readonly [string, string])[] = [
  ['{{', '}}'],
  ['${', '}'],
  ['#{', '}'],
  ['*{', '}'],
  ['@{', '}'],
  ['{%', '%}'],
  ['<%', '%>'],
  ['[[', ']]'],
  ['@(', ')'],
];

/** Names that only template exploitation reaches for. */
const DANGEROUS = [
  '__class__',
  '__mro__',
  '__subclasses__',
  '__globals__',
  '__builtins__',
  '__import__',
  '__init__',
  '__base__',
  '__dict__',
  '__getattribute__',
  'config',
  'self.',
  'self}',
  'self ',
  '_self',
  'request.',
  'lipsum',
  'cycler',
  'joiner',
  'namespace',
  'url_for',
  'get_flashed_messages',
  'constructor',
  'getruntime',
  'runtime',
  'processbuilder',
  'exec(',
  'popen',
  'system(',
  'subprocess',
  'os.popen',
  'os.system',
  'eval(',
  'getclass',
  'forname',
  'classloader',
  '?new(',
  'execute',
  'freemarker',
  'registerundefinedfiltercallback',
  'getfilter',
  'require(',
  'child_process',
  'mainmodule',
  'global.process',
  'invoke(',
  'getmethod',
  'applicationscope',
  'smarty',
  'file_get_contents',
  'passthru',
  'shell_exec',
  'readfile',
  'templateclassresolver',
  'objectconstructor',
  '|attr',
  'attr(',
  'jndi',
  'rmi:',
  'ldap:',
  '.class.',
  'getclassloader',
  'getdeclared',
  'newinstance',
  'process.env',
  'process.binding',
  "'system'",
  '"system"',
  "'exec'",
  '"exec"',
  "'passthru'",
  "'id'",
  '|filter(',
  "|map('system",
];
/** A delimiter holding only one of these names dumps the template context. */
const BARE_NAMES = new Set(['self', 'config', 'settings', 'request', '_self', 'this', 'context', 'environ']);
/** Weaker signals, from level 2: template features that read files or reach helpers. */
const SUSPICIOUS = [
  'include',
  'import',
  'request',
  'self',
  'dict(',
  'range(',
  'product',
  'beans',
  'php',
  'dump(',
  'env.',
  'getenv',
];

function isDigit(c: number): boolean {
  return c >= 48 && c <= 57;
}

/** `7*7`, `7*'7'`, `9-2`, `3+3`: number op number inside a delimiter. */
function hasArithmetic(body: string): boolean {
  for (let i = 0; i < body.length; i++) {
    const c = body.charCodeAt(i);
    if (c !== 42 && c !== 43 && c !== 45 && c !== 47 && c !== 37) continue;
    let l = i - 1;
    while (l >= 0 && (body.charCodeAt(l) === 32 || body.charCodeAt(l) === 39 || body.charCodeAt(l) === 34))
      l--;
    let r = i + 1;
    while (
      r < body.length &&
      (body.charCodeAt(r) === 32 || body.charCodeAt(r) === 39 || body.charCodeAt(r) === 34)
    )
      r++;
    if (l >= 0 && isDigit(body.charCodeAt(l)) && isDigit(body.charCodeAt(r))) return true;
  }
  return false;
}

function bodyIsDangerous(body: string, level: Paranoia): boolean {
  if (hasArithmetic(body)) return true;
  for (const name of DANGEROUS) if (body.includes(name)) return true;
  const trimmed = body.trim();
  if (BARE_NAMES.has(trimmed)) return true;
  if (trimmed.startsWith('t(') || trimmed.startsWith('new ')) return true;
  if (level >= 2) for (const name of SUSPICIOUS) if (body.includes(name)) return true;
  return level >= 3 && body.includes('(');
}

/** Longest delimiter body examined: expressions are short, and this keeps the scan linear. */
const MAX_BODY = 512;

function scanDelimiters(lower: string, level: Paranoia): RuleHit {
  for (const [open, close] of OPENERS) {
    let at = lower.indexOf(open);
    let closeAt = at === -1 ? -1 : lower.indexOf(close, at + open.length);
    while (at !== -1) {
      // the closer is searched for again only once passed, so the whole scan stays linear
      if (closeAt !== -1 && closeAt < at + open.length) closeAt = lower.indexOf(close, at + open.length);
      const end = Math.min(closeAt === -1 ? lower.length : closeAt, at + open.length + MAX_BODY);
      const body = lower.slice(at + open.length, end);
      if (
        open === '${' &&
        (body.includes('jndi') || body.includes('${') || body.startsWith('::-') || body.includes(':-'))
      ) {
        return 'ssti.jndi-lookup';
      }
      if (bodyIsDangerous(body, level)) return 'ssti.expression';
      if (level >= 4) return 'ssti.delimiter';
      // openers inside this body were part of what was just examined
      at = lower.indexOf(open, Math.max(end, at + open.length));
    }
  }
  return undefined;
}

/** Directives that are template code without a `{{`-style delimiter. */
const DIRECTIVES = [
  '<?php',
  'smarty_internal',
  '<#assign',
  '<#list',
  '<#if',
  '#set(',
  '#set (',
  '#foreach',
  '#evaluate',
  '{php}',
  '{/php}',
  '{system',
  '{$smarty',
  '{include',
  '${t(',
  '__class__.__',
  "''.__class__",
  '"".__class__',
  '#{t(',
  '.getclass().forname',
  'freemarker.template.utility',
  'java.lang.runtime',
  '@java.lang',
  '${jndi:',
];

/** Directives with the punctuation each needs (searched for only when the value has it). */
const DIRECTIVE_BITS: readonly (readonly [string, number])[] = DIRECTIVES.map((d) => [d, requiredBits(d)]);

/** Probes that open several template syntaxes at once (`${{<%[%'"}}%\.`). */
const PROBE_OPENERS: readonly (readonly [string, number])[] = ['{{', '${', '<%', '[%', '#{', '{%'].map(
  (o) => [o, requiredBits(o)],
);

/** Every directive and delimiter contains one of these characters. */
function mayBeTemplate(lower: string): boolean {
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    // { < # @ $ [ _ ' "
    if (
      c === 123 ||
      c === 60 ||
      c === 35 ||
      c === 64 ||
      c === 36 ||
      c === 91 ||
      c === 95 ||
      c === 39 ||
      c === 34
    )
      return true;
  }
  return false;
}

/** `mask`: the value's charMask, when the caller has it. */
export function detectSsti(
  _text: string,
  lower: string,
  level: Paranoia,
  _hadNul = false,
  mask = charMask(lower),
): RuleHit {
  if (
    !mayBeTemplate(lower) &&
    !lower.includes('getclass') &&
    !lower.includes('freemarker') &&
    !lower.includes('java.lang')
  ) {
    return undefined;
  }
  for (const [directive, bits] of DIRECTIVE_BITS)
    if ((mask & bits) === bits && lower.includes(directive)) return 'ssti.directive';
  let openers = 0;
  for (const [opener, bits] of PROBE_OPENERS) if ((mask & bits) === bits && lower.includes(opener)) openers++;
  if (openers >= 3) return 'ssti.polyglot';
  if (lower.includes('{') || lower.includes('<%') || lower.includes('[[') || lower.includes('@(')) {
    return scanDelimiters(lower, level);
  }
  return undefined;
}

import type { Paranoia, RuleHit } from './classes.js';

/**
 * Path traversal and local file access (cf. CRS 930100/930110 path traversal, 930120 OS file
 * access; PayloadsAllTheThings "Directory Traversal" and "File Inclusion").
 */

/** Files and directories only an attacker asks an API for (CRS 930120 lfi-os-files, abridged). */
export const SENSITIVE_PATHS: readonly string[] = [
  '/etc/passwd',
  '/etc/shadow',
  '/etc/group',
  '/etc/hosts',
  '/etc/issue',
  '/etc/sudoers',
  '/etc/crontab',
  '/etc/hostname',
  '/etc/mysql/',
  '/etc/nginx/',
  '/etc/apache2/',
  '/etc/httpd/',
  '/etc/ssh/',
  '/proc/self/',
  '/proc/version',
  '/proc/1/',
  '/var/log/',
  '/root/',
  '/.ssh/',
  '/id_rsa',
  '/.aws/credentials',
  '/.env',
  '/.git/',
  '/.htpasswd',
  '/.htaccess',
  '/.bash_history',
  '/web-inf/',
  '/meta-inf/',
  '\\windows\\',
  '/windows/',
  'win.ini',
  'boot.ini',
  'system32',
  '\\inetpub\\',
  '/inetpub/',
  'c:\\windows',
  'c:/windows',
  '/dev/tcp/',
  '/dev/null',
  '/usr/local/etc/',
  '/var/run/secrets/',
  '/run/secrets/',
  'wp-config.php',
  'web.config',
  'system.ini',
];
/**
 * Paths indexed by their first two characters (a separator and an ASCII character, by its code),
 * so a value is checked at each separator only, without cutting anything out of it.
 */
const AFTER_SLASH: (string[] | undefined)[] = new Array<undefined>(128).fill(undefined);
const AFTER_BACKSLASH: (string[] | undefined)[] = new Array<undefined>(128).fill(undefined);
const UNANCHORED: string[] = [];
for (const path of SENSITIVE_PATHS) {
  if (path.startsWith('/') || path.startsWith('\\')) {
    const table = path.startsWith('/') ? AFTER_SLASH : AFTER_BACKSLASH;
    const second = path.charCodeAt(1);
    (table[second] ??= []).push(path);
  } else {
    UNANCHORED.push(path);
  }
}

function findAnchored(path: string, separator: string, table: readonly (string[] | undefined)[]): boolean {
  for (let i = path.indexOf(separator); i !== -1; i = path.indexOf(separator, i + 1)) {
    const candidates = table[path.charCodeAt(i + 1)];
    if (candidates === undefined) continue;
    for (const candidate of candidates) if (path.startsWith(candidate, i)) return true;
  }
  return false;
}

/** Exported for tests: true when `path` contains one of SENSITIVE_PATHS. */
export function findSensitivePath(path: string): boolean {
  if (findAnchored(path, '/', AFTER_SLASH) || findAnchored(path, '\\', AFTER_BACKSLASH)) return true;
  if (path.includes('.ini') || path.includes('config') || path.includes('system32') || path.includes('c:')) {
    for (const candidate of UNANCHORED) if (path.includes(candidate)) return true;
  }
  return false;
}

export const WRAPPERS: readonly string[] = [
  'file://',
  'php://',
  'zip://',
  'phar://',
  'expect://',
  'data://',
  'glob://',
  'jar:',
  'netdoc:',
  'compress.zlib://',
];

/**
 * Wrappers by the character before their `:` (each has exactly one colon), so a value is checked
 * at each of its colons against the few wrappers that end there, not searched once per wrapper.
 */
const WRAPPERS_BY_LAST: (readonly string[] | undefined)[] = new Array<undefined>(128).fill(undefined);
for (const wrapper of WRAPPERS) {
  const at = wrapper.charCodeAt(wrapper.indexOf(':') - 1);
  WRAPPERS_BY_LAST[at] = [...(WRAPPERS_BY_LAST[at] ?? []), wrapper];
}

/** Exported for tests: true when `lower` contains one of WRAPPERS. */
export function findWrapper(lower: string): boolean {
  for (let colon = lower.indexOf(':'); colon !== -1; colon = lower.indexOf(':', colon + 1)) {
    const candidates = WRAPPERS_BY_LAST[lower.charCodeAt(colon - 1)];
    if (candidates === undefined) continue;
    for (const wrapper of candidates)
      if (lower.startsWith(wrapper, colon - wrapper.indexOf(':'))) return true;
  }
  return false;
}

function isSep(c: number): boolean {
  return c === 47 || c === 92;
}

/** `../`, `..\`, `..;/`, `....//` (a filter that removes `../` once leaves `../`). */
function findDotDot(text: string, level: Paranoia): boolean {
  let at = text.indexOf('..');
  let segments = 0;
  while (at !== -1) {
    let j = at + 2;
    while (text.charCodeAt(j) === 46) j++;
    if (text.charCodeAt(j) === 59 /* ; */) j++;
    const after = text.charCodeAt(j);
    const before = at === 0 ? 47 : text.charCodeAt(at - 1);
    if (isSep(after) || (Number.isNaN(after) && at > 0)) {
      // a segment `..` (at the start, after a separator, `=` or `:`), not an ellipsis; one level
      // up (`../README.md`, `a/b/../c`) is ordinary, two or more (or `..` alone) is a climb
      if (isSep(before) || at === 0 || before === 61 || before === 58) {
        if (level >= 2 || text.length <= j + 1 || ++segments >= 2) return true;
      } else if (level >= 2) {
        return true;
      }
    }
    at = text.indexOf('..', j);
  }
  return false;
}

/** Slash look-alikes NFKC leaves alone. */
function foldSlashes(lower: string): string {
  return lower.includes('\u2215') || lower.includes('\u2044')
    ? lower.replaceAll('\u2215', '/').replaceAll('\u2044', '/')
    : lower;
}

/** `/etc/./passwd`, `/etc//passwd` → `/etc/passwd`. */
function collapse(lower: string): string {
  let out = lower;
  while (out.includes('/./')) out = out.replaceAll('/./', '/');
  while (out.includes('//')) out = out.replaceAll('//', '/');
  return out;
}

export function detectTraversal(text: string, rawLower: string, level: Paranoia): RuleHit {
  const lower = foldSlashes(rawLower);
  const source = lower === rawLower ? text : lower;
  if (source.includes('..') && findDotDot(source, level)) return 'traversal.dot-dot';
  if (
    lower.includes('%') &&
    (lower.includes('%2e%2e') || lower.includes('..%2f') || lower.includes('..%5c'))
  ) {
    return 'traversal.encoded-dot-dot';
  }
  if (lower.includes('/') || lower.includes('\\') || lower.includes(':') || lower.includes('.ini')) {
    // `//` right after a scheme is not a path trick
    const doubled = lower.indexOf('//');
    const tricky =
      lower.includes('/./') ||
      (doubled !== -1 && (doubled === 0 || lower[doubled - 1] !== ':' || lower.includes('//', doubled + 2)));
    const path = tricky ? collapse(lower) : lower;
    if (findSensitivePath(path)) return 'traversal.sensitive-file';
    if (lower.includes(':')) {
      if (findWrapper(lower)) return 'traversal.stream-wrapper';
    }
  }
  if (level >= 3 && (lower.startsWith('/') || lower.startsWith('\\\\') || lower.startsWith('~/')))
    return 'traversal.absolute-path';
  return undefined;
}

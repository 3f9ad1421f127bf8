import { C, charMask } from './char-mask.js';
import type { Paranoia, RuleHit } from './classes.js';

/**
 * OS command injection (cf. CRS 932100/932105 Unix, 932110/932115 Windows, 932160 shell paths;
 * PayloadsAllTheThings "Command Injection"). Finds a shell separator or substitution — `;` `|`
 * `&` newline `` ` `` `$(` — followed by a command word, reading the word the way a shell
 * would (quotes and backslashes inside it removed, `${IFS}` as a space). No regular expressions.
 */

/** Commands whose name is not an English word: a separator followed by one is enough. */
const DISTINCT_COMMANDS = new Set(
  (
    'whoami uname ifconfig ipconfig nslookup netstat netcat ncat nc ps wget curl bash zsh ksh csh tcsh busybox ' +
    'python python2 python3 perl ruby php lua nodejs jrunscript telnet tftp ssh scp rsync socat xterm chmod chown ' +
    'chgrp passwd useradd usermod crontab systemctl sudo xxd base64 hexdump awk gawk ' +
    'sed xargs printenv nohup powershell pwsh cmd certutil bitsadmin wmic mshta rundll32 regsvr32 cscript ' +
    'wscript reg systeminfo tasklist taskkill net1 nltest icacls cacls attrib whoami.exe cmd.exe powershell.exe ' +
    'getent lsof hostname uptime arp traceroute tracert ping6 mkfifo nmap msfvenom openssl gcc'
  ).split(' '),
);
/** Commands that are also English words: flagged only when followed by something argument-like. */
const WORD_COMMANDS = new Set(
  (
    'cat echo sleep kill find head tail more less type ping sort cut touch file which who date time set ver vol tee ' +
    'diff mail exec eval export unset read source print printf id pwd ls dir env host route service rm mv cp wc su ' +
    'sh cc dig reg net strings'
  ).split(' '),
);

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 11 || c === 12;
}
function isWordChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 95 || c === 46 || c === 45;
}

/** Reads a shell word starting at `i`, dropping quotes and backslashes (`w'h'o'am'i` → whoami). */
function readWord(lower: string, i: number): { word: string; end: number } {
  // most words carry no quoting: cut them out in one piece
  let j = i;
  while (j < lower.length && j - i < 32) {
    const c = lower.charCodeAt(j);
    if (!isWordChar(c) && c !== 47) break;
    j++;
  }
  const c = lower.charCodeAt(j);
  if (j - i === 32 || !(c === 39 || c === 34 || c === 92 || c === 36))
    return { word: lower.slice(i, j), end: j };
  let word = '';
  j = i;
  while (j < lower.length && word.length < 32) {
    const c = lower.charCodeAt(j);
    if (c === 39 || c === 34 || c === 92) {
      j++;
      continue;
    }
    if (c === 36 && lower.charCodeAt(j + 1) === 64) {
      j += 2; // $@ expands to nothing
      continue;
    }
    if (!isWordChar(c) && c !== 47) break;
    word += lower[j];
    j++;
  }
  return { word, end: j };
}

function commandName(word: string): string {
  const slash = word.lastIndexOf('/');
  return slash === -1 ? word : word.slice(slash + 1);
}

/** Skips blanks, `{`, `(`, `${IFS}`/`$IFS$9` between a separator and the command word. */
function skipGap(lower: string, i: number): number {
  let j = i;
  for (;;) {
    const c = lower.charCodeAt(j);
    // not newline: it is a separator of its own, and skipping it would rescan runs of newlines
    if (isSpace(c) || c === 123 || c === 40) {
      j++;
      continue;
    }
    if (lower.startsWith('${ifs}', j)) {
      j += 6;
      continue;
    }
    if (lower.startsWith('$ifs', j)) {
      j += 4;
      if (lower.charCodeAt(j) === 36) j += 2;
      continue;
    }
    return j;
  }
}

const NUMERIC_ARGUMENT = new Set(['sleep', 'ping', 'kill', 'head', 'tail', 'timeout', 'nc']);

function argumentLike(lower: string, end: number, name: string, allowEnd: boolean): boolean {
  let j = end;
  let spaced = false;
  while (j < lower.length && (isSpace(lower.charCodeAt(j)) || lower.startsWith('${ifs}', j))) {
    j += lower.startsWith('${ifs}', j) ? 6 : 1;
    spaced = true;
  }
  if (j >= lower.length) return allowEnd;
  const c = lower.charCodeAt(j);
  if (c >= 48 && c <= 57) return spaced && NUMERIC_ARGUMENT.has(name);
  if (!spaced)
    return c === 59 || c === 124 || c === 38 || c === 96 || c === 41 || c === 10 || c === 44 || c === 125;
  // -flag, /path, ~/path, $var, "quoted", 'quoted', number, redirection, another separator
  return (
    c === 45 ||
    c === 47 ||
    c === 126 ||
    c === 36 ||
    c === 34 ||
    c === 39 ||
    c === 60 ||
    c === 62 ||
    c === 59 ||
    c === 124 ||
    c === 38 ||
    c === 96 ||
    c === 92 ||
    c === 10 ||
    lower.startsWith('c:', j)
  );
}

/** `dig attacker.example`, `cat notes.txt`: the next word has a dot inside it. */
function domainLike(lower: string, end: number): boolean {
  let j = end;
  while (isSpace(lower.charCodeAt(j))) j++;
  if (j === end) return false;
  const { word } = readWord(lower, j);
  const dot = word.indexOf('.');
  return dot > 0 && dot < word.length - 1;
}

/**
 * Command names by a hash of their first two characters and length: most words of prose find no
 * entry (a collision only costs the full reading).
 */
const COMMAND_SHAPES = new Uint8Array(4096);
function shape(first: number, second: number, length: number): number {
  return (((first * 31 + second) | 0) * 33 + length) & 4095;
}
for (const name of [...DISTINCT_COMMANDS, ...WORD_COMMANDS])
  COMMAND_SHAPES[shape(name.charCodeAt(0), name.charCodeAt(1), name.length)] = 1;

/**
 * Whether the word at `start` is certainly no command: a plain word (no `/`, no quoting inside,
 * so readWord would return it as it stands and it would be its own command name) whose first
 * character and length no command has. Saves cutting out each word that follows a separator.
 * Exported for tests (commandWordAt is the reading it short-cuts).
 */
export function plainNonCommand(lower: string, start: number): boolean {
  let j = start;
  while (j < lower.length && j - start < 32) {
    const c = lower.charCodeAt(j);
    if (c === 47) return false;
    if (!isWordChar(c)) break;
    j++;
  }
  const c = lower.charCodeAt(j);
  if (j - start < 32 && (c === 39 || c === 34 || c === 92 || c === 36)) return false;
  if (j === start) return true;
  // 0 stands for the missing second character of a one-character word (no command is that short)
  const second = j - start > 1 ? lower.charCodeAt(start + 1) : 0;
  return COMMAND_SHAPES[shape(lower.charCodeAt(start), second, j - start)] === 0;
}

/** Exported for tests: the word readWord reads at `start`, when it is a known command or shell path. */
export function commandWordAt(lower: string, start: number): string | undefined {
  const { word } = readWord(lower, start);
  const name = commandName(word);
  return word.startsWith('/') || DISTINCT_COMMANDS.has(name) || WORD_COMMANDS.has(name) ? word : undefined;
}

function commandAt(lower: string, i: number, strong: boolean, proseSeparator = false): boolean {
  const start = skipGap(lower, i);
  if (plainNonCommand(lower, start)) return false;
  const { word, end } = readWord(lower, start);
  if (word.length === 0) return false;
  const name = commandName(word);
  if (
    word.startsWith('/bin/') ||
    word.startsWith('/usr/bin/') ||
    word.startsWith('/usr/local/bin/') ||
    word.startsWith('/sbin/')
  )
    return true;
  if (DISTINCT_COMMANDS.has(name)) return true;
  if (WORD_COMMANDS.has(name))
    return strong || argumentLike(lower, end, name, !proseSeparator) || domainLike(lower, end);
  return false;
}

/** Characters the separator scan acts on: `; | & \n \r \`` and `$`, `<`, `>`. */
const SEPARATOR = new Uint8Array(128);
for (const c of ';|&\n`\r$<>') SEPARATOR[c.charCodeAt(0)] = 1;

/** The one separator character of a mask that has exactly one (the common case in prose), or ''. */
const SEPARATOR_BITS = C.semicolon | C.pipe | C.amp | C.newline | C.backtick | C.dollar | C.lt | C.gt;

function soleSeparator(mask: number): string {
  switch (mask & SEPARATOR_BITS) {
    case C.semicolon:
      return ';';
    case C.amp:
      return '&';
    case C.pipe:
      return '|';
    default:
      return '';
  }
}

/** The separator, substitution or process-substitution rule at position `i`, if it fires. */
function separatorAt(lower: string, i: number, code: number, level: Paranoia): RuleHit {
  // ; | & \n ` \r
  if (code === 59 || code === 124 || code === 38 || code === 10 || code === 96 || code === 13) {
    // `a & b` with blanks around a lone ampersand is prose more often than a shell
    const prose = code === 38 && lower.charCodeAt(i - 1) === 32 && lower.charCodeAt(i + 1) === 32;
    // prose puts a blank after `;` and `|`; a command glued to the separator is shell
    const glued = code !== 38 && code !== 10 && code !== 13 && isWordChar(lower.charCodeAt(i + 1));
    return commandAt(lower, i + 1, glued, prose) ? 'cmdi.separator-command' : undefined;
  }
  if (code === 36 /* $ */) {
    return lower.charCodeAt(i + 1) === 40 &&
      lower.charCodeAt(i + 2) !== 40 &&
      (commandAt(lower, i + 2, true) || level >= 2)
      ? 'cmdi.substitution'
      : undefined;
  }
  // <( >(
  return lower.charCodeAt(i + 1) === 40 && commandAt(lower, i + 2, true)
    ? 'cmdi.process-substitution'
    : undefined;
}

/** `mask`: the value's charMask, when the caller has it. */
export function detectCmdi(
  _text: string,
  lower: string,
  level: Paranoia,
  _hadNul = false,
  mask = charMask(lower),
): RuleHit {
  const sole = soleSeparator(mask);
  if (sole !== '') {
    // one kind of separator: jump between its occurrences instead of reading every character
    const code = sole.charCodeAt(0);
    for (let i = lower.indexOf(sole); i !== -1; i = lower.indexOf(sole, i + 1)) {
      const hit = separatorAt(lower, i, code, level);
      if (hit !== undefined) return hit;
    }
  } else if ((mask & SEPARATOR_BITS) !== 0) {
    for (let i = 0; i < lower.length; i++) {
      const code = lower.charCodeAt(i);
      if (code >= 128 || SEPARATOR[code] === 0) continue;
      const hit = separatorAt(lower, i, code, level);
      if (hit !== undefined) return hit;
    }
  }
  // each shell path is looked for only when its common part is there (one search for clean text)
  // (and only when the value has their punctuation: the mask is exact for ASCII punctuation)
  if (
    ((mask & C.slash) !== 0 &&
      lower.includes('/bin/') &&
      (lower.includes('/bin/sh') || lower.includes('/bin/bash'))) ||
    ((mask & (C.dot | C.slash)) !== 0 &&
      lower.includes('cmd') &&
      (lower.includes('cmd.exe') || lower.includes('cmd /c'))) ||
    ((mask & C.minus) !== 0 && lower.includes('powershell -'))
  ) {
    return 'cmdi.shell-path';
  }
  if ((mask & C.dollar) !== 0 && (lower.includes('${ifs}') || lower.includes('$ifs$'))) return 'cmdi.ifs';
  if (level >= 2) {
    if (commandAt(lower, 0, false)) return 'cmdi.leading-command';
    if (lower.includes('%comspec%') || lower.includes('%systemroot%')) return 'cmdi.windows-variable';
  }
  return undefined;
}

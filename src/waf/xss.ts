import type { Paranoia, RuleHit } from './classes.js';

/**
 * Cross-site scripting by HTML structure (cf. CRS 941110 script tags, 941120 event handlers,
 * 941170 javascript: URIs, 941160 HTML injection; PayloadsAllTheThings "XSS Injection"). A small
 * scanner reads tag names and attribute names; no regular expressions.
 */

/** Tags that execute or load active content whatever their attributes. */
const ACTIVE_TAGS = new Set([
  'script',
  'iframe',
  'frame',
  'frameset',
  'object',
  'embed',
  'applet',
  'base',
  'meta',
  'xss',
  'import',
  'portal',
  'isindex',
  'xml',
  'svg',
  'math',
  'noscript',
  'listing',
  'xmp',
  'plaintext',
  'animate',
]);
/** Tags that are HTML markup but harmless without script-carrying attributes (flagged from level 3). */
const MARKUP_TAGS = new Set([
  'img',
  'image',
  'video',
  'audio',
  'source',
  'body',
  'html',
  'input',
  'button',
  'form',
  'select',
  'textarea',
  'details',
  'marquee',
  'style',
  'link',
  'a',
  'div',
  'span',
  'table',
  'td',
  'tr',
  'p',
  'b',
  'i',
  'u',
  'br',
  'hr',
  'h1',
  'h2',
  'h3',
  'keygen',
  'video',
  'track',
  'bgsound',
  'blink',
  'layer',
  'ilayer',
  'head',
  'title',
  'textarea',
]);

const EVENT_HANDLERS = new Set(
  (
    'abort afterprint animationend animationiteration animationstart auxclick beforecopy beforecut beforeinput ' +
    'beforepaste beforeprint beforeunload beforetoggle begin blur bounce canplay canplaythrough change click close ' +
    'contextmenu copy cuechange cut dblclick drag dragend dragenter dragleave dragover dragstart drop durationchange ' +
    'end ended error finish focus focusin focusout formdata fullscreenchange hashchange input invalid keydown ' +
    'keypress keyup load loadeddata loadedmetadata loadend loadstart message mousedown mouseenter mouseleave ' +
    'mousemove mouseout mouseover mouseup mousewheel offline online pagehide pageshow paste pause play playing ' +
    'pointercancel pointerdown pointerenter pointerleave pointermove pointerout pointerover pointerup popstate ' +
    'progress ratechange readystatechange repeat reset resize scroll scrollend search seeked seeking select ' +
    'selectionchange selectstart show start stalled storage submit suspend timeupdate toggle touchend touchmove ' +
    'touchstart transitioncancel transitionend transitionrun transitionstart unhandledrejection unload volumechange ' +
    'waiting webkitanimationend webkitanimationstart webkittransitionend wheel activate beforeactivate ' +
    'beforedeactivate deactivate filterchange losecapture propertychange help move moveend movestart ' +
    'contentvisibilityautostatechange securitypolicyviolation'
  ).split(' '),
);

const ACTIVE_SCHEMES = [
  'javascript:',
  'vbscript:',
  'livescript:',
  'mocha:',
  'data:text/html',
  'data:image/svg+xml',
  'data:application/x',
];
const SCRIPT_SINKS = [
  'document.cookie',
  'document.domain',
  'document.write',
  'window.location',
  'string.fromcharcode',
  '.innerhtml',
  'eval(',
  'alert(',
  'prompt(',
  'confirm(',
  'settimeout(',
  'import(',
  'atob(',
];

function isTagNameChar(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 45 || c === 58;
}
function isLetter(c: number): boolean {
  return c >= 97 && c <= 122;
}
function isAttrSeparator(c: number): boolean {
  return (
    c === 32 || (c >= 9 && c <= 13) || c === 47 || c === 34 || c === 39 || c === 96 || c === 59 || c === 43
  );
}

/** Finds `on<event>` followed by optional spaces and `=`, as an attribute name (after a separator). */
function findEventHandler(lower: string): boolean {
  let at = lower.indexOf('on');
  while (at !== -1) {
    const before = at === 0 ? 32 : lower.charCodeAt(at - 1);
    if (isAttrSeparator(before) || before === 0x3c) {
      let j = at + 2;
      // event names are short; the cap keeps `onononon…` linear
      while (j < lower.length && j < at + 48 && isLetter(lower.charCodeAt(j))) j++;
      if (j > at + 2 && EVENT_HANDLERS.has(lower.slice(at + 2, j))) {
        while (
          j < lower.length &&
          (lower.charCodeAt(j) === 32 || (lower.charCodeAt(j) >= 9 && lower.charCodeAt(j) <= 13))
        )
          j++;
        if (lower.charCodeAt(j) === 61 /* = */) return true;
      }
    }
    at = lower.indexOf('on', at + 2);
  }
  return false;
}

/** Removes tab/newline/CR, which browsers drop inside URLs (`java\tscript:`). */
function stripUrlWhitespace(lower: string): string {
  if (!lower.includes('\t') && !lower.includes('\n') && !lower.includes('\r')) return lower;
  let out = '';
  for (let i = 0; i < lower.length; i++) {
    const c = lower.charCodeAt(i);
    if (c !== 9 && c !== 10 && c !== 13) out += lower[i];
  }
  return out;
}

function findActiveScheme(lower: string): boolean {
  if (!lower.includes(':')) return false;
  const compact = stripUrlWhitespace(lower);
  for (const scheme of ACTIVE_SCHEMES) {
    let at = compact.indexOf(scheme);
    while (at !== -1) {
      const next = compact.charCodeAt(at + scheme.length);
      const before = at === 0 ? 32 : compact.charCodeAt(at - 1);
      const boundary = !(before >= 97 && before <= 122);
      // "JavaScript: The Good Parts" is prose; "javascript:alert(1)" is not
      if (boundary && (scheme.startsWith('data:') || (next !== 32 && !Number.isNaN(next)))) return true;
      at = compact.indexOf(scheme, at + 1);
    }
  }
  return false;
}

function scanTags(lower: string, level: Paranoia): RuleHit {
  let lt = lower.indexOf('<');
  while (lt !== -1) {
    let j = lt + 1;
    if (lower.charCodeAt(j) === 47 /* / */) j++;
    const start = j;
    if (isLetter(lower.charCodeAt(j))) {
      while (j < lower.length && isTagNameChar(lower.charCodeAt(j))) j++;
      const name = lower.slice(start, j);
      const next = lower.charCodeAt(j);
      const ended = Number.isNaN(next) || next === 62 || isAttrSeparator(next) || next === 0x3c;
      if (ended) {
        if (ACTIVE_TAGS.has(name)) return 'xss.active-tag';
        if (level >= 3 && MARKUP_TAGS.has(name)) return 'xss.markup-tag';
      }
    } else if (
      lower.startsWith('<!--', lt) ||
      lower.startsWith('<![cdata[', lt) ||
      lower.startsWith('<?', lt)
    ) {
      if (level >= 2) return 'xss.markup-construct';
    } else if (
      level >= 4 &&
      lower.charCodeAt(j) !== 32 &&
      lower.charCodeAt(j) !== 61 &&
      !Number.isNaN(lower.charCodeAt(j))
    ) {
      return 'xss.angle-bracket';
    }
    lt = lower.indexOf('<', lt + 1);
  }
  return undefined;
}

export function detectXss(_text: string, lower: string, level: Paranoia): RuleHit {
  if (lower.includes('<')) {
    const hit = scanTags(lower, level);
    if (hit !== undefined) return hit;
  }
  if (lower.includes('=') && findEventHandler(lower)) return 'xss.event-handler';
  if (findActiveScheme(lower)) return 'xss.script-uri';
  if (lower.includes('expression(') && lower.includes(':')) return 'xss.css-expression';
  if (lower.includes('-moz-binding') || lower.includes('behavior:')) return 'xss.css-binding';
  if (level >= 2) {
    for (const sink of SCRIPT_SINKS) if (lower.includes(sink)) return 'xss.script-sink';
  }
  return undefined;
}

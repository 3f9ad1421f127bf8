import type { JsonLimits } from './limits.js';

/** Why the scanner refused a document; `pointer` locates the offending member. */
export interface JsonViolation {
  readonly reason:
    | 'json_depth'
    | 'json_array_length'
    | 'json_string_length'
    | 'json_object_keys'
    | 'json_duplicate_key'
    | 'json_forbidden_key'
    | 'json_unsafe_number';
  readonly pointer: string;
  readonly message: string;
}

type ScanLimits = Pick<
  JsonLimits,
  'maxDepth' | 'maxArrayLength' | 'maxStringLength' | 'maxObjectKeys' | 'unsafeNumbers'
>;

/** Keys refused anywhere in a document: they pollute prototypes in naive merges downstream. */
export const FORBIDDEN_KEYS: ReadonlySet<string> = new Set(['__proto__', 'constructor', 'prototype']);

interface Frame {
  isObject: boolean;
  /** Array: elements seen so far. Object: members seen so far. */
  count: number;
  /** Object: where the last key read lies in the text (for pointers); array: unused. */
  keyStart: number;
  keyEnd: number;
  /** Object: the last key, decoded, when it has escapes (else it is the text between the offsets). */
  keyText: string | undefined;
  /**
   * Object only: whether every key so far is short and has no escapes; key k then lies at
   * `text[offsets[2k], offsets[2k+1])` (k < listSize) and is compared in place.
   */
  inPlace: boolean;
  offsets: number[];
  /** Object, once not in place: keys seen so far, in `list[0 .. listSize-1]` while few (then a Set). */
  list: string[];
  listSize: number;
  keys: Set<string> | undefined;
  expectKey: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;
/** Up to this many members, duplicates are found by comparing with each earlier key. */
const SMALL_OBJECT = 8;
/**
 * Keys up to this long without escapes are compared in place, character by character; longer
 * keys are copied out and compared natively.
 */
const SHORT_KEY = 16;

/**
 * Frames are reused by depth within one scan, so a document with many small objects allocates
 * a frame per nesting level rather than per object.
 */
function enter(stack: Frame[], depth: number, isObject: boolean): Frame {
  let frame = stack[depth];
  if (frame === undefined) {
    frame = {
      isObject,
      count: 0,
      keyStart: 0,
      keyEnd: 0,
      keyText: undefined,
      inPlace: true,
      offsets: [],
      list: [],
      listSize: 0,
      keys: undefined,
      expectKey: isObject,
    };
    stack[depth] = frame;
  } else {
    frame.isObject = isObject;
    frame.count = 0;
    frame.keyText = undefined;
    frame.inPlace = true;
    frame.listSize = 0;
    frame.keys = undefined;
    frame.expectKey = isObject;
  }
  return frame;
}

/** Whether text[a, a+length) and text[b, b+length) hold the same characters. */
function sameText(text: string, a: number, b: number, length: number): boolean {
  for (let k = 0; k < length; k++) if (text.charCodeAt(a + k) !== text.charCodeAt(b + k)) return false;
  return true;
}

/**
 * Records the key at text[start, end), `decoded` when it has escapes; false when the object
 * already has it. Small objects with short plain keys (most of them) are checked without
 * copying any key out of the text.
 */
function addKey(
  frame: Frame,
  text: string,
  start: number,
  end: number,
  decoded: string | undefined,
): boolean {
  const size = frame.listSize;
  const list = frame.list;
  if (frame.inPlace) {
    const offsets = frame.offsets;
    const length = end - start;
    if (decoded === undefined && length <= SHORT_KEY) {
      for (let k = 0; k < 2 * size; k += 2) {
        const other = offsets[k] as number;
        if ((offsets[k + 1] as number) - other === length && sameText(text, other, start, length))
          return false;
      }
      if (size < SMALL_OBJECT) {
        offsets[2 * size] = start;
        offsets[2 * size + 1] = end;
        frame.listSize = size + 1;
        return true;
      }
    }
    // the earlier keys have no escapes: their text is their value
    for (let k = 0; k < size; k++) list[k] = text.slice(offsets[2 * k], offsets[2 * k + 1]);
    frame.inPlace = false;
  }
  const key = decoded ?? text.slice(start, end);
  if (frame.keys === undefined) {
    for (let k = 0; k < size; k++) if (list[k] === key) return false;
    if (size < SMALL_OBJECT) {
      list[size] = key;
      frame.listSize = size + 1;
      return true;
    }
    frame.keys = new Set(list.slice(0, size));
  }
  if (frame.keys.has(key)) return false;
  frame.keys.add(key);
  return true;
}

/** Whether the unescaped key text[start, start+length) is one of FORBIDDEN_KEYS. */
function forbiddenAt(text: string, start: number, length: number): boolean {
  if (length === 9) return text.startsWith('__proto__', start) || text.startsWith('prototype', start);
  return length === 11 && text.startsWith('constructor', start);
}

/**
 * One linear pass over JSON text that enforces structural limits JSON.parse does not: nesting
 * depth, array length, string and key length, members per object, duplicate keys, prototype
 * keys and integers beyond the safe range. It tokenises just enough to know where strings, keys
 * and containers are; syntax errors are left to JSON.parse, which runs afterwards. String
 * contents are skipped with native searches; the position of the next backslash is kept so a
 * string is searched for its closing quote once, and only a key that has escapes is decoded.
 * Returns the first violation, or undefined.
 */
export function scanJson(text: string, limits: ScanLimits): JsonViolation | undefined {
  // frames[0 .. depth-1] are the open containers
  const frames: Frame[] = [];
  let depth = 0;
  const length = text.length;
  // the first backslash at or after the string being read (`length` when there is none)
  let backslash = -1;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    // whitespace (and control characters, which JSON.parse refuses) first: pretty-printed
    // documents are mostly indentation
    if (c <= 32) {
      i++;
      continue;
    }
    if (c === QUOTE) {
      const start = i + 1;
      if (backslash < start) {
        backslash = text.indexOf('\\', start);
        if (backslash === -1) backslash = length;
      }
      let end = text.indexOf('"', start);
      if (backslash < end) {
        while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH && isEscaped(text, end))
          end = text.indexOf('"', end + 1);
      }
      if (end === -1) return undefined; // unterminated: JSON.parse reports it
      if (end - start > limits.maxStringLength) {
        return violation(
          text,
          'json_string_length',
          frames,
          depth,
          `string longer than ${limits.maxStringLength} characters`,
        );
      }
      const top = depth === 0 ? undefined : frames[depth - 1];
      if (top !== undefined && top.isObject && top.expectKey) {
        let decoded: string | undefined;
        if (backslash < end) {
          try {
            decoded = JSON.parse(text.slice(start - 1, end + 1)) as string;
          } catch {
            return undefined; // bad escape: JSON.parse reports it
          }
        }
        top.keyStart = start;
        top.keyEnd = end;
        top.keyText = decoded;
        top.expectKey = false;
        top.count++;
        // all three forbidden names are 9 or 11 characters long: most keys skip the comparison
        if (
          decoded === undefined
            ? forbiddenAt(text, start, end - start)
            : (decoded.length === 9 || decoded.length === 11) && FORBIDDEN_KEYS.has(decoded)
        ) {
          const key = decoded ?? text.slice(start, end);
          return violation(text, 'json_forbidden_key', frames, depth, `forbidden member name "${key}"`);
        }
        if (top.count > limits.maxObjectKeys) {
          return violation(
            text,
            'json_object_keys',
            frames,
            depth,
            `more than ${limits.maxObjectKeys} members in one object`,
          );
        }
        if (!addKey(top, text, start, end, decoded))
          return violation(text, 'json_duplicate_key', frames, depth, 'duplicate member name');
        // step over the colon of a compact document
        i = text.charCodeAt(end + 1) === 58 /* : */ ? end + 2 : end + 1;
        continue;
      }
      i = end + 1;
      continue;
    }
    switch (c) {
      case 123 /* { */:
      case 91 /* [ */: {
        if (depth >= limits.maxDepth) {
          return violation(text, 'json_depth', frames, depth, `nesting deeper than ${limits.maxDepth}`);
        }
        const isObject = c === 123;
        const frame = enter(frames, depth++, isObject);
        if (!isObject) {
          // count the first element when one follows
          let j = i + 1;
          while (j < length && isSpace(text.charCodeAt(j))) j++;
          if (j < length && text.charCodeAt(j) !== 93) frame.count = 1;
        }
        i++;
        continue;
      }
      case 125 /* } */:
      case 93 /* ] */:
        if (depth > 0) depth--;
        i++;
        continue;
      case 44 /* , */: {
        const top = depth === 0 ? undefined : frames[depth - 1];
        if (top !== undefined) {
          if (top.isObject) {
            top.expectKey = true;
          } else if (++top.count > limits.maxArrayLength) {
            return violation(
              text,
              'json_array_length',
              frames,
              depth,
              `array longer than ${limits.maxArrayLength} elements`,
            );
          }
        }
        i++;
        continue;
      }
      default:
        break;
    }
    if (c === 45 /* - */ || (c >= 48 && c <= 57)) {
      let j = i + 1;
      let integer = true;
      let exponent = false;
      while (j < length) {
        const d = text.charCodeAt(j);
        if (d >= 48 && d <= 57) {
          j++;
        } else if (d === 46 || d === 101 || d === 69 || d === 43 || d === 45) {
          integer = false;
          if (d === 101 || d === 69) exponent = true;
          j++;
        } else {
          break;
        }
      }
      // Up to 15 digits always fit; longer literals and exponents are checked by value.
      if (limits.unsafeNumbers === 'reject' && (j - i > 15 || exponent)) {
        const value = Number(text.slice(i, j));
        if (!Number.isFinite(value) || (integer && !Number.isSafeInteger(value))) {
          return violation(
            text,
            'json_unsafe_number',
            frames,
            depth,
            'number outside the safely representable range',
          );
        }
      }
      i = j;
      continue;
    }
    i++;
  }
  return undefined;
}

function isEscaped(text: string, quote: number): boolean {
  let backslashes = 0;
  for (let k = quote - 1; k >= 0 && text.charCodeAt(k) === BACKSLASH; k--) backslashes++;
  return backslashes % 2 === 1;
}

function isSpace(c: number): boolean {
  return c === 32 || c === 9 || c === 10 || c === 13;
}

function violation(
  text: string,
  reason: JsonViolation['reason'],
  frames: readonly Frame[],
  depth: number,
  message: string,
): JsonViolation {
  return { reason, pointer: pointerOf(text, frames, depth), message };
}

/** JSON pointer of the member being read (keys are truncated so pointers stay small). */
function pointerOf(text: string, frames: readonly Frame[], depth: number): string {
  let pointer = '';
  for (let d = 0; d < depth; d++) {
    const frame = frames[d] as Frame;
    if (frame.isObject) {
      if (frame.count === 0) break;
      let key = frame.keyText ?? text.slice(frame.keyStart, frame.keyEnd);
      if (key.length > 64) key = key.slice(0, 64) + '…';
      pointer += '/' + key.replaceAll('~', '~0').replaceAll('/', '~1');
    } else {
      if (frame.count === 0) break;
      pointer += '/' + String(frame.count - 1);
    }
  }
  return pointer;
}

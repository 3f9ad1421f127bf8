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
  /** Object: the last key read (for pointers); array: unused. */
  key: string;
  /** Object only: keys seen so far, in `list[0 .. listSize-1]` while there are few (then a Set). */
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
 * Frames are reused by depth within one scan, so a document with many small objects allocates
 * a frame per nesting level rather than per object.
 */
function enter(stack: Frame[], depth: number, isObject: boolean): Frame {
  let frame = stack[depth];
  if (frame === undefined) {
    frame = { isObject, count: 0, key: '', list: [], listSize: 0, keys: undefined, expectKey: isObject };
    stack[depth] = frame;
  } else {
    frame.isObject = isObject;
    frame.count = 0;
    frame.key = '';
    frame.listSize = 0;
    frame.keys = undefined;
    frame.expectKey = isObject;
  }
  return frame;
}

/** Records a key; false when the object already has it. */
function addKey(frame: Frame, key: string): boolean {
  const list = frame.list;
  if (frame.keys === undefined) {
    const size = frame.listSize;
    for (let k = 0; k < size; k++) if (list[k] === key) return false;
    if (size < SMALL_OBJECT) {
      list[size] = key;
      frame.listSize = size + 1;
      return true;
    }
    frame.keys = new Set(list);
  }
  if (frame.keys.has(key)) return false;
  frame.keys.add(key);
  return true;
}

/**
 * One linear pass over JSON text that enforces structural limits JSON.parse does not: nesting
 * depth, array length, string and key length, members per object, duplicate keys, prototype
 * keys and integers beyond the safe range. It tokenises just enough to know where strings, keys
 * and containers are; syntax errors are left to JSON.parse, which runs afterwards.
 * Returns the first violation, or undefined.
 */
export function scanJson(text: string, limits: ScanLimits): JsonViolation | undefined {
  // frames[0 .. depth-1] are the open containers
  const frames: Frame[] = [];
  let depth = 0;
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let end = text.indexOf('"', start);
      while (end !== -1 && text.charCodeAt(end - 1) === BACKSLASH && isEscaped(text, end))
        end = text.indexOf('"', end + 1);
      if (end === -1) return undefined; // unterminated: JSON.parse reports it
      if (end - start > limits.maxStringLength) {
        return violation(
          'json_string_length',
          frames,
          depth,
          `string longer than ${limits.maxStringLength} characters`,
        );
      }
      const top = depth === 0 ? undefined : frames[depth - 1];
      if (top !== undefined && top.isObject && top.expectKey) {
        let key = text.slice(start, end);
        if (key.includes('\\')) {
          try {
            key = JSON.parse(`"${key}"`) as string;
          } catch {
            return undefined; // bad escape: JSON.parse reports it
          }
        }
        top.key = key;
        top.expectKey = false;
        top.count++;
        // all three forbidden names are 9 or 11 characters long: most keys skip the hash look-up
        if ((key.length === 9 || key.length === 11) && FORBIDDEN_KEYS.has(key)) {
          return violation('json_forbidden_key', frames, depth, `forbidden member name "${key}"`);
        }
        if (top.count > limits.maxObjectKeys) {
          return violation(
            'json_object_keys',
            frames,
            depth,
            `more than ${limits.maxObjectKeys} members in one object`,
          );
        }
        if (!addKey(top, key)) return violation('json_duplicate_key', frames, depth, 'duplicate member name');
      }
      i = end + 1;
      continue;
    }
    switch (c) {
      case 123 /* { */:
      case 91 /* [ */: {
        if (depth >= limits.maxDepth) {
          return violation('json_depth', frames, depth, `nesting deeper than ${limits.maxDepth}`);
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
  reason: JsonViolation['reason'],
  frames: readonly Frame[],
  depth: number,
  message: string,
): JsonViolation {
  return { reason, pointer: pointerOf(frames, depth), message };
}

/** JSON pointer of the member being read (keys are truncated so pointers stay small). */
function pointerOf(frames: readonly Frame[], depth: number): string {
  let pointer = '';
  for (let d = 0; d < depth; d++) {
    const frame = frames[d] as Frame;
    if (frame.isObject) {
      if (frame.count === 0) break;
      const key = frame.key.length > 64 ? frame.key.slice(0, 64) + '…' : frame.key;
      pointer += '/' + key.replaceAll('~', '~0').replaceAll('/', '~1');
    } else {
      if (frame.count === 0) break;
      pointer += '/' + String(frame.count - 1);
    }
  }
  return pointer;
}

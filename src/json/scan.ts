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
  readonly isObject: boolean;
  /** Array: elements seen so far. Object: members seen so far. */
  count: number;
  /** Object: the last key read (for pointers); array: unused. */
  key: string;
  /** Object only: keys seen so far (created on the second key). */
  keys: Set<string> | undefined;
  first: string | undefined;
  expectKey: boolean;
}

const QUOTE = 34;
const BACKSLASH = 92;

/**
 * One linear pass over JSON text that enforces structural limits JSON.parse does not: nesting
 * depth, array length, string and key length, members per object, duplicate keys, prototype
 * keys and integers beyond the safe range. It tokenises just enough to know where strings, keys
 * and containers are; syntax errors are left to JSON.parse, which runs afterwards.
 * Returns the first violation, or undefined.
 */
export function scanJson(text: string, limits: ScanLimits): JsonViolation | undefined {
  const stack: Frame[] = [];
  const length = text.length;
  let i = 0;
  while (i < length) {
    const c = text.charCodeAt(i);
    if (c === QUOTE) {
      const start = i + 1;
      let end = text.indexOf('"', start);
      while (end !== -1 && isEscaped(text, end)) end = text.indexOf('"', end + 1);
      if (end === -1) return undefined; // unterminated: JSON.parse reports it
      if (end - start > limits.maxStringLength) {
        return violation(
          'json_string_length',
          stack,
          `string longer than ${limits.maxStringLength} characters`,
        );
      }
      const top = stack[stack.length - 1];
      if (top !== undefined && top.isObject && top.expectKey) {
        const raw = text.slice(start, end);
        let key = raw;
        if (raw.includes('\\')) {
          try {
            key = JSON.parse(`"${raw}"`) as string;
          } catch {
            return undefined; // bad escape: JSON.parse reports it
          }
        }
        top.key = key;
        top.expectKey = false;
        top.count++;
        if (FORBIDDEN_KEYS.has(key)) {
          return violation('json_forbidden_key', stack, `forbidden member name "${key}"`);
        }
        if (top.count > limits.maxObjectKeys) {
          return violation(
            'json_object_keys',
            stack,
            `more than ${limits.maxObjectKeys} members in one object`,
          );
        }
        if (top.first === undefined) {
          top.first = key;
        } else {
          if (top.keys === undefined) top.keys = new Set([top.first]);
          if (top.keys.has(key)) return violation('json_duplicate_key', stack, 'duplicate member name');
          top.keys.add(key);
        }
      }
      i = end + 1;
      continue;
    }
    switch (c) {
      case 123 /* { */:
      case 91 /* [ */: {
        if (stack.length >= limits.maxDepth) {
          return violation('json_depth', stack, `nesting deeper than ${limits.maxDepth}`);
        }
        const isObject = c === 123;
        stack.push({ isObject, count: 0, key: '', keys: undefined, first: undefined, expectKey: isObject });
        if (!isObject) {
          // count the first element when one follows
          let j = i + 1;
          while (j < length && isSpace(text.charCodeAt(j))) j++;
          if (j < length && text.charCodeAt(j) !== 93) (stack[stack.length - 1] as Frame).count = 1;
        }
        i++;
        continue;
      }
      case 125 /* } */:
      case 93 /* ] */:
        stack.pop();
        i++;
        continue;
      case 44 /* , */: {
        const top = stack[stack.length - 1];
        if (top !== undefined) {
          if (top.isObject) {
            top.expectKey = true;
          } else if (++top.count > limits.maxArrayLength) {
            return violation(
              'json_array_length',
              stack,
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
          return violation('json_unsafe_number', stack, 'number outside the safely representable range');
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

function violation(reason: JsonViolation['reason'], stack: readonly Frame[], message: string): JsonViolation {
  return { reason, pointer: pointerOf(stack), message };
}

/** JSON pointer of the member being read (keys are truncated so pointers stay small). */
function pointerOf(stack: readonly Frame[]): string {
  let pointer = '';
  for (const frame of stack) {
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

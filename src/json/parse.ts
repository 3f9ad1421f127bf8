import { isAscii } from 'node:buffer';
import { DEFAULT_JSON_LIMITS, type JsonLimits } from './limits.js';
import { scanJson, type JsonViolation } from './scan.js';
import { withinLimits } from './tree-check.js';

/** A JSON document refused by the hardened parser. */
export class JsonRejectedError extends Error {
  readonly reason: JsonViolation['reason'] | 'json_syntax' | 'json_encoding';
  /** JSON pointer of the offending member (`''` for the document). */
  readonly pointer: string;

  constructor(reason: JsonRejectedError['reason'], pointer: string, message: string) {
    super(message);
    this.name = 'JsonRejectedError';
    this.reason = reason;
    this.pointer = pointer;
  }
}

const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: false });

/**
 * Strict UTF-8 decoding. Most JSON bodies are ASCII, which is its own UTF-8: checked natively,
 * it is copied as latin1 in about half the time the fatal decoder takes. Anything else (a BOM,
 * non-ASCII text, invalid sequences) goes through the fatal decoder as before.
 */
function decode(input: Buffer | Uint8Array): string {
  if (Buffer.isBuffer(input) && isAscii(input)) return input.toString('latin1');
  try {
    return decoder.decode(input);
  } catch {
    throw new JsonRejectedError('json_encoding', '', 'body is not valid UTF-8');
  }
}

/** Nesting up to which the parsed value is walked recursively (deeper limits always scan first). */
const WALK_DEPTH = 1_000;
const SYNTAX_ERROR: unique symbol = Symbol('syntax error');

/**
 * Parses untrusted JSON: strict UTF-8, then the structural limits (depth, array length, string
 * and key length, members per object, duplicate and prototype keys, unsafe integers), then
 * JSON.parse. Throws JsonRejectedError; its message never quotes the input (JSON.parse messages
 * do, so they are not passed on).
 *
 * A text without backslashes (most bodies) is parsed first and its value checked against the
 * limits (withinLimits, a walk over the values rather than the characters); only when that walk
 * cannot vouch for it does the character-level scan run, which finds the violation and where it
 * lies. The result, value or error, is the same as scanning first.
 */
export function parseJson(
  input: Buffer | Uint8Array | string,
  limits: Omit<JsonLimits, 'maxBodyBytes' | 'multipart'> = DEFAULT_JSON_LIMITS,
): unknown {
  const text = typeof input === 'string' ? input : decode(input);
  let value: unknown = SYNTAX_ERROR;
  if (limits.maxDepth <= WALK_DEPTH && text.indexOf('\\') === -1) {
    try {
      value = JSON.parse(text);
    } catch {
      // the scan below reports a limit the text breaks before its syntax error
    }
    if (value !== SYNTAX_ERROR && withinLimits(value, text, limits)) return value;
  }
  const problem = scanJson(text, limits);
  if (problem !== undefined) throw new JsonRejectedError(problem.reason, problem.pointer, problem.message);
  if (value !== SYNTAX_ERROR) return value;
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonRejectedError('json_syntax', '', 'body is not valid JSON');
  }
}

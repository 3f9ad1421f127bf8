import { DEFAULT_JSON_LIMITS, type JsonLimits } from './limits.js';
import { scanJson, type JsonViolation } from './scan.js';

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
 * Parses untrusted JSON: strict UTF-8, then the structural scan (limits, duplicate and prototype
 * keys, unsafe integers), then JSON.parse. Throws JsonRejectedError; its message never quotes the
 * input (JSON.parse messages do, so they are not passed on).
 */
export function parseJson(
  input: Buffer | Uint8Array | string,
  limits: Omit<JsonLimits, 'maxBodyBytes' | 'multipart'> = DEFAULT_JSON_LIMITS,
): unknown {
  let text: string;
  if (typeof input === 'string') {
    text = input;
  } else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new JsonRejectedError('json_encoding', '', 'body is not valid UTF-8');
    }
  }
  const problem = scanJson(text, limits);
  if (problem !== undefined) throw new JsonRejectedError(problem.reason, problem.pointer, problem.message);
  try {
    return JSON.parse(text);
  } catch {
    throw new JsonRejectedError('json_syntax', '', 'body is not valid JSON');
  }
}

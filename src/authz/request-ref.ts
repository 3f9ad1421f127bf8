import type { RequestContext } from '../pipeline/context.js';

/** A request value an ownership rule reads: `path.accountId`, `query.tenantId`, `header.x-org`, `body./ownerId`. */
export interface RequestRef {
  readonly text: string;
  readonly source: 'path' | 'query' | 'header' | 'body';
  /** Parameter or header name (lower case for headers); the pointer text for `body`. */
  readonly name: string;
  /** Decoded JSON pointer tokens for `body`. */
  readonly pointer: readonly string[];
}

/** Compiles a reference; throws TypeError naming what is expected. */
export function compileRequestRef(text: string): RequestRef {
  const dot = text.indexOf('.');
  const source = dot === -1 ? text : text.slice(0, dot);
  const name = dot === -1 ? '' : text.slice(dot + 1);
  if (source === 'body') {
    if (!name.startsWith('/'))
      throw new TypeError(`"${text}": body values are named by JSON pointer, e.g. body./ownerId`);
    const pointer = name
      .slice(1)
      .split('/')
      .map((token) => token.replaceAll('~1', '/').replaceAll('~0', '~'));
    if (pointer.some((token) => token.length === 0))
      throw new TypeError(`"${text}": empty JSON pointer token`);
    return { text, source, name, pointer };
  }
  if ((source === 'path' || source === 'query' || source === 'header') && name.length > 0) {
    return { text, source, name: source === 'header' ? name.toLowerCase() : name, pointer: [] };
  }
  throw new TypeError(`"${text}" must be path.<name>, query.<name>, header.<name> or body./json/pointer`);
}

const QUERY_KEY = 'authz.query';

/** Every value of a query parameter (repeated parameters give several: all of them are checked). */
export function queryValues(ctx: RequestContext, name: string): string[] {
  let parsed = ctx.state.get(QUERY_KEY) as URLSearchParams | undefined;
  if (parsed === undefined) {
    parsed = new URLSearchParams(ctx.query);
    ctx.state.set(QUERY_KEY, parsed);
  }
  return parsed.getAll(name);
}

/**
 * The values found at a JSON pointer: a string or number gives one, an array of them gives each,
 * absence gives none. Anything else (object, boolean, null, nested arrays) is `undefined`: unusable.
 */
export function bodyValues(body: unknown, pointer: readonly string[]): string[] | undefined {
  let value = body;
  for (const token of pointer) {
    if (Array.isArray(value)) {
      if (!/^(0|[1-9][0-9]*)$/.test(token)) return [];
      value = value[Number(token)];
    } else if (value !== null && typeof value === 'object' && Object.hasOwn(value, token)) {
      value = (value as Record<string, unknown>)[token];
    } else {
      return [];
    }
    if (value === undefined) return [];
  }
  if (typeof value === 'string') return [value];
  if (typeof value === 'number' && Number.isFinite(value)) return [String(value)];
  if (Array.isArray(value)) {
    const out: string[] = [];
    for (const item of value) {
      if (typeof item === 'string') out.push(item);
      else if (typeof item === 'number' && Number.isFinite(item)) out.push(String(item));
      else return undefined;
    }
    return out;
  }
  return undefined;
}

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

/**
 * Every value of a query parameter. Names match broadly, as restrictions should: any case, and
 * with a `[...]` suffix (`tenantId[]`, `TENANTID`) since some frameworks bind those to the same
 * field. Repeated parameters give several values: all of them are checked.
 */
export function queryValues(ctx: RequestContext, name: string): string[] {
  let parsed = ctx.state.get(QUERY_KEY) as [string, string][] | undefined;
  if (parsed === undefined) {
    parsed = [...new URLSearchParams(ctx.query)];
    ctx.state.set(QUERY_KEY, parsed);
  }
  const wanted = name.toLowerCase();
  const out: string[] = [];
  for (const [key, value] of parsed) {
    if (key.length < wanted.length) continue;
    const bracket = key.indexOf('[');
    const base = (bracket === -1 ? key : key.slice(0, bracket)).toLowerCase();
    if (base === wanted) out.push(value);
  }
  return out;
}

/**
 * The values found at a JSON pointer: a string or number gives one, an array of them gives each,
 * absence gives none. Keys match in any case (`ownerId`, `OwnerId`: several deserialisers bind
 * both to one field), and every match is collected. Anything else (object, boolean, null, nested
 * arrays) is `undefined`: unusable.
 */
export function bodyValues(body: unknown, pointer: readonly string[]): string[] | undefined {
  const out: string[] = [];
  return collect(body, pointer, 0, out) ? out : undefined;
}

function collect(value: unknown, pointer: readonly string[], index: number, out: string[]): boolean {
  if (value === undefined) return true;
  if (index === pointer.length) return leafValues(value, out);
  const token = pointer[index] as string;
  if (Array.isArray(value)) {
    if (!/^(0|[1-9][0-9]*)$/.test(token)) return true;
    return collect(value[Number(token)], pointer, index + 1, out);
  }
  if (value === null || typeof value !== 'object') return true;
  const wanted = token.toLowerCase();
  for (const key of Object.keys(value)) {
    if (key.length === token.length && key.toLowerCase() === wanted) {
      if (!collect((value as Record<string, unknown>)[key], pointer, index + 1, out)) return false;
    }
  }
  return true;
}

function leafValues(value: unknown, out: string[]): boolean {
  if (typeof value === 'string') {
    out.push(value);
    return true;
  }
  if (typeof value === 'number' && Number.isFinite(value)) {
    out.push(String(value));
    return true;
  }
  if (!Array.isArray(value)) return false;
  for (const item of value) {
    if (typeof item === 'string') out.push(item);
    else if (typeof item === 'number' && Number.isFinite(item)) out.push(String(item));
    else return false;
  }
  return true;
}

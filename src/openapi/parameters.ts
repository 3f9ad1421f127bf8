import type { CompiledParameter } from './types.js';

/** A parameter value that could not be deserialised (reported as a validation error). */
export class ParameterFormatError extends Error {}

/** The query string split once: decoded name -> raw (still percent-encoded) values in order. */
export type RawQuery = Map<string, string[]>;

export function splitQuery(query: string): RawQuery {
  const out: RawQuery = new Map();
  if (query.length === 0) return out;
  for (const pair of query.split('&')) {
    if (pair.length === 0) continue;
    const eq = pair.indexOf('=');
    const name = decodeComponent(eq === -1 ? pair : pair.slice(0, eq), true);
    const value = eq === -1 ? '' : pair.slice(eq + 1);
    const list = out.get(name);
    if (list === undefined) out.set(name, [value]);
    else list.push(value);
  }
  return out;
}

/** Percent-decodes one component (`+` is a space in query strings). */
export function decodeComponent(raw: string, plusIsSpace: boolean): string {
  const text = plusIsSpace && raw.includes('+') ? raw.replaceAll('+', ' ') : raw;
  if (!text.includes('%')) return text;
  try {
    return decodeURIComponent(text);
  } catch {
    throw new ParameterFormatError('malformed percent-encoding');
  }
}

function pairsToObject(items: readonly string[]): Record<string, string> {
  if (items.length % 2 !== 0) throw new ParameterFormatError('object must be a list of name,value pairs');
  const out: Record<string, string> = {};
  for (let i = 0; i < items.length; i += 2) setMember(out, items[i] as string, items[i + 1] as string);
  return out;
}

function assignmentsToObject(items: readonly string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const item of items) {
    const eq = item.indexOf('=');
    if (eq === -1) throw new ParameterFormatError('object members must be name=value');
    setMember(out, item.slice(0, eq), item.slice(eq + 1));
  }
  return out;
}

const FORBIDDEN = new Set(['__proto__', 'constructor', 'prototype']);

function setMember(target: Record<string, string>, name: string, value: string): void {
  if (FORBIDDEN.has(name)) throw new ParameterFormatError('forbidden member name');
  if (Object.hasOwn(target, name)) throw new ParameterFormatError('duplicate member name');
  target[name] = value;
}

/**
 * Deserialises a query parameter (styles form, spaceDelimited, pipeDelimited, deepObject).
 * Returns undefined when absent. A primitive sent more than once is refused (parameter pollution).
 */
export function readQueryParameter(parameter: CompiledParameter, query: RawQuery): unknown {
  if (parameter.style === 'deepObject') {
    const prefix = parameter.name + '[';
    let out: Record<string, string> | undefined;
    for (const [name, values] of query) {
      if (!name.startsWith(prefix) || !name.endsWith(']')) continue;
      const member = name.slice(prefix.length, -1);
      if (member.includes('[') || member.includes(']'))
        throw new ParameterFormatError('nested deepObject members are not supported');
      if (values.length > 1) throw new ParameterFormatError('member repeated');
      out ??= {};
      setMember(out, member, decodeComponent(values[0] as string, true));
    }
    return out;
  }
  if (parameter.shape === 'object' && parameter.explode && parameter.style === 'form') {
    let out: Record<string, string> | undefined;
    for (const member of parameter.propertyNames) {
      const values = query.get(member);
      if (values === undefined) continue;
      if (values.length > 1) throw new ParameterFormatError('member repeated');
      out ??= {};
      setMember(out, member, decodeComponent(values[0] as string, true));
    }
    return out;
  }
  const values = query.get(parameter.name);
  if (values === undefined) return undefined;
  if (parameter.shape === 'array' && parameter.explode)
    return values.map((value) => decodeComponent(value, true));
  if (values.length > 1) throw new ParameterFormatError('must not be repeated');
  const raw = values[0] as string;
  if (parameter.contentType !== undefined) return decodeComponent(raw, true);
  if (parameter.shape === 'primitive') return decodeComponent(raw, true);
  const separator =
    parameter.style === 'spaceDelimited'
      ? /(?:%20|\+| )/
      : parameter.style === 'pipeDelimited'
        ? /(?:%7C|\|)/i
        : ',';
  const items = raw === '' ? [] : raw.split(separator).map((item) => decodeComponent(item, true));
  return parameter.shape === 'array' ? items : pairsToObject(items);
}

/** Query names a strict operation accepts; undefined when an object parameter admits any name. */
export function declaredQueryNames(parameters: readonly CompiledParameter[]): {
  names: Set<string>;
  prefixes: string[];
} {
  const names = new Set<string>();
  const prefixes: string[] = [];
  for (const parameter of parameters) {
    if (parameter.style === 'deepObject') prefixes.push(parameter.name + '[');
    else if (parameter.shape === 'object' && parameter.explode && parameter.style === 'form') {
      for (const member of parameter.propertyNames) names.add(member);
    } else names.add(parameter.name);
  }
  return { names, prefixes };
}

/** Deserialises a path parameter from its raw (percent-encoded) template capture. */
export function readPathParameter(parameter: CompiledParameter, raw: string): unknown {
  let text = raw;
  let separator = ',';
  if (parameter.style === 'label') {
    if (!text.startsWith('.')) throw new ParameterFormatError('label style value must start with "."');
    text = text.slice(1);
    if (parameter.explode) separator = '.';
  } else if (parameter.style === 'matrix') {
    if (!text.startsWith(';')) throw new ParameterFormatError('matrix style value must start with ";"');
    return readMatrix(parameter, text.slice(1));
  }
  if (parameter.shape === 'primitive') return decodeComponent(text, false);
  const items = text === '' ? [] : text.split(separator).map((item) => decodeComponent(item, false));
  if (parameter.shape === 'array') return items;
  return parameter.explode ? assignmentsToObject(items) : pairsToObject(items);
}

function readMatrix(parameter: CompiledParameter, text: string): unknown {
  const parts = text.split(';');
  if (parameter.shape === 'object' && parameter.explode) {
    return assignmentsToObject(parts.map((part) => decodeComponent(part, false)));
  }
  const values: string[] = [];
  for (const part of parts) {
    const eq = part.indexOf('=');
    const name = eq === -1 ? part : part.slice(0, eq);
    if (decodeComponent(name, false) !== parameter.name)
      throw new ParameterFormatError('unexpected matrix parameter');
    values.push(eq === -1 ? '' : part.slice(eq + 1));
  }
  if (parameter.shape === 'array' && parameter.explode)
    return values.map((value) => decodeComponent(value, false));
  if (values.length !== 1) throw new ParameterFormatError('must not be repeated');
  const value = values[0] as string;
  if (parameter.shape === 'primitive') return decodeComponent(value, false);
  const items = value === '' ? [] : value.split(',').map((item) => decodeComponent(item, false));
  return parameter.shape === 'array' ? items : pairsToObject(items);
}

/** Deserialises a header parameter (style simple; values are not percent-decoded). */
export function readHeaderParameter(parameter: CompiledParameter, value: string | undefined): unknown {
  if (value === undefined) return undefined;
  if (parameter.shape === 'primitive') return value;
  const items = value === '' ? [] : value.split(',').map((item) => item.trim());
  if (parameter.shape === 'array') return items;
  return parameter.explode ? assignmentsToObject(items) : pairsToObject(items);
}

/** Splits a Cookie header into name -> value (first occurrence wins, as browsers send the most specific first). */
export function splitCookies(header: string | undefined): Map<string, string> {
  const out = new Map<string, string>();
  if (header === undefined) return out;
  for (const piece of header.split(';')) {
    const eq = piece.indexOf('=');
    if (eq === -1) continue;
    const name = piece.slice(0, eq).trim();
    if (!out.has(name)) out.set(name, piece.slice(eq + 1).trim());
  }
  return out;
}

/** Deserialises a cookie parameter (style form). */
export function readCookieParameter(parameter: CompiledParameter, cookies: Map<string, string>): unknown {
  const value = cookies.get(parameter.name);
  if (value === undefined) return undefined;
  if (parameter.shape === 'primitive') return value;
  const items = value === '' ? [] : value.split(',');
  if (parameter.shape === 'array') return items;
  return pairsToObject(items);
}

import type { AttackClass } from './classes.js';
import type { InjectionPlan } from './config.js';
import type { FieldLocation } from './field-ref.js';
import { walkJson, toPointer } from './json-walk.js';
import type { FieldKind } from './schema-kind.js';
import type { MultipartField } from './multipart-fields.js';
import { looksLikeUrl } from './ssrf.js';

/** What the scanner needs from a request (the stage adapts RequestContext to this). */
export interface ScanInput {
  /** Raw query string without `?`. */
  readonly query: string;
  /** Decoded path template parameters. */
  readonly params: Readonly<Record<string, string>>;
  header(name: string): string | undefined;
  readonly body?:
    | { readonly kind: 'json'; readonly value: unknown }
    | { readonly kind: 'form'; readonly text: string }
    | { readonly kind: 'multipart'; readonly fields: readonly MultipartField[] }
    | { readonly kind: 'text'; readonly text: string };
  /** From the OpenAPI operation, when there is one. */
  readonly schema?: {
    readonly body: unknown;
    /** Parameter kinds by location and name (header names lower case). */
    parameter(location: FieldLocation, name: string): FieldKind | undefined;
  };
}

export interface Finding {
  readonly class: AttackClass;
  readonly rule: string;
  readonly location: FieldLocation;
  /** `/query/q`, `/body/comment/0` ... never the value. */
  readonly field: string;
}

interface UrlCandidate {
  readonly value: string;
  readonly location: FieldLocation;
  readonly field: string;
}

/** Field names come from client keys: capped so a log line stays small. */
function fieldName(location: FieldLocation, path: readonly (string | number)[]): string {
  const name = '/' + location + toPointer(path);
  return name.length > 200 ? name.slice(0, 200) + '…' : name;
}

/** Splits a `Cookie` header into values (each percent-decoded once, as servers do). */
function cookieValues(header: string): [string, string][] {
  const out: [string, string][] = [];
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq === -1) continue;
    let value = part.slice(eq + 1).trim();
    if (value.startsWith('"') && value.endsWith('"') && value.length >= 2) value = value.slice(1, -1);
    try {
      value = decodeURIComponent(value);
    } catch {
      // keep it as sent
    }
    out.push([part.slice(0, eq).trim(), value]);
  }
  return out;
}

/** Base name of a bracketed parameter (`filter[name]` → `filter`). */
function baseName(name: string): string {
  const bracket = name.indexOf('[');
  return bracket > 0 ? name.slice(0, bracket) : name;
}

/**
 * Walks every inspected field of a request once. Returns the first finding, synchronously when
 * no URL needs a DNS look-up, or a promise when SSRF candidates must be resolved.
 */
export function scanRequest(
  plan: InjectionPlan,
  input: ScanInput,
): Finding | undefined | Promise<Finding | undefined> {
  const inspector = plan.inspector;
  const urls: UrlCandidate[] = [];
  const ssrfOn = plan.ssrf !== undefined;
  const ssrfFields = plan.ssrfFields.length > 0;
  const single: (string | number)[] = [''];

  /** Inspects one string; `kind` comes from the schema (free when there is none). */
  const check = (
    location: FieldLocation,
    path: readonly (string | number)[],
    value: string,
    kind: FieldKind,
    urlDecode: boolean,
  ): Finding | undefined => {
    if (
      ssrfOn &&
      (kind === 'url' ||
        (ssrfFields && plan.isSsrfField(location, path)) ||
        (kind === 'free' && plan.detectUrls && looksLikeUrl(value)))
    ) {
      const skip = plan.excluded(location, path);
      if (skip?.has('ssrf') !== true) urls.push({ value, location, field: fieldName(location, path) });
      if (kind === 'url') return undefined;
    }
    if (kind === 'constrained') return undefined;
    const skip = plan.hasFieldExclusions ? plan.excluded(location, path) : undefined;
    const hit = inspector.inspectValue(value, urlDecode, skip);
    return hit === undefined ? undefined : { ...hit, location, field: fieldName(location, path) };
  };

  const checkKey = (
    location: FieldLocation,
    path: readonly (string | number)[],
    key: string,
  ): Finding | undefined => {
    const skip = plan.hasFieldExclusions ? plan.excluded(location, path) : undefined;
    const hit =
      inspector.inspectKey(key, skip) ??
      (location === 'query' || inspector.paranoia >= 2
        ? inspector.inspectValue(key, location !== 'query', skip)
        : undefined);
    return hit === undefined ? undefined : { ...hit, location, field: fieldName(location, path) };
  };

  const params = (
    location: FieldLocation,
    entries: Iterable<[string, string]>,
    urlDecoded: boolean,
  ): Finding | undefined => {
    for (const [name, value] of entries) {
      single[0] = name;
      const keyHit = location === 'query' ? checkKey(location, single, name) : undefined;
      if (keyHit !== undefined) return keyHit;
      const kind = input.schema?.parameter(location, baseName(name)) ?? 'free';
      const hit = check(location, single, value, kind, !urlDecoded);
      if (hit !== undefined) return hit;
    }
    return undefined;
  };

  const found =
    (input.query === '' ? undefined : params('query', new URLSearchParams(input.query), true)) ??
    params('path', Object.entries(input.params), true) ??
    params('header', headerEntries(plan.headers, input), false) ??
    (plan.cookies && input.header('cookie') !== undefined
      ? params('cookie', cookieValues(input.header('cookie') as string), true)
      : undefined) ??
    scanBody(input, check, checkKey);
  if (found !== undefined) return found;
  if (urls.length === 0) return undefined;
  return checkUrls(plan, urls);
}

function* headerEntries(names: readonly string[], input: ScanInput): Iterable<[string, string]> {
  for (const name of names) {
    const value = input.header(name);
    if (value !== undefined) yield [name, value];
  }
}

function scanBody(
  input: ScanInput,
  check: (
    location: FieldLocation,
    path: readonly (string | number)[],
    value: string,
    kind: FieldKind,
    urlDecode: boolean,
  ) => Finding | undefined,
  checkKey: (location: FieldLocation, path: readonly (string | number)[], key: string) => Finding | undefined,
): Finding | undefined {
  const body = input.body;
  if (body === undefined) return undefined;
  if (body.kind === 'text') return check('body', [], body.text, 'free', true);
  if (body.kind === 'multipart') {
    const path: (string | number)[] = [''];
    for (const field of body.fields) {
      path.length = 1;
      path[0] = field.name;
      if (field.kind === 'filename') path.push('filename');
      const hit = checkKey('body', path, field.name) ?? check('body', path, field.value, 'free', false);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  if (body.kind === 'form') {
    const path: (string | number)[] = [''];
    for (const [name, value] of new URLSearchParams(body.text)) {
      path[0] = name;
      const hit = checkKey('body', path, name) ?? check('body', path, value, 'free', false);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }
  return walkJson<Finding>(body.value, input.schema?.body, {
    key: (key, path) => checkKey('body', path, key),
    string: (value, path, kind) => check('body', path, value, kind, true),
  });
}

async function checkUrls(plan: InjectionPlan, urls: readonly UrlCandidate[]): Promise<Finding | undefined> {
  const ssrf = plan.ssrf;
  if (ssrf === undefined) return undefined;
  const first = urls[0] as UrlCandidate;
  if (urls.length > plan.maxUrls)
    return { class: 'ssrf', rule: 'ssrf.too-many-urls', location: first.location, field: first.field };
  const pending: Promise<Finding | undefined>[] = [];
  for (const url of urls) {
    const verdict = ssrf.checkSync(url.value);
    if ('resolve' in verdict) {
      pending.push(
        ssrf.check(url.value).then((v) =>
          v.blocked
            ? {
                class: 'ssrf',
                rule: `ssrf.${v.reason ?? 'blocked'}`,
                location: url.location,
                field: url.field,
              }
            : undefined,
        ),
      );
    } else if (verdict.blocked) {
      return {
        class: 'ssrf',
        rule: `ssrf.${verdict.reason ?? 'blocked'}`,
        location: url.location,
        field: url.field,
      };
    }
  }
  const results = await Promise.all(pending);
  return results.find((r) => r !== undefined);
}

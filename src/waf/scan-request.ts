import type { AttackClass } from './classes.js';
import type { InjectionPlan } from './config.js';
import type { FieldLocation } from './field-ref.js';
import type { Inspector } from './inspector.js';
import { walkJson, toPointer, type JsonVisitor } from './json-walk.js';
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
    | { readonly kind: 'text'; readonly text: string }
    | undefined;
  /** From the OpenAPI operation, when there is one. */
  readonly schema?:
    | {
        readonly body: unknown;
        /** Parameter kinds by location and name (header names lower case). */
        parameter(location: FieldLocation, name: string): FieldKind | undefined;
      }
    | undefined;
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
  const scan = new RequestScan(plan, input);
  const found = scan.run();
  if (found !== undefined) return found;
  const urls = scan.urls;
  if (urls === undefined) return undefined;
  return checkUrls(plan, urls);
}

/**
 * The state of one request's scan. Its methods live on the prototype, so a request allocates
 * this one object rather than a closure per helper; it is also the visitor of the JSON walk.
 */
class RequestScan implements JsonVisitor<Finding> {
  /** SSRF candidates, created with the first one. */
  urls: UrlCandidate[] | undefined;
  private readonly single: (string | number)[] = [''];
  private readonly plan: InjectionPlan;
  private readonly input: ScanInput;
  private readonly inspector: Inspector;

  constructor(plan: InjectionPlan, input: ScanInput) {
    this.plan = plan;
    this.input = input;
    this.inspector = plan.inspector;
  }

  run(): Finding | undefined {
    const input = this.input;
    if (input.query !== '') {
      const hit = this.params('query', new URLSearchParams(input.query), true);
      if (hit !== undefined) return hit;
    }
    const params = input.params;
    for (const name in params) {
      if (!Object.hasOwn(params, name)) continue;
      const hit = this.param('path', name, params[name] as string, true);
      if (hit !== undefined) return hit;
    }
    for (const name of this.plan.headers) {
      const value = input.header(name);
      if (value === undefined) continue;
      const hit = this.param('header', name, value, false);
      if (hit !== undefined) return hit;
    }
    if (this.plan.cookies) {
      const cookie = input.header('cookie');
      if (cookie !== undefined) {
        const hit = this.params('cookie', cookieValues(cookie), true);
        if (hit !== undefined) return hit;
      }
    }
    return this.body();
  }

  /** Inspects one string; `kind` comes from the schema (free when there is none). */
  check(
    location: FieldLocation,
    path: readonly (string | number)[],
    value: string,
    kind: FieldKind,
    urlDecode: boolean,
  ): Finding | undefined {
    const plan = this.plan;
    if (
      plan.ssrf !== undefined &&
      (kind === 'url' ||
        (plan.ssrfFields.length > 0 && plan.isSsrfField(location, path)) ||
        (kind === 'free' && plan.detectUrls && looksLikeUrl(value)))
    ) {
      const skip = plan.excluded(location, path);
      if (skip?.has('ssrf') !== true)
        (this.urls ??= []).push({ value, location, field: fieldName(location, path) });
      if (kind === 'url') return undefined;
    }
    if (kind === 'constrained') return undefined;
    const skip = plan.hasFieldExclusions ? plan.excluded(location, path) : undefined;
    const hit = this.inspector.inspectValue(value, urlDecode, skip);
    return hit === undefined ? undefined : { ...hit, location, field: fieldName(location, path) };
  }

  checkKey(location: FieldLocation, path: readonly (string | number)[], key: string): Finding | undefined {
    const plan = this.plan;
    const inspector = this.inspector;
    const skip = plan.hasFieldExclusions ? plan.excluded(location, path) : undefined;
    const hit =
      inspector.inspectKey(key, skip) ??
      (location === 'query' || inspector.paranoia >= 2
        ? inspector.inspectValue(key, location !== 'query', skip)
        : undefined);
    return hit === undefined ? undefined : { ...hit, location, field: fieldName(location, path) };
  }

  /** JSON walk: an object key of the body. */
  key(key: string, path: readonly (string | number)[]): Finding | undefined {
    return this.checkKey('body', path, key);
  }

  /** JSON walk: a string of the body. */
  string(value: string, path: readonly (string | number)[], kind: FieldKind): Finding | undefined {
    return this.check('body', path, value, kind, true);
  }

  private param(
    location: FieldLocation,
    name: string,
    value: string,
    urlDecoded: boolean,
  ): Finding | undefined {
    const single = this.single;
    single[0] = name;
    const keyHit = location === 'query' ? this.checkKey(location, single, name) : undefined;
    if (keyHit !== undefined) return keyHit;
    const kind = this.input.schema?.parameter(location, baseName(name)) ?? 'free';
    return this.check(location, single, value, kind, !urlDecoded);
  }

  private params(
    location: FieldLocation,
    entries: Iterable<[string, string]>,
    urlDecoded: boolean,
  ): Finding | undefined {
    for (const [name, value] of entries) {
      const hit = this.param(location, name, value, urlDecoded);
      if (hit !== undefined) return hit;
    }
    return undefined;
  }

  private body(): Finding | undefined {
    const body = this.input.body;
    if (body === undefined) return undefined;
    if (body.kind === 'text') return this.check('body', [], body.text, 'free', true);
    if (body.kind === 'multipart') {
      const path: (string | number)[] = [''];
      for (const field of body.fields) {
        path.length = 1;
        path[0] = field.name;
        if (field.kind === 'filename') path.push('filename');
        const hit =
          this.checkKey('body', path, field.name) ?? this.check('body', path, field.value, 'free', false);
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    if (body.kind === 'form') {
      const path: (string | number)[] = [''];
      for (const [name, value] of new URLSearchParams(body.text)) {
        path[0] = name;
        const hit = this.checkKey('body', path, name) ?? this.check('body', path, value, 'free', false);
        if (hit !== undefined) return hit;
      }
      return undefined;
    }
    return walkJson<Finding>(body.value, this.input.schema?.body, this);
  }
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

import { ATTACK_CLASSES, type AttackClass, type Paranoia } from './classes.js';
import { parseFieldRef, refMatches, type FieldLocation, type FieldRef } from './field-ref.js';
import { Inspector } from './inspector.js';
import { compileSsrf, type CompiledSsrf, type LookupAll } from './ssrf.js';

/** The `injection` section of a route. */
export interface InjectionConfig {
  readonly mode?: 'block' | 'report';
  readonly paranoia?: Paranoia;
  readonly classes?: readonly AttackClass[];
  readonly exclude?: readonly { readonly field?: string; readonly classes?: readonly AttackClass[] }[];
  /** Request headers inspected (default user-agent, referer). */
  readonly headers?: readonly string[];
  readonly cookies?: boolean;
  readonly maxBodyBytes?: number;
  readonly ssrf?: {
    readonly fields?: readonly string[];
    /** Also check string values that are entirely an absolute URL (default true). */
    readonly detectUrls?: boolean;
    readonly allowHosts?: readonly string[];
    readonly allowListOnly?: boolean;
    readonly schemes?: readonly string[];
    readonly onResolveError?: 'block' | 'allow';
    readonly resolveTimeoutMs?: number;
    readonly maxUrls?: number;
  };
}

const classList = {
  type: 'array',
  uniqueItems: true,
  items: { enum: [...ATTACK_CLASSES] },
} as const;

export const INJECTION_ROUTE_SCHEMA = {
  type: 'object',
  additionalProperties: false,
  description: 'Injection detection on free-text request fields (docs/injection.md).',
  properties: {
    mode: {
      enum: ['block', 'report'],
      description: 'block (default): 403 request_blocked; report: log and count only.',
    },
    paranoia: {
      enum: [1, 2, 3, 4],
      description: 'Rule level: 1 (default, fewest false positives) to 4 (most aggressive).',
    },
    classes: {
      ...classList,
      description: `Attack classes checked (default all: ${ATTACK_CLASSES.join(', ')}).`,
    },
    exclude: {
      type: 'array',
      description:
        'Exclusions: a field (/body/<pointer>, /query/<name>, /path/<name>, /header/<name>, /cookie/<name> or a bare name) and/or classes.',
      items: {
        type: 'object',
        additionalProperties: false,
        properties: {
          field: {
            type: 'string',
            minLength: 1,
            description: 'Field (and everything below it) to exclude; omit for the whole route.',
          },
          classes: { ...classList, description: 'Classes excluded (default all).' },
        },
      },
    },
    headers: {
      type: 'array',
      uniqueItems: true,
      items: { type: 'string', pattern: "^[A-Za-z0-9!#$%&'*+.^_`|~-]+$" },
      description: 'Request headers inspected (default user-agent and referer).',
    },
    cookies: { type: 'boolean', description: 'Inspect cookie values (default true).' },
    maxBodyBytes: {
      type: 'integer',
      minimum: 1,
      description: 'Largest body read for inspection (default 1 MiB; larger: 413).',
    },
    ssrf: {
      type: 'object',
      additionalProperties: false,
      description: 'Server-side request forgery checks on URL fields.',
      properties: {
        fields: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'Fields holding URLs or host names (besides schema `format: uri` fields).',
        },
        detectUrls: {
          type: 'boolean',
          description: 'Also check any string value that is an absolute URL (default true).',
        },
        allowHosts: {
          type: 'array',
          items: { type: 'string', minLength: 1 },
          description: 'Hosts accepted whatever they resolve to (`api.example.com`, `*.example.com`).',
        },
        allowListOnly: {
          type: 'boolean',
          description: 'Refuse every host not in allowHosts (default false).',
        },
        schemes: {
          type: 'array',
          items: { type: 'string', pattern: '^[a-z][a-z0-9+.-]*$' },
          description: 'URL schemes accepted (default http, https).',
        },
        onResolveError: {
          enum: ['block', 'allow'],
          description: 'A host that does not resolve: block (default) or allow.',
        },
        resolveTimeoutMs: {
          type: 'integer',
          minimum: 1,
          maximum: 30000,
          description: 'DNS look-up timeout (default 2000).',
        },
        maxUrls: {
          type: 'integer',
          minimum: 1,
          maximum: 1000,
          description: 'URL fields checked per request; more is refused (default 16).',
        },
      },
    },
  },
} as const;

interface Exclusion {
  readonly ref: FieldRef | undefined;
  readonly classes: ReadonlySet<AttackClass>;
}

/** Everything the injection stage decided at config load. */
export interface InjectionPlan {
  readonly mode: 'block' | 'report';
  readonly inspector: Inspector;
  readonly classes: ReadonlySet<AttackClass>;
  readonly headers: readonly string[];
  readonly cookies: boolean;
  readonly maxBodyBytes: number;
  readonly ssrf: CompiledSsrf | undefined;
  readonly ssrfFields: readonly FieldRef[];
  readonly detectUrls: boolean;
  readonly maxUrls: number;
  readonly hasFieldExclusions: boolean;
  /** Classes excluded for a field (undefined: none). */
  excluded(location: FieldLocation, path: readonly (string | number)[]): ReadonlySet<AttackClass> | undefined;
  isSsrfField(location: FieldLocation, path: readonly (string | number)[]): boolean;
}

/** Compiles a route's section; `fail(message, pointer)` reports operator mistakes. */
export function compileInjection(
  config: InjectionConfig,
  fail: (message: string, pointer: string) => never,
  lookup?: LookupAll,
): InjectionPlan {
  let classes = new Set<AttackClass>(config.classes ?? ATTACK_CLASSES);
  const exclusions: Exclusion[] = [];
  (config.exclude ?? []).forEach((entry, i) => {
    const excludedClasses = new Set<AttackClass>(entry.classes ?? ATTACK_CLASSES);
    if (entry.field === undefined) {
      if (entry.classes === undefined) fail('an exclusion needs a field, classes, or both', `/exclude/${i}`);
      classes = new Set([...classes].filter((c) => !excludedClasses.has(c)));
      return;
    }
    const ref = parseFieldRef(entry.field);
    if (typeof ref === 'string') fail(ref, `/exclude/${i}/field`);
    exclusions.push({ ref, classes: excludedClasses });
  });
  const ssrfFields = (config.ssrf?.fields ?? []).map((field, i) => {
    const ref = parseFieldRef(field);
    if (typeof ref === 'string') fail(ref, `/ssrf/fields/${i}`);
    return ref;
  });
  const ssrfConfig = config.ssrf ?? {};
  const ssrf = classes.has('ssrf')
    ? compileSsrf({
        ...(ssrfConfig.allowHosts === undefined ? {} : { allowHosts: ssrfConfig.allowHosts }),
        ...(ssrfConfig.allowListOnly === undefined ? {} : { allowListOnly: ssrfConfig.allowListOnly }),
        ...(ssrfConfig.schemes === undefined ? {} : { schemes: ssrfConfig.schemes }),
        ...(ssrfConfig.onResolveError === undefined ? {} : { onResolveError: ssrfConfig.onResolveError }),
        ...(ssrfConfig.resolveTimeoutMs === undefined
          ? {}
          : { resolveTimeoutMs: ssrfConfig.resolveTimeoutMs }),
        ...(lookup === undefined ? {} : { lookup }),
      })
    : undefined;
  if (classes.size === 0) fail('every attack class is excluded: remove the injection section instead', '');
  const cache = new Map<string, ReadonlySet<AttackClass> | undefined>();
  return {
    mode: config.mode ?? 'block',
    inspector: new Inspector({ paranoia: config.paranoia ?? 1, classes }),
    classes,
    headers: (config.headers ?? ['user-agent', 'referer']).map((h) => h.toLowerCase()),
    cookies: config.cookies ?? true,
    maxBodyBytes: config.maxBodyBytes ?? 1024 * 1024,
    ssrf,
    ssrfFields,
    detectUrls: ssrfConfig.detectUrls ?? true,
    maxUrls: ssrfConfig.maxUrls ?? 16,
    hasFieldExclusions: exclusions.length > 0,
    excluded(location, path) {
      if (exclusions.length === 0) return undefined;
      const key = location + '\u0000' + path.join('\u0000');
      if (cache.has(key)) return cache.get(key);
      let out: Set<AttackClass> | undefined;
      for (const exclusion of exclusions) {
        if (exclusion.ref !== undefined && refMatches(exclusion.ref, location, path)) {
          out ??= new Set();
          for (const c of exclusion.classes) out.add(c);
        }
      }
      if (cache.size < 1024) cache.set(key, out);
      return out;
    },
    isSsrfField(location, path) {
      return ssrfFields.some((ref) => refMatches(ref, location, path));
    },
  };
}

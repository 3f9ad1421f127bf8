import { compilePathTemplate, isTemplate, splitPath, type PathTemplate } from './path-template.js';

/** What a route matches on, already validated by the config schema. */
export interface RouteMatcherSpec<T> {
  readonly value: T;
  readonly hosts?: readonly string[] | undefined;
  readonly methods?: readonly string[] | undefined;
  readonly path?: string | undefined;
  readonly pathPrefix?: string | undefined;
}

export type RouteLookup<T> =
  | { readonly kind: 'match'; readonly value: T; readonly params: Record<string, string> }
  | { readonly kind: 'method_not_allowed'; readonly allow: readonly string[] }
  | { readonly kind: 'not_found' };

interface Candidate<T> {
  readonly value: T;
  readonly methods: ReadonlySet<string> | undefined;
  readonly order: number;
  readonly kind: 'exact' | 'template' | 'prefix';
  readonly exact?: string;
  readonly template?: PathTemplate;
  readonly prefix?: string;
  readonly rank: number;
  /** The lookup answer for exact and prefix candidates (no params), made once and frozen. */
  readonly matched: RouteLookup<T>;
}

interface HostTable<T> {
  readonly exact: Map<string, Candidate<T>[]>;
  readonly templates: Candidate<T>[];
  readonly prefixes: Candidate<T>[];
}

/**
 * Routes by host, path and method, with this precedence (documented in docs/routing.md):
 * 1. host: exact host, then wildcard hosts (longest suffix first), then routes without hosts;
 * 2. path: exact path, then templates (more literal segments first, literals before params
 *    left to right), then prefixes (longest first); a single trailing slash is ignored;
 * 3. among equals, the first route in the config wins; a path that matches with another
 *    method answers 405 with `Allow`.
 */
export class Router<T> {
  private readonly exactHosts = new Map<string, HostTable<T>>();
  private readonly wildcardHosts: { suffix: string; table: HostTable<T> }[] = [];
  private readonly anyHost: HostTable<T> = newTable();

  constructor(
    specs: readonly RouteMatcherSpec<T>[],
    private readonly options: { caseInsensitive?: boolean } = {},
  ) {
    specs.forEach((spec, order) => this.add(spec, order));
    this.wildcardHosts.sort((a, b) => b.suffix.length - a.suffix.length);
    const sortAll = (table: HostTable<T>) => {
      table.templates.sort((a, b) => b.rank - a.rank || a.order - b.order);
      table.prefixes.sort((a, b) => b.rank - a.rank || a.order - b.order);
    };
    for (const table of this.exactHosts.values()) sortAll(table);
    for (const { table } of this.wildcardHosts) sortAll(table);
    sortAll(this.anyHost);
  }

  private add(spec: RouteMatcherSpec<T>, order: number): void {
    const methods = spec.methods?.length ? new Set(spec.methods.map((m) => m.toUpperCase())) : undefined;
    const tables: HostTable<T>[] = [];
    if (!spec.hosts?.length) tables.push(this.anyHost);
    for (const rawHost of spec.hosts ?? []) {
      const host = rawHost.toLowerCase();
      if (host.startsWith('*.')) {
        const suffix = host.slice(1);
        let entry = this.wildcardHosts.find((w) => w.suffix === suffix);
        if (!entry) this.wildcardHosts.push((entry = { suffix, table: newTable() }));
        tables.push(entry.table);
      } else {
        let table = this.exactHosts.get(host);
        if (!table) this.exactHosts.set(host, (table = newTable()));
        tables.push(table);
      }
    }
    const candidate = this.candidate(spec, methods, order);
    for (const table of tables) {
      if (candidate.kind === 'exact') {
        const list = table.exact.get(candidate.exact!) ?? [];
        list.push(candidate);
        table.exact.set(candidate.exact!, list);
      } else if (candidate.kind === 'template') table.templates.push(candidate);
      else table.prefixes.push(candidate);
    }
  }

  private candidate(
    spec: RouteMatcherSpec<T>,
    methods: ReadonlySet<string> | undefined,
    order: number,
  ): Candidate<T> {
    const fold = (p: string) => (this.options.caseInsensitive ? p.toLowerCase() : p);
    if (spec.path !== undefined) {
      const path = fold(trimSlash(spec.path));
      if (isTemplate(path)) {
        const template = compilePathTemplate(path);
        // literals beat params segment by segment from the left
        let rank = template.literalCount * 1000;
        template.segments.forEach((s, i) => {
          if ('literal' in s) rank += 1 / (i + 1);
        });
        return { value: spec.value, methods, order, kind: 'template', template, rank, matched: NO_MATCH };
      }
      return {
        value: spec.value,
        methods,
        order,
        kind: 'exact',
        exact: path,
        rank: 0,
        matched: matchOf(spec.value),
      };
    }
    const prefix = fold(trimSlash(spec.pathPrefix ?? '/'));
    return {
      value: spec.value,
      methods,
      order,
      kind: 'prefix',
      prefix,
      rank: prefix.length,
      matched: matchOf(spec.value),
    };
  }

  lookup(host: string, method: string, path: string): RouteLookup<T> {
    const exact = this.exactHosts.get(host);
    const wildcard = this.wildcardFor(host);
    const found =
      (exact && this.find(exact, method, path, undefined)) ||
      (wildcard && this.find(wildcard, method, path, undefined)) ||
      this.find(this.anyHost, method, path, undefined);
    if (found) return found;
    // A miss (rare): the same walk again, gathering the methods the path would accept for `Allow`.
    const allow = new Set<string>();
    if (exact) this.find(exact, method, path, allow);
    if (wildcard) this.find(wildcard, method, path, allow);
    this.find(this.anyHost, method, path, allow);
    if (allow.size > 0) return { kind: 'method_not_allowed', allow: [...allow].sort() };
    return { kind: 'not_found' };
  }

  /** The table of the longest wildcard host suffix that `host` ends with. */
  private wildcardFor(host: string): HostTable<T> | undefined {
    for (const { suffix, table } of this.wildcardHosts) {
      if (host.length > suffix.length && host.endsWith(suffix)) return table;
    }
    return undefined;
  }

  /**
   * The first candidate of `table` matching `rawPath` and accepting `method`. With `allow`, the
   * methods of candidates that match the path but not the method are added to it.
   */
  private find(
    table: HostTable<T>,
    method: string,
    rawPath: string,
    allow: Set<string> | undefined,
  ): RouteLookup<T> | undefined {
    const path = trimSlash(this.options.caseInsensitive ? rawPath.toLowerCase() : rawPath);
    const exact = table.exact.get(path);
    if (exact) {
      for (const c of exact) if (accepts(c, method, allow)) return c.matched;
    }
    if (table.templates.length > 0) {
      const parts = splitPath(rawPath);
      const folded = this.options.caseInsensitive ? parts.map((p) => p.toLowerCase()) : parts;
      for (const c of table.templates) {
        const params = c.template!.match(folded, parts);
        if (params && accepts(c, method, allow)) return { kind: 'match', value: c.value, params };
      }
    }
    for (const c of table.prefixes) {
      const prefix = c.prefix!;
      if (
        prefix === '' ||
        (path.startsWith(prefix) &&
          (path.length === prefix.length || path.charCodeAt(prefix.length) === 47)) /* / */
      ) {
        if (accepts(c, method, allow)) return c.matched;
      }
    }
    return undefined;
  }
}

const NO_PARAMS: Record<string, string> = Object.freeze({});
const NO_MATCH = Object.freeze({ kind: 'not_found' as const });

function matchOf<T>(value: T): RouteLookup<T> {
  return Object.freeze({ kind: 'match' as const, value, params: NO_PARAMS });
}

/** Whether `c` takes `method` (HEAD goes where GET does); if not, its methods join `allow`. */
function accepts<T>(c: Candidate<T>, method: string, allow: Set<string> | undefined): boolean {
  const methods = c.methods;
  if (methods === undefined || methods.has(method) || (method === 'HEAD' && methods.has('GET'))) return true;
  if (allow !== undefined) for (const m of methods) allow.add(m);
  return false;
}

function newTable<T>(): HostTable<T> {
  return { exact: new Map(), templates: [], prefixes: [] };
}

/** Drops one trailing slash (but keeps the root). `/` → ``, `/a/` → `/a`. */
function trimSlash(path: string): string {
  return path.endsWith('/') ? path.slice(0, -1) : path;
}

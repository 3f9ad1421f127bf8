/**
 * Path templates in authorization selectors: `/accounts/{accountId}`, `/admin/**`.
 *
 * Two ways to match, on purpose: a *grant* (a permission) matches narrowly (exact case, segments
 * as sent, only a trailing slash forgiven), a *restriction* (an ownership rule, a privileged
 * marker, a scope requirement) matches broadly (any case, empty segments and `;params` ignored),
 * so a spelling trick can only lose access, never skip a check.
 */
export type MatchMode = 'grant' | 'restrict';

type Segment =
  | { readonly kind: 'literal'; readonly text: string; readonly lower: string }
  | { readonly kind: 'param'; readonly name: string }
  /** A segment mixing literals and parameters, e.g. `{name}.{ext}` (OpenAPI allows it). */
  | {
      readonly kind: 'pattern';
      readonly names: readonly string[];
      readonly exact: RegExp;
      readonly loose: RegExp;
    }
  | { readonly kind: 'rest' };

export interface PathTemplate {
  readonly source: string;
  readonly paramNames: readonly string[];
  /** True when the template ends with `/**` (matches any deeper path). */
  readonly open: boolean;
  /** Returns captured (decoded) parameters, or undefined when the path does not match. */
  match(path: string, mode: MatchMode): Record<string, string> | undefined;
  /** The same on a path already split by `splitPath(path, mode)`. */
  matchParts(parts: readonly string[], mode: MatchMode): Record<string, string> | undefined;
  /** True when `template` (an OpenAPI path template) names the same path shape. */
  sameShape(template: string): boolean;
}

const WHOLE_PARAM = /^\{([A-Za-z0-9_.-]+)\}$/;

/** Compiles a template; throws TypeError with a reason for a malformed one. */
export function compilePathTemplate(source: string): PathTemplate {
  if (!source.startsWith('/')) throw new TypeError(`path template must start with "/": ${source}`);
  const raw = source === '/' ? [] : trimSlash(source).slice(1).split('/');
  const segments: Segment[] = [];
  const paramNames: string[] = [];
  raw.forEach((text, index) => {
    if (text === '**') {
      if (index !== raw.length - 1) throw new TypeError(`"**" may only end a path template: ${source}`);
      segments.push({ kind: 'rest' });
      return;
    }
    const param = WHOLE_PARAM.exec(text);
    if (param !== null) {
      const name = param[1] as string;
      if (paramNames.includes(name)) throw new TypeError(`parameter {${name}} appears twice in ${source}`);
      paramNames.push(name);
      segments.push({ kind: 'param', name });
      return;
    }
    if (/^[^{}*]*(\{[A-Za-z0-9_.-]+\}[^{}*]*)+$/.test(text)) {
      segments.push(mixedSegment(text, source, paramNames));
      return;
    }
    if (text.length === 0 || /[{}*]/.test(text))
      throw new TypeError(`malformed segment "${text}" in ${source}`);
    segments.push({ kind: 'literal', text, lower: text.toLowerCase() });
  });
  const open = segments.at(-1)?.kind === 'rest';
  const shape = shapeOf(source);
  return {
    source,
    paramNames,
    open,
    match: (path, mode) => matchSegments(segments, open, splitPath(path, mode), mode),
    matchParts: (parts, mode) => matchSegments(segments, open, parts, mode),
    sameShape: (template) => !open && shapeOf(template) === shape,
  };
}

function trimSlash(path: string): string {
  return path.length > 1 && path.endsWith('/') ? path.slice(0, -1) : path;
}

/** `/a/{x}/b` -> `/a/{}/b`: parameter names do not matter for equality. */
function shapeOf(template: string): string {
  return trimSlash(template).replace(/\{[^{}]*\}/g, '{}');
}

const NO_PARAMS: Record<string, string> = Object.freeze({}) as Record<string, string>;

/** Path segments as templates see them: as sent for grants; without empty segments and `;params` for restrictions. */
export function splitPath(path: string, mode: MatchMode): string[] {
  const trimmed = trimSlash(path);
  if (trimmed === '/') return [];
  const parts = trimmed.slice(1).split('/');
  if (mode === 'grant' || (!trimmed.includes(';') && !trimmed.includes('//'))) return parts;
  const out: string[] = [];
  for (const part of parts) {
    const semicolon = part.indexOf(';');
    const clean = semicolon === -1 ? part : part.slice(0, semicolon);
    if (clean.length > 0) out.push(clean);
  }
  return out;
}

function matchSegments(
  segments: readonly Segment[],
  open: boolean,
  parts: readonly string[],
  mode: MatchMode,
): Record<string, string> | undefined {
  if (open ? parts.length < segments.length - 1 : parts.length !== segments.length) return undefined;
  let params = NO_PARAMS;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i] as Segment;
    if (segment.kind === 'rest') return params;
    const part = parts[i];
    if (part === undefined || part.length === 0) return undefined;
    if (segment.kind === 'literal') {
      if (part !== segment.text && (mode === 'grant' || part.toLowerCase() !== segment.lower))
        return undefined;
    } else if (segment.kind === 'pattern') {
      if (params === NO_PARAMS) params = {};
      const match = (mode === 'grant' ? segment.exact : segment.loose).exec(part);
      if (match === null) return undefined;
      for (let j = 0; j < segment.names.length; j++) {
        const decoded = decode(match[j + 1] as string);
        if (decoded === undefined) return undefined;
        params[segment.names[j] as string] = decoded;
      }
    } else {
      const decoded = decode(part);
      if (decoded === undefined) return undefined;
      if (params === NO_PARAMS) params = {};
      params[segment.name] = decoded;
    }
  }
  return params;
}

function decode(part: string): string | undefined {
  if (!part.includes('%')) return part;
  try {
    return decodeURIComponent(part);
  } catch {
    return undefined;
  }
}

function mixedSegment(text: string, source: string, paramNames: string[]): Segment {
  const names: string[] = [];
  let pattern = '^';
  for (const [index, part] of text.split(/\{([A-Za-z0-9_.-]+)\}/).entries()) {
    if (index % 2 === 1) {
      if (paramNames.includes(part)) throw new TypeError(`parameter {${part}} appears twice in ${source}`);
      names.push(part);
      paramNames.push(part);
      pattern += '(.+?)';
    } else {
      pattern += part.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
    }
  }
  return { kind: 'pattern', names, exact: new RegExp(pattern + '$'), loose: new RegExp(pattern + '$', 'i') };
}

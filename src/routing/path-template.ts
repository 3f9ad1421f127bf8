/** A compiled path template such as `/users/{id}/orders/{orderId}`. */
export interface PathTemplate {
  readonly source: string;
  readonly segments: readonly ({ readonly literal: string } | { readonly param: string })[];
  /** Number of literal segments: more literals = more specific. */
  readonly literalCount: number;
  /**
   * The params when `segments` fit the template; their values are read from `values` (the same
   * segments before case folding, when routing is case-insensitive).
   */
  match(segments: readonly string[], values?: readonly string[]): Record<string, string> | undefined;
}

export function splitPath(path: string): string[] {
  const parts = path.split('/');
  parts.shift();
  if (parts.length > 0 && parts[parts.length - 1] === '') parts.pop();
  return parts;
}

const PARAM = /^\{([A-Za-z_][A-Za-z0-9_.-]*)\}$/;

export function isTemplate(path: string): boolean {
  return path.includes('{');
}

export function compilePathTemplate(source: string): PathTemplate {
  const segments = splitPath(source).map((segment) => {
    const param = PARAM.exec(segment);
    if (param) return { param: param[1] as string };
    if (segment.includes('{') || segment.includes('}')) {
      throw new TypeError(`segment "${segment}" must be a literal or a whole {param}`);
    }
    return { literal: segment };
  });
  const literalCount = segments.filter((s) => 'literal' in s).length;
  return {
    source,
    segments,
    literalCount,
    match(parts, values = parts) {
      if (parts.length !== segments.length) return undefined;
      let params: Record<string, string> | undefined;
      for (let i = 0; i < segments.length; i++) {
        const segment = segments[i]!;
        const part = parts[i]!;
        if ('literal' in segment) {
          if (segment.literal !== part) return undefined;
        } else {
          if (part === '') return undefined;
          let value: string;
          try {
            value = decodeURIComponent(values[i]!);
          } catch {
            return undefined;
          }
          (params ??= {})[segment.param] = value;
        }
      }
      return params ?? {};
    },
  };
}

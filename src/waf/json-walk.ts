import { SchemaNode, type FieldKind } from './schema-kind.js';

/**
 * Visits a parsed JSON value (every field: there is no budget after which fields go unchecked;
 * size and depth are bounded by the hardened parser's limits): every object key and every string (numbers and booleans cannot carry an injection). */
export interface JsonVisitor<T> {
  /** `path` is shared and mutated: copy it if kept. Return a value to stop the walk. */
  key(key: string, path: readonly (string | number)[]): T | undefined;
  string(value: string, path: readonly (string | number)[], kind: FieldKind): T | undefined;
}

export function walkJson<T>(root: unknown, schema: unknown, visitor: JsonVisitor<T>): T | undefined {
  return visit(root, SchemaNode.of(schema), [], visitor);
}

/** One recursive function (no closure per walk): `path` is the walk's shared, mutated path. */
function visit<T>(
  value: unknown,
  node: SchemaNode | undefined,
  path: (string | number)[],
  visitor: JsonVisitor<T>,
): T | undefined {
  if (typeof value === 'string') return visitor.string(value, path, node === undefined ? 'free' : node.kind);
  if (typeof value !== 'object' || value === null) return undefined;
  if (node !== undefined && node.kind === 'constrained') return undefined;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      path.push(i);
      const found = visit(value[i], node === undefined ? undefined : node.child(i), path, visitor);
      path.pop();
      if (found !== undefined) return found;
    }
    return undefined;
  }
  // for-in, not Object.keys: no array per object (JSON.parse's objects have no inherited
  // enumerable members; one a polluted prototype added would only be inspected too)
  for (const key in value) {
    path.push(key);
    const found =
      visitor.key(key, path) ??
      visit(
        (value as Record<string, unknown>)[key],
        node === undefined ? undefined : node.child(key),
        path,
        visitor,
      );
    path.pop();
    if (found !== undefined) return found;
  }
  return undefined;
}

/** RFC 6901 JSON pointer for a path. */
export function toPointer(path: readonly (string | number)[]): string {
  let out = '';
  for (const segment of path) out += '/' + String(segment).replaceAll('~', '~0').replaceAll('/', '~1');
  return out;
}

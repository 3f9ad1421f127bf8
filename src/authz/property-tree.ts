import type { PropertyList } from './config.js';

/**
 * An allow-list of JSON properties: `name` allows the whole value of `name`, `address.city` only
 * `city` inside `address`. Arrays are transparent: the list applies to each element.
 */
export interface PropertyTree {
  readonly all: boolean;
  readonly children: ReadonlyMap<string, PropertyTree>;
}

interface MutableTree {
  all: boolean;
  children: Map<string, MutableTree>;
}

export const NOTHING: PropertyTree = { all: false, children: new Map() };
export const EVERYTHING: PropertyTree = { all: true, children: new Map() };

/** Compiles `[name, address.city]` or `'*'`; throws TypeError on an empty path segment. */
export function compilePropertyList(list: PropertyList): PropertyTree {
  if (list === '*') return EVERYTHING;
  const root: MutableTree = { all: false, children: new Map() };
  for (const entry of list) {
    const parts = entry.split('.');
    if (parts.some((part) => part.length === 0)) throw new TypeError(`malformed property path "${entry}"`);
    let node = root;
    for (const part of parts) {
      let next = node.children.get(part);
      if (next === undefined) {
        next = { all: false, children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.all = true;
  }
  return root;
}

/** The union of several allow-lists (a caller with several roles gets what any of them gets). */
export function mergeTrees(trees: readonly PropertyTree[]): PropertyTree {
  if (trees.length === 0) return NOTHING;
  if (trees.length === 1) return trees[0] as PropertyTree;
  if (trees.some((tree) => tree.all)) return EVERYTHING;
  const keys = new Set<string>();
  for (const tree of trees) for (const key of tree.children.keys()) keys.add(key);
  const children = new Map<string, PropertyTree>();
  for (const key of keys) {
    const parts: PropertyTree[] = [];
    for (const tree of trees) {
      const child = tree.children.get(key);
      if (child !== undefined) parts.push(child);
    }
    children.set(key, mergeTrees(parts));
  }
  return { all: false, children };
}

/**
 * The first property of `value` the tree does not allow (a dotted path), or undefined. A value
 * where the tree expects an object (a string for `address` when only `address.city` is allowed)
 * counts as disallowed.
 */
export function findDisallowed(value: unknown, tree: PropertyTree, path = ''): string | undefined {
  if (tree.all) return undefined;
  if (Array.isArray(value)) {
    for (const item of value) {
      const found = findDisallowed(item, tree, path);
      if (found !== undefined) return found;
    }
    return undefined;
  }
  if (value === null || typeof value !== 'object') return path === '' ? undefined : path;
  for (const key of Object.keys(value)) {
    const child = tree.children.get(key);
    const childPath = path === '' ? key : `${path}.${key}`;
    if (child === undefined) return childPath;
    const found = findDisallowed((value as Record<string, unknown>)[key], child, childPath);
    if (found !== undefined) return found;
  }
  return undefined;
}

/** A copy of `value` holding only the allowed properties (arrays filtered element by element). */
export function filterValue(value: unknown, tree: PropertyTree): unknown {
  if (tree.all) return value;
  if (Array.isArray(value)) {
    const items: unknown[] = [];
    for (const item of value) {
      const filtered = filterValue(item, tree);
      if (filtered !== undefined) items.push(filtered);
    }
    return items;
  }
  if (value === null || typeof value !== 'object') return undefined;
  const out = Object.create(null) as Record<string, unknown>;
  for (const key of Object.keys(value)) {
    const child = tree.children.get(key);
    if (child === undefined) continue;
    const filtered = filterValue((value as Record<string, unknown>)[key], child);
    if (filtered !== undefined) out[key] = filtered;
  }
  return out;
}

import type { PropertyRule } from './compile.js';
import { mergeTrees, NOTHING, type PropertyTree } from './property-tree.js';
import type { AuthzRequest } from './request-view.js';

/**
 * The allow-lists that apply to a request, one per matching rule (each must be satisfied):
 * per rule, the union of what the caller's roles may write (or read). A caller with no listed
 * role gets an empty list: nothing.
 */
export function applicableTrees(
  rules: readonly PropertyRule[],
  request: AuthzRequest,
  roles: readonly string[],
  kind: 'write' | 'read',
): PropertyTree[] {
  const out: PropertyTree[] = [];
  for (const rule of rules) {
    const byRole = rule[kind];
    if (byRole === undefined || !rule.selectors.some((selector) => selector.matches(request, 'restrict')))
      continue;
    const trees: PropertyTree[] = [];
    for (const role of roles) {
      const tree = byRole.get(role);
      if (tree !== undefined) trees.push(tree);
    }
    out.push(trees.length === 0 ? NOTHING : mergeTrees(trees));
  }
  return out;
}

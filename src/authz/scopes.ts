import type { SecurityRequirement } from '../openapi/types.js';

/**
 * OpenAPI security requirements are alternatives (any one suffices); inside one, every scheme's
 * scopes are needed. A requirement listing no scope is satisfied here: which scheme the caller
 * used is authentication's concern. Returns the scopes to name in the challenge, or undefined
 * when the caller's scopes satisfy one requirement.
 */
export function missingScopes(
  requirements: readonly SecurityRequirement[],
  granted: ReadonlySet<string>,
): readonly string[] | undefined {
  if (requirements.length === 0) return undefined;
  let first: string[] | undefined;
  for (const requirement of requirements) {
    const needed: string[] = [];
    for (const scopes of Object.values(requirement))
      for (const scope of scopes) if (!needed.includes(scope)) needed.push(scope);
    if (needed.every((scope) => granted.has(scope))) return undefined;
    first ??= needed;
  }
  return first;
}

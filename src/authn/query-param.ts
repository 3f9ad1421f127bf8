import type { RequestContext } from '../pipeline/context.js';

/**
 * Removes every occurrence of parameter `name` from `ctx.query` (so it is neither forwarded nor
 * logged) and returns its value: `undefined` when absent, `null` when repeated or undecodable.
 */
export function takeQueryParam(ctx: RequestContext, name: string): string | null | undefined {
  if (ctx.query === '') return undefined;
  const kept: string[] = [];
  const values: (string | null)[] = [];
  for (const pair of ctx.query.split('&')) {
    const eq = pair.indexOf('=');
    const rawName = eq === -1 ? pair : pair.slice(0, eq);
    if (decode(rawName) !== name) {
      kept.push(pair);
      continue;
    }
    values.push(eq === -1 ? '' : decode(pair.slice(eq + 1)));
  }
  if (values.length === 0) return undefined;
  ctx.query = kept.join('&');
  return values.length === 1 ? (values[0] ?? null) : null;
}

function decode(text: string): string | null {
  try {
    return decodeURIComponent(text.replaceAll('+', ' '));
  } catch {
    return null;
  }
}

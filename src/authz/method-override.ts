/** Headers and parameters frameworks use to tunnel a method through POST. */
export const OVERRIDE_HEADERS = ['x-http-method-override', 'x-http-method', 'x-method-override'] as const;
export const OVERRIDE_PARAM = '_method';

/** Methods an enabled override may select (never CONNECT or TRACE). */
const OVERRIDABLE = new Set(['GET', 'HEAD', 'PUT', 'PATCH', 'DELETE', 'POST', 'OPTIONS']);

/** The query without any `_method` parameter (also encoded or differently cased); `removed` holds their values. */
export function stripOverrideParam(query: string): { query: string; removed: string[] } {
  const removed: string[] = [];
  if (query.length === 0 || !(query.includes('_') || query.includes('%'))) return { query, removed };
  const kept: string[] = [];
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    const rawName = eq === -1 ? part : part.slice(0, eq);
    if (decodeName(rawName).toLowerCase() === OVERRIDE_PARAM) {
      removed.push(eq === -1 ? '' : decodeName(part.slice(eq + 1)));
    } else {
      kept.push(part);
    }
  }
  return removed.length === 0 ? { query, removed } : { query: kept.join('&'), removed };
}

function decodeName(raw: string): string {
  try {
    return decodeURIComponent(raw.replaceAll('+', ' '));
  } catch {
    return raw;
  }
}

/** The method an override value selects, or undefined when it is not an acceptable method. */
export function overrideMethod(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const method = value.trim().toUpperCase();
  return OVERRIDABLE.has(method) ? method : undefined;
}

/** True when a form body carries a `_method` field (Rails, Laravel and others honour it). */
export function formBodyHasOverride(mediaType: string | undefined, body: Buffer): boolean {
  if (mediaType === 'application/x-www-form-urlencoded') {
    return stripOverrideParam(body.toString('latin1')).removed.length > 0;
  }
  if (mediaType === 'multipart/form-data') {
    return /^content-disposition:[^\r\n]*;\s*name\s*=\s*"?_method"?\s*(;|\r?$)/im.test(
      body.toString('latin1'),
    );
  }
  return false;
}

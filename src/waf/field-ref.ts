/**
 * Names a request field in exclusions and SSRF field lists: `/body/<JSON pointer>`,
 * `/query/<name>`, `/path/<name>`, `/header/<name>`, `/cookie/<name>`, or a bare parameter name
 * (any location, top level). `*` matches any one segment (`/body/items/*\/note`). A reference
 * covers the field and everything below it.
 */
export type FieldLocation = 'body' | 'query' | 'path' | 'header' | 'cookie';
export const FIELD_LOCATIONS: readonly FieldLocation[] = ['body', 'query', 'path', 'header', 'cookie'];

export interface FieldRef {
  readonly location: FieldLocation | '*';
  readonly segments: readonly string[];
}

function unescape(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

/** Parses a field reference; returns an error message for a malformed one. */
export function parseFieldRef(text: string): FieldRef | string {
  if (!text.startsWith('/')) {
    if (text === '') return 'empty field reference';
    return { location: '*', segments: [text] };
  }
  const parts = text.slice(1).split('/');
  const location = parts[0] as FieldLocation;
  if (!FIELD_LOCATIONS.includes(location)) {
    return `field "${text}" must start with /body, /query, /path, /header or /cookie (or be a bare parameter name)`;
  }
  const segments = parts.slice(1).map(unescape);
  if (location !== 'body' && segments.length !== 1)
    return `field "${text}" must name one ${location} parameter`;
  return { location, segments: location === 'header' ? segments.map((s) => s.toLowerCase()) : segments };
}

export function refMatches(
  ref: FieldRef,
  location: FieldLocation,
  path: readonly (string | number)[],
): boolean {
  if (ref.location !== '*' && ref.location !== location) return false;
  if (ref.segments.length > path.length) return false;
  for (let i = 0; i < ref.segments.length; i++) {
    const want = ref.segments[i] as string;
    if (want !== '*' && want !== String(path[i])) return false;
  }
  return true;
}

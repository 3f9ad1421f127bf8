import type { CompiledMediaType } from './types.js';

/** `application/json` and any `+json` structured suffix. */
export function isJsonMediaType(mediaType: string): boolean {
  return mediaType === 'application/json' || mediaType.endsWith('+json');
}

/**
 * The declared media type for a received one (lower case, no parameters): exact match first,
 * then `type/*`, then `*\/*`. Declared ranges may carry parameters (`text/plain; charset=utf-8`);
 * those are ignored.
 */
export function findMediaType(
  content: readonly CompiledMediaType[],
  mediaType: string | undefined,
): CompiledMediaType | undefined {
  if (mediaType === undefined) return undefined;
  let wildcard: CompiledMediaType | undefined;
  let any: CompiledMediaType | undefined;
  const major = mediaType.slice(0, mediaType.indexOf('/') + 1) + '*';
  for (const media of content) {
    const range = media.mediaRange.split(';', 1)[0]?.trim() ?? '';
    if (range === mediaType) return media;
    if (range === major) wildcard ??= media;
    else if (range === '*/*') any ??= media;
  }
  return wildcard ?? any;
}

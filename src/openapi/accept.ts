import type { CompiledOperation } from './types.js';

/** Media types an operation can answer with on success (`2XX` ranges, exact 2xx codes, `default`). */
export function producedMediaTypes(operation: CompiledOperation): string[] {
  const out = new Set<string>();
  for (const response of operation.responses) {
    if (!response.status.startsWith('2') && response.status !== 'DEFAULT') continue;
    for (const media of response.content) out.add(media.mediaRange.split(';', 1)[0]?.trim() ?? '');
  }
  out.delete('');
  return [...out];
}

/**
 * True when an `Accept` header admits at least one of `produced` (RFC 9110 §12.5.1: media
 * ranges with `q=0` exclude). An absent or empty header accepts anything.
 */
export function accepts(header: string | undefined, produced: readonly string[]): boolean {
  if (header === undefined || header.trim() === '' || produced.length === 0) return true;
  for (const part of header.split(',')) {
    const [rangeText, ...params] = part.split(';');
    const range = (rangeText ?? '').trim().toLowerCase();
    if (range === '') continue;
    const q = params.map((p) => p.trim().toLowerCase()).find((p) => p.startsWith('q='));
    if (q !== undefined && Number(q.slice(2)) === 0) continue;
    for (const media of produced) if (compatible(range, media)) return true;
  }
  return false;
}

function compatible(range: string, media: string): boolean {
  if (range === '*/*' || media === '*/*' || range === '*') return true;
  const [rangeType, rangeSub] = range.split('/');
  const [mediaType, mediaSub] = media.split('/');
  if (rangeType !== mediaType) return false;
  return rangeSub === '*' || mediaSub === '*' || rangeSub === mediaSub;
}

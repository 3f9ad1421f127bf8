import { request, type Dispatcher } from 'undici';
import type { JWK } from 'jose';

export interface JwksFetchOptions {
  readonly timeoutMs: number;
  readonly maxBytes: number;
  readonly maxKeys: number;
  readonly dispatcher?: Dispatcher;
}

export class JwksFetchError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'JwksFetchError';
  }
}

const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'k', 'priv'];

/**
 * Fetches a JWKS document with a deadline and a size cap, and keeps only public signing keys.
 * A response with more than `maxKeys` keys is refused as a whole rather than truncated.
 */
export async function fetchJwks(uri: string, options: JwksFetchOptions): Promise<JWK[]> {
  const signal = AbortSignal.timeout(options.timeoutMs);
  let response: Dispatcher.ResponseData;
  try {
    response = await request(uri, {
      method: 'GET',
      headers: { accept: 'application/jwk-set+json, application/json' },
      signal,
      headersTimeout: options.timeoutMs,
      bodyTimeout: options.timeoutMs,
      ...(options.dispatcher === undefined ? {} : { dispatcher: options.dispatcher }),
    });
  } catch (error) {
    throw new JwksFetchError('jwks request failed', { cause: error });
  }
  if (response.statusCode !== 200) {
    response.body.resume();
    throw new JwksFetchError(`jwks answered ${response.statusCode}`);
  }
  const declared = Number(response.headers['content-length']);
  if (Number.isFinite(declared) && declared > options.maxBytes) {
    response.body.destroy();
    throw new JwksFetchError('jwks response too large');
  }
  const chunks: Buffer[] = [];
  let size = 0;
  try {
    for await (const chunk of response.body) {
      size += (chunk as Buffer).length;
      if (size > options.maxBytes) {
        response.body.destroy();
        throw new JwksFetchError('jwks response too large');
      }
      chunks.push(chunk as Buffer);
    }
  } catch (error) {
    if (error instanceof JwksFetchError) throw error;
    throw new JwksFetchError('jwks body failed', { cause: error });
  }
  let document: unknown;
  try {
    document = JSON.parse(Buffer.concat(chunks).toString('utf8'));
  } catch (error) {
    throw new JwksFetchError('jwks is not JSON', { cause: error });
  }
  return publicSigningKeys(document, options.maxKeys);
}

/** Validates a JWKS document and returns its public signing keys (symmetric/private keys dropped). */
export function publicSigningKeys(document: unknown, maxKeys: number): JWK[] {
  if (
    document === null ||
    typeof document !== 'object' ||
    !Array.isArray((document as { keys?: unknown }).keys)
  ) {
    throw new JwksFetchError('jwks has no keys array');
  }
  const keys = (document as { keys: unknown[] }).keys;
  if (keys.length > maxKeys) throw new JwksFetchError(`jwks has ${keys.length} keys, more than ${maxKeys}`);
  const usable: JWK[] = [];
  for (const key of keys) {
    if (key === null || typeof key !== 'object' || Array.isArray(key)) continue;
    const jwk = key as JWK;
    if (typeof jwk.kty !== 'string' || jwk.kty === 'oct') continue;
    if (PRIVATE_MEMBERS.some((member) => member in jwk)) continue;
    if (jwk.use !== undefined && jwk.use !== 'sig') continue;
    usable.push(jwk);
  }
  return usable;
}

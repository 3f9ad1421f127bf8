const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'];
const KEY_TYPES = new Set(['EC', 'OKP', 'RSA']);
const MAX_KEYS = 10;

/**
 * Checks a client's public key material for private_key_jwt: a JWK Set or one JWK, asymmetric,
 * without any private member. Returns it as a JWK Set. Throws TypeError with the reason.
 */
export function checkPublicJwks(value: unknown): Record<string, unknown> {
  const keys = isObject(value) && Array.isArray(value.keys) ? (value.keys as unknown[]) : [value];
  if (keys.length === 0 || keys.length > MAX_KEYS)
    throw new TypeError(`jwks: 1 to ${MAX_KEYS} keys expected`);
  for (const key of keys) {
    if (!isObject(key)) throw new TypeError('jwks: each key must be a JSON object');
    if (typeof key.kty !== 'string' || !KEY_TYPES.has(key.kty))
      throw new TypeError('jwks: kty must be EC, OKP or RSA');
    for (const member of PRIVATE_MEMBERS) {
      if (member in key)
        throw new TypeError(`jwks: private or symmetric key material ("${member}") is not accepted`);
    }
  }
  return { keys };
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

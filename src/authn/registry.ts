import type { AuthenticatorFactory } from './authenticator.js';
import { apiKeyFactory } from './api-key-authenticator.js';
import { clientCertFactory } from './client-cert-authenticator.js';
import { introspectionFactory } from './introspection-authenticator.js';
import { jwtFactory } from './jwt-authenticator.js';

/**
 * Every authentication method a route can name, by kind (`api_key`, `jwt`, `introspection`,
 * `mtls`). Add one line per factory; the `authn` config schema is composed from this list.
 */
export const AUTHENTICATOR_FACTORIES: readonly AuthenticatorFactory[] = [
  apiKeyFactory,
  jwtFactory,
  introspectionFactory,
  clientCertFactory,
];

export function findFactory(kind: string): AuthenticatorFactory | undefined {
  return AUTHENTICATOR_FACTORIES.find((factory) => factory.kind === kind);
}

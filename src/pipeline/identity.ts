/** Who is calling: set by authentication stages, read by authorization, limits and logging. */
export interface Identity {
  /** Consumer id in the credential store, when the caller is a known consumer. */
  readonly consumerId?: string;
  /** Subject (JWT `sub`, certificate subject, consumer name). */
  readonly subject: string;
  /** Authentication method that produced this identity, e.g. `api_key`, `jwt`, `mtls`, `introspection`. */
  readonly method: string;
  /** Credential id (API key look-up id, JWT `jti`/issuer, cert fingerprint): never the credential. */
  readonly credentialId?: string;
  readonly roles: readonly string[];
  readonly scopes: readonly string[];
  readonly tenant?: string;
  /** Other claims and consumer attributes, for ownership rules and header forwarding. */
  readonly attributes: Readonly<Record<string, unknown>>;
  /** Issuer for JWT/OAuth identities. */
  readonly issuer?: string;
  /** Absolute expiry (ms since epoch) of the credential, when known. */
  readonly expiresAt?: number;
}

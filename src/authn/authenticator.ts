import type { BuildContext } from '../pipeline/build-context.js';
import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import type { JSONSchemaType } from '../pipeline/json-schema.js';

/**
 * One way of proving who is calling (an API key, a JWT issuer, an introspection server, a
 * client certificate). The `authn.authenticate` stage combines a route's authenticators with
 * any-of / all-of semantics.
 */
export interface Authenticator {
  /** Method name as written in route config, e.g. `api_key`, `jwt:corp`, `mtls`. */
  readonly method: string;
  /** The `WWW-Authenticate` challenge for a 401, e.g. `Bearer realm="portcullis"`. */
  readonly challenge: string;
  /**
   * Returns `undefined` when the request carries no credential for this method; an Identity
   * when it carries a valid one; throws AuthenticationFailure when it carries a bad one.
   */
  authenticate(ctx: RequestContext): Identity | undefined | Promise<Identity | undefined>;
  /**
   * Request headers (lower case) carrying this method's credential: the stage drops them before
   * forwarding unless the route sets `forwardCredential: true`.
   */
  readonly credentialHeaders?: readonly string[];
  /**
   * Query parameters that may carry this method's credential: the stage removes them from the
   * forwarded (and logged) query whatever the outcome.
   */
  readonly credentialQueryParams?: readonly string[];
}

/** Creates authenticators of one kind (`api_key`, `jwt`, `introspection`, `mtls`). */
export interface AuthenticatorFactory {
  readonly kind: string;
  /**
   * Key and JSON Schema of this kind's sub-section of the top-level `authn:` section (e.g.
   * `apiKey`, `jwt`): the `authn.authenticate` stage composes its global schema from these.
   */
  readonly globalKey?: string;
  readonly globalSchema?: JSONSchemaType;
  /** `instance` is the part after the colon in `jwt:corp` (undefined for `api_key`). */
  create(instance: string | undefined, build: BuildContext): Authenticator | Promise<Authenticator>;
}

/** A credential was presented and is not acceptable. `reason` goes to logs and audit only. */
export class AuthenticationFailure extends Error {
  readonly reason: string;
  readonly credentialId: string | undefined;
  /** RFC 6750 error code for the challenge. */
  readonly oauthError: 'invalid_token' | 'invalid_request';

  constructor(
    reason: string,
    options: {
      credentialId?: string;
      oauthError?: 'invalid_token' | 'invalid_request';
      cause?: unknown;
    } = {},
  ) {
    super(reason, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AuthenticationFailure';
    this.reason = reason;
    this.credentialId = options.credentialId;
    this.oauthError = options.oauthError ?? 'invalid_token';
  }
}

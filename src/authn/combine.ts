import type { RequestContext } from '../pipeline/context.js';
import type { Identity } from '../pipeline/identity.js';
import { AuthenticationFailure, type Authenticator } from './authenticator.js';

/** The result of running a route's authenticators. */
export type AuthOutcome =
  | { readonly kind: 'ok'; readonly identity: Identity }
  | { readonly kind: 'missing'; readonly method: string | undefined }
  | {
      readonly kind: 'failed';
      readonly failure: AuthenticationFailure;
      readonly authenticator: Authenticator;
    };

type Step = Identity | undefined | Promise<Identity | undefined>;

function isPromise<T>(value: unknown): value is Promise<T> {
  return value instanceof Promise;
}

/** Calls one authenticator; AuthenticationFailure becomes an outcome, anything else propagates. */
function attempt(
  authenticator: Authenticator,
  ctx: RequestContext,
):
  | { identity: Identity | undefined }
  | { failed: AuthOutcome }
  | Promise<{ identity: Identity | undefined } | { failed: AuthOutcome }> {
  let step: Step;
  try {
    step = authenticator.authenticate(ctx);
  } catch (error) {
    return { failed: failedOutcome(authenticator, error) };
  }
  if (!isPromise<Identity | undefined>(step)) return { identity: step };
  return step.then(
    (identity) => ({ identity }),
    (error: unknown) => ({ failed: failedOutcome(authenticator, error) }),
  );
}

function failedOutcome(authenticator: Authenticator, error: unknown): AuthOutcome {
  if (error instanceof AuthenticationFailure) return { kind: 'failed', failure: error, authenticator };
  throw error;
}

/**
 * any-of: methods are tried in order; the first one whose credential is present decides. A
 * credential that is present and bad fails the request (it is never skipped in favour of a later
 * method). Stays synchronous while every authenticator answers synchronously.
 */
export function authenticateAnyOf(
  authenticators: readonly Authenticator[],
  ctx: RequestContext,
  start = 0,
): AuthOutcome | Promise<AuthOutcome> {
  for (let i = start; i < authenticators.length; i++) {
    const authenticator = authenticators[i] as Authenticator;
    // Inline rather than through `attempt`: the synchronous success is the hot path, one object.
    let step: Step;
    try {
      step = authenticator.authenticate(ctx);
    } catch (error) {
      return failedOutcome(authenticator, error);
    }
    if (isPromise<Identity | undefined>(step)) {
      return step.then(
        (identity): AuthOutcome | Promise<AuthOutcome> =>
          identity !== undefined ? { kind: 'ok', identity } : authenticateAnyOf(authenticators, ctx, i + 1),
        (error: unknown) => failedOutcome(authenticator, error),
      );
    }
    if (step !== undefined) return { kind: 'ok', identity: step };
  }
  return MISSING;
}

const MISSING: AuthOutcome = Object.freeze({ kind: 'missing', method: undefined });

/**
 * all-of: every method must succeed. The first method listed supplies the identity; when two
 * methods each name a consumer, they must name the same one.
 */
export async function authenticateAllOf(
  authenticators: readonly Authenticator[],
  ctx: RequestContext,
): Promise<AuthOutcome> {
  const identities: Identity[] = [];
  for (const authenticator of authenticators) {
    const settled = await attempt(authenticator, ctx);
    if ('failed' in settled) return settled.failed;
    if (settled.identity === undefined) return { kind: 'missing', method: authenticator.method };
    identities.push(settled.identity);
  }
  const [primary, ...others] = identities as [Identity, ...Identity[]];
  for (const [index, other] of others.entries()) {
    if (
      primary.consumerId !== undefined &&
      other.consumerId !== undefined &&
      other.consumerId !== primary.consumerId
    ) {
      return {
        kind: 'failed',
        failure: new AuthenticationFailure('identity_mismatch', {
          ...(other.credentialId !== undefined ? { credentialId: other.credentialId } : {}),
        }),
        authenticator: authenticators[index + 1] as Authenticator,
      };
    }
  }
  const identity: Identity = {
    ...primary,
    method: identities.map((item) => item.method).join('+'),
    attributes: { ...primary.attributes, authenticatedBy: identities.map((item) => item.method) },
  };
  return { kind: 'ok', identity };
}

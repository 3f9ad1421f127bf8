import type { BuildContext } from '../pipeline/build-context.js';
import type { LocalKeyProvider } from '../authn/jwt-keys.js';
import type { RevocationWatch } from '../authn/jwt-revocation.js';

/** What a `local: true` JWT issuer needs from the built-in authorization server. */
export interface LocalIssuerRuntime {
  readonly issuer: string;
  readonly keys: LocalKeyProvider;
  readonly revocation: RevocationWatch;
}

export async function localIssuerRuntime(build: BuildContext, at: string): Promise<LocalIssuerRuntime> {
  build.fail('the built-in authorization server needs the credential store, which is not available yet', at);
}

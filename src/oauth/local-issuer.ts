import type { BuildContext } from '../pipeline/build-context.js';
import { sharedService } from '../pipeline/services.js';
import type { LocalKeyProvider } from '../authn/jwt-keys.js';
import type { RevocationWatch } from '../authn/jwt-revocation.js';
import { oauthRuntime, oauthServerConfig } from './runtime.js';
import { TokenHolders } from './token-holders.js';

/** What a `local: true` JWT issuer needs from the built-in authorization server. */
export interface LocalIssuerRuntime {
  readonly issuer: string;
  readonly keys: LocalKeyProvider;
  readonly revocation: RevocationWatch;
  /** The tokens' consumers and clients: a token outlives neither. */
  readonly holders: TokenHolders;
}

export async function localIssuerRuntime(build: BuildContext, at: string): Promise<LocalIssuerRuntime> {
  const config = oauthServerConfig(build, at);
  let runtime;
  try {
    runtime = await oauthRuntime(build, config);
  } catch (error) {
    return build.fail(
      `the built-in authorization server needs the credential store and keyring: ${(error as Error).message}`,
      at,
    );
  }
  const store = runtime.store;
  const holders = sharedService(build.services, 'authn.localIssuer.holders', () => {
    const directory = new TokenHolders(store);
    build.services.onClose(() => directory.close());
    return directory;
  });
  return { issuer: config.issuer, keys: runtime.localKeys, revocation: runtime.revocation, holders };
}

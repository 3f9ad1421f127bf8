export { secretsConfigSchema, DEFAULT_KEK, DEFAULT_KEK_PATH, DEFAULT_KEK_ENV } from './config.js';
export type { KekConfig, SecretsConfig } from './config.js';
export { KeyringError, DecryptionError } from './errors.js';
export type { KeyringErrorCode, DecryptionErrorCode } from './errors.js';
export { Keyring, openKeyring, loadKeyring, PEPPER_SECRET } from './keyring.js';
export { seal, open } from './envelope.js';
export { hashCredential, verifyCredentialHash } from './hash.js';
export {
  createSecretResolver,
  setSecret,
  readSecret,
  secretAad,
  assertSecretName,
  SecretNotFoundError,
  RESERVED_SECRET_PREFIX,
} from './secrets.js';
export { rotateKek } from './rotate.js';
export type { RotateKekResult } from './rotate.js';
export {
  SigningKeys,
  createSigningKey,
  rotateSigningKey,
  publishedJwks,
  selectActiveKey,
  unsealSigningKey,
  signingKeyAad,
} from './signing-keys.js';
export type { ActiveSigningKey, SigningAlg } from './signing-keys.js';
export { createKekProvider, decodeKek } from './kek-providers.js';
export type { KekProvider } from './kek-providers.js';

import type { CredentialStore, RewrapUpdate, WrappedKeyRef } from '../store/types.js';
import type { Keyring } from './keyring.js';
import { secretAad } from './secrets.js';
import { signingKeyAad } from './signing-keys.js';

export interface RotateKekResult {
  /** Data keys re-wrapped under the current KEK by this call. */
  readonly rewrapped: number;
  /** Data keys per KEK version after the run. */
  readonly usage: ReadonlyMap<number, number>;
  /** Older configured versions that wrap nothing any more: safe to remove from config. */
  readonly retirable: readonly number[];
}

export interface RotateKekOptions {
  readonly batchSize?: number;
  readonly onBatch?: (rewrapped: number) => void;
}

function aadOf(ref: WrappedKeyRef): string {
  return ref.kind === 'secret' ? secretAad(ref.id) : signingKeyAad(ref.id);
}

/**
 * Re-wraps every data key under the keyring's current KEK, a batch per transaction, while
 * readers continue (they unwrap with whichever version a row names). Each row is replaced only
 * if it still holds the wrapped key that was read (a concurrent write wins). The ciphertexts
 * themselves are untouched. Old versions are reported retirable only when nothing uses them.
 */
export async function rotateKek(
  keyring: Keyring,
  store: CredentialStore,
  options: RotateKekOptions = {},
): Promise<RotateKekResult> {
  const batchSize = options.batchSize ?? 100;
  const target = keyring.currentVersion;
  let rewrapped = 0;
  for (let round = 0; round < 1_000_000; round++) {
    const refs = await store.listWrappedKeys({ notKekVersion: target, limit: batchSize });
    if (refs.length === 0) break;
    const updates: RewrapUpdate[] = refs.map((ref) => {
      const aad = aadOf(ref);
      const dataKey = keyring.unwrapKey(ref.wrappedKey, ref.kekVersion, aad);
      try {
        const { wrappedKey, kekVersion } = keyring.wrapKey(dataKey, aad);
        return { kind: ref.kind, id: ref.id, wrappedKey, kekVersion, previousWrappedKey: ref.wrappedKey };
      } finally {
        dataKey.fill(0);
      }
    });
    const changed = await store.rewrapKeys(updates);
    rewrapped += changed;
    options.onBatch?.(changed);
  }
  const usage = await store.countByKekVersion();
  const retirable = keyring.versions.filter((v) => v !== target && (usage.get(v) ?? 0) === 0);
  // A node still configured with a retired version as current refuses to start (keyring.ts).
  for (const v of retirable) await store.setMetaIfAbsent(`kek.retired.v${v}`, new Date().toISOString());
  return { rewrapped, usage, retirable };
}

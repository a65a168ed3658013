import { hkdfSync } from 'node:crypto';

/** Derives an independent key per purpose from the one configured SECRET. */
export function deriveKey(secret: string, purpose: string): Uint8Array {
  return new Uint8Array(hkdfSync('sha256', secret, 'gatehouse', purpose, 32));
}

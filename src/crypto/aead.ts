import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';

// Authenticated encryption for secrets at rest (signing keys, refresh successors, TOTP secrets):
// AES-256-GCM with a random 96-bit nonce per message and associated data that binds a ciphertext
// to where it belongs (e.g. "signing-key:<kid>"), so a ciphertext copied into another row or
// column fails to decrypt. Format: "v1.<nonce>.<ciphertext>.<tag>", each part base64url.

const VERSION = 'v1';
const NONCE_BYTES = 12;
const TAG_BYTES = 16;
const PART = /^[A-Za-z0-9_-]*$/;

export class DecryptionError extends Error {
  constructor() {
    super('ciphertext could not be decrypted: wrong key, wrong associated data, or tampered');
    this.name = 'DecryptionError';
  }
}

export function encrypt(key: Uint8Array, plaintext: Uint8Array | string, associatedData: string): string {
  checkKey(key);
  const nonce = randomBytes(NONCE_BYTES);
  const cipher = createCipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
  cipher.setAAD(Buffer.from(associatedData, 'utf8'));
  const body = Buffer.concat([cipher.update(typeof plaintext === 'string' ? Buffer.from(plaintext, 'utf8') : plaintext), cipher.final()]);
  return [VERSION, nonce, body, cipher.getAuthTag()].map((p) => (typeof p === 'string' ? p : p.toString('base64url'))).join('.');
}

/** The plaintext bytes; throws DecryptionError for anything that does not authenticate. */
export function decrypt(key: Uint8Array, sealed: string, associatedData: string): Buffer {
  checkKey(key);
  const parts = sealed.split('.');
  if (parts.length !== 4 || parts[0] !== VERSION || !parts.every((p) => PART.test(p))) throw new DecryptionError();
  const [nonce, body, tag] = parts.slice(1).map((p) => Buffer.from(p, 'base64url')) as [Buffer, Buffer, Buffer];
  if (nonce.length !== NONCE_BYTES || tag.length !== TAG_BYTES) throw new DecryptionError();
  try {
    const decipher = createDecipheriv('aes-256-gcm', key, nonce, { authTagLength: TAG_BYTES });
    decipher.setAAD(Buffer.from(associatedData, 'utf8'));
    decipher.setAuthTag(tag);
    return Buffer.concat([decipher.update(body), decipher.final()]);
  } catch {
    throw new DecryptionError();
  }
}

export function decryptString(key: Uint8Array, sealed: string, associatedData: string): string {
  return decrypt(key, sealed, associatedData).toString('utf8');
}

function checkKey(key: Uint8Array): void {
  if (key.length !== 32) throw new Error('AES-256-GCM needs a 32-byte key');
}

import { randomBytes } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { DecryptionError, decrypt, decryptString, encrypt } from './aead.ts';
import { deriveKey } from './keys.ts';

const key = deriveKey('a-secret-of-at-least-thirty-two-characters', 'aead-test');

describe('authenticated encryption', () => {
  it('round-trips bytes and strings, with a fresh nonce each time', () => {
    const bytes = randomBytes(48);
    expect(decrypt(key, encrypt(key, bytes, 'row:1'), 'row:1').equals(bytes)).toBe(true);
    const a = encrypt(key, 'päss ✓', 'row:1');
    const b = encrypt(key, 'päss ✓', 'row:1');
    expect(a).not.toBe(b);
    expect(a).toMatch(/^v1\.[\w-]{16}\.[\w-]+\.[\w-]{22}$/);
    expect(a).not.toContain(Buffer.from('päss ✓').toString('base64url'));
    expect(decryptString(key, a, 'row:1')).toBe('päss ✓');
  });

  it('refuses other associated data, another key and any tampering', () => {
    const sealed = encrypt(key, 'secret', 'signing-key:a');
    expect(() => decrypt(key, sealed, 'signing-key:b')).toThrow(DecryptionError);
    expect(() => decrypt(deriveKey('a-secret-of-at-least-thirty-two-characters', 'other'), sealed, 'signing-key:a')).toThrow(
      DecryptionError,
    );
    const [version, nonce, body, tag] = sealed.split('.') as [string, string, string, string];
    const flip = (part: string) => {
      const bytes = Buffer.from(part, 'base64url');
      bytes[0] = (bytes[0] ?? 0) ^ 1;
      return bytes.toString('base64url');
    };
    for (const forged of [
      [version, flip(nonce), body, tag],
      [version, nonce, flip(body), tag],
      [version, nonce, body, flip(tag)],
      ['v2', nonce, body, tag],
      [version, nonce, body],
      [version, nonce, body, tag.slice(0, 10)],
    ]) {
      expect(() => decrypt(key, forged.join('.'), 'signing-key:a')).toThrow(DecryptionError);
    }
    expect(() => decrypt(key, 'not a ciphertext', 'signing-key:a')).toThrow(DecryptionError);
  });

  it('needs a 256-bit key', () => {
    expect(() => encrypt(new Uint8Array(16), 'x', 'y')).toThrow(/32-byte/);
  });
});

import { decryptString, encrypt } from '../crypto/aead.ts';
import type { MailMessage } from './mail.transport.ts';

// An outbox row's content (recipient, subject, text, html) is one AES-256-GCM ciphertext bound to
// the row id: a reset link is not readable in the table or a backup of it, and a ciphertext copied
// into another row does not decrypt.

const aad = (id: string) => `mail-outbox:${id}`;

export function sealMessage(key: Uint8Array, id: string, message: MailMessage): string {
  const { to, subject, text, html } = message;
  return encrypt(key, JSON.stringify({ to, subject, text, html }), aad(id));
}

/** Throws DecryptionError when the row was sealed under another SECRET (or tampered with). */
export function openMessage(key: Uint8Array, id: string, sealed: string): MailMessage {
  const { to, subject, text, html } = JSON.parse(decryptString(key, sealed, aad(id))) as MailMessage;
  return { to, subject, text, html };
}

import { randomBytes } from 'node:crypto';
import type { Config } from '../../config/config.ts';
import { DecryptionError, decrypt, encrypt } from '../../crypto/aead.ts';
import {
  type AccessClaims,
  generateSigningKeyPair,
  importPrivateKey,
  importPublicJwk,
  type PublicJwk,
  SIGNING_ALGORITHMS,
  type SigningAlgorithm,
  type SigningKey,
  signAccessToken,
  type VerificationKey,
  type VerifyResult,
  verifyAccessToken,
} from '../../crypto/jwt.ts';
import { deriveKey } from '../../crypto/keys.ts';
import type { Database } from '../../db/client.ts';
import { isUniqueViolation } from '../../db/errors.ts';
import type { Logger } from '../../log/logger.ts';
import type { PubSub } from '../../pubsub/pubsub.ts';

export const KEYS_TOPIC = 'signing-keys';

/** A token naming an unknown kid makes us look for new keys at most this often. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 1000;

interface PublishedKey extends VerificationKey {
  generation: number;
  publicJwk: PublicJwk;
}

export interface JsonWebKeySet {
  keys: (PublicJwk & { kid: string; alg: SigningAlgorithm; use: 'sig' })[];
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/**
 * The signing keys, held in memory: the newest generation signs; every key whose tokens may still
 * be alive verifies and is published. Other instances' rotations are picked up by reloading
 * every SIGNING_KEY_RELOAD_INTERVAL, at once on a Redis notification, and when a token names a
 * kid we do not know yet.
 */
export class SigningKeyService {
  private published = new Map<string, PublishedKey>();
  private current: SigningKey | null = null;
  private lastReloadAt = 0;
  private reloading: Promise<void> | null = null;
  private timer: NodeJS.Timeout | null = null;
  private readonly encryptionKey: Uint8Array;

  constructor(
    private readonly db: Database,
    secret: string,
    private readonly config: Config,
    private readonly logger: Logger,
    private readonly pubsub: PubSub | null = null,
  ) {
    this.encryptionKey = deriveKey(secret, 'signing-keys');
  }

  /**
   * Loads the keys; creates the first one, or one of JWT_ALGORITHM when the newest is of another.
   * Two instances starting together race on the unique generation: one inserts, the other loads it.
   */
  async start(): Promise<void> {
    await this.reload();
    if (!this.current || this.current.algorithm !== this.config.tokens.algorithm) {
      const created = await this.createKey(await this.nextGeneration());
      if (created) this.logger.info({ kid: created.kid, algorithm: created.algorithm }, 'signing key created');
      await this.reload();
    }
    if (!this.current) throw new SigningKeyError('no signing key could be loaded');
    await this.pubsub?.subscribe(KEYS_TOPIC, () => void this.reloadShared());
    this.timer = setInterval(() => void this.reloadShared(), this.config.tokens.keyReloadSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /** Adds a key of JWT_ALGORITHM that signs from now on; the previous ones are retired. */
  async rotate(): Promise<{ kid: string; algorithm: SigningAlgorithm; generation: number }> {
    const created = await this.createKey(await this.nextGeneration());
    if (!created) throw new SigningKeyError('another rotation happened at the same moment; nothing was changed, run it again');
    await this.reload();
    await this.pubsub?.publish(KEYS_TOPIC, created.kid).catch(() => {});
    return created;
  }

  sign(claims: AccessClaims): Promise<string> {
    if (!this.current) throw new SigningKeyError('signing keys are not loaded');
    const { issuer, audience, policiesClaim, accessTtlSeconds } = this.config.tokens;
    return signAccessToken(claims, accessTtlSeconds, this.current, { issuer, audience, policiesClaim });
  }

  async verify(token: string): Promise<VerifyResult> {
    const { issuer, audience, policiesClaim } = this.config.tokens;
    const options = { issuer, audience, policiesClaim };
    const find = (kid: string) => this.published.get(kid);
    let result = await verifyAccessToken(token, find, options);
    if (!result.ok && result.reason === 'unknown-key' && Date.now() - this.lastReloadAt >= UNKNOWN_KID_RELOAD_COOLDOWN_MS) {
      // Another instance may have rotated a moment ago.
      await this.reloadShared();
      result = await verifyAccessToken(token, find, options);
    }
    return result;
  }

  /** The public keys that verify tokens still alive, newest first. */
  jwks(): JsonWebKeySet {
    return {
      keys: [...this.published.values()]
        .sort((a, b) => b.generation - a.generation)
        .map((k) => ({ ...k.publicJwk, kid: k.kid, alg: k.algorithm, use: 'sig' as const })),
    };
  }

  currentKeyId(): string | null {
    return this.current?.kid ?? null;
  }

  /** How long a retired key stays: tokens it signed live ACCESS_TOKEN_TTL, and a lagging instance may sign with it until its next reload. */
  private retentionMs(): number {
    return (this.config.tokens.accessTtlSeconds + this.config.tokens.keyReloadSeconds) * 1000;
  }

  private async nextGeneration(): Promise<number> {
    const latest = await this.db.signingKey.findFirst({ orderBy: { generation: 'desc' }, select: { generation: true } });
    return (latest?.generation ?? 0) + 1;
  }

  private reloadShared(): Promise<void> {
    this.reloading ??= this.reload()
      .catch((error: unknown) => this.logger.error({ err: error }, 'reloading signing keys failed'))
      .finally(() => {
        this.reloading = null;
      });
    return this.reloading;
  }

  private async reload(): Promise<void> {
    const rows = await this.db.signingKey.findMany({ orderBy: { generation: 'desc' } });
    const now = Date.now();
    const published = new Map<string, PublishedKey>();
    let expired = false;
    for (const row of rows) {
      if (row.retiredAt && row.retiredAt.getTime() + this.retentionMs() <= now) {
        expired = true;
        continue;
      }
      if (!SIGNING_ALGORITHMS.includes(row.algorithm as SigningAlgorithm)) continue;
      const algorithm = row.algorithm as SigningAlgorithm;
      const known = this.published.get(row.id);
      const publicJwk = row.publicJwk as unknown as PublicJwk;
      const publicKey = known?.publicKey ?? importPublicJwk(publicJwk, algorithm);
      published.set(row.id, { kid: row.id, algorithm, publicKey, publicJwk, generation: row.generation });
    }
    const newest = rows[0];
    if (newest && published.has(newest.id) && newest.id !== this.current?.kid) {
      this.current = this.openPrivateKey(newest.id, newest.algorithm as SigningAlgorithm, newest.privateKeyCiphertext);
    }
    this.published = published;
    this.lastReloadAt = now;
    if (expired) {
      const cutoff = new Date(now - this.retentionMs());
      const dropped = await this.db.signingKey.deleteMany({ where: { retiredAt: { lte: cutoff } } });
      if (dropped.count > 0) this.logger.info({ count: dropped.count }, 'expired signing keys dropped');
    }
  }

  private openPrivateKey(kid: string, algorithm: SigningAlgorithm, ciphertext: string): SigningKey {
    try {
      return { kid, algorithm, privateKey: importPrivateKey(decrypt(this.encryptionKey, ciphertext, aad(kid, algorithm)), algorithm) };
    } catch (error) {
      if (error instanceof DecryptionError) {
        throw new SigningKeyError(`signing key ${kid} cannot be decrypted: SECRET differs from the one it was created with`);
      }
      throw error;
    }
  }

  /** Inserts a key of the given generation and retires the others; null when that generation exists already. */
  private async createKey(generation: number) {
    const algorithm = this.config.tokens.algorithm;
    const kid = randomBytes(12).toString('base64url');
    const { privateKeyPkcs8, publicJwk } = generateSigningKeyPair(algorithm);
    const privateKeyCiphertext = encrypt(this.encryptionKey, privateKeyPkcs8, aad(kid, algorithm));
    const now = new Date();
    try {
      await this.db.$transaction(async (tx) => {
        await tx.signingKey.create({
          data: { id: kid, generation, algorithm, publicJwk: { ...publicJwk }, privateKeyCiphertext, createdAt: now },
        });
        await tx.signingKey.updateMany({ where: { id: { not: kid }, retiredAt: null }, data: { retiredAt: now } });
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    return { kid, algorithm, generation };
  }
}

/** Binds each encrypted private key to its row: a ciphertext moved to another kid does not open. */
function aad(kid: string, algorithm: string): string {
  return `signing-key:${kid}:${algorithm}`;
}

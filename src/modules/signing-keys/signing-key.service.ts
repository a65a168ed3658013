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
import type { AuditLog } from '../audit/audit-log.ts';

export const KEYS_TOPIC = 'signing-keys';

/** A token naming an unknown kid makes us look for new keys at most this often. */
const UNKNOWN_KID_RELOAD_COOLDOWN_MS = 1000;
/** Verified tokens remembered at once (a few MB at most). */
const VERIFIED_CACHE_SIZE = 10_000;

type VerifiedClaims = Extract<VerifyResult, { ok: true }>['claims'];

interface PublishedKey extends VerificationKey {
  generation: number;
  publicJwk: PublicJwk;
}

interface Signer {
  key: SigningKey;
  activatesAt: number;
}

export interface JsonWebKeySet {
  keys: (PublicJwk & { kid: string; alg: SigningAlgorithm; use: 'sig' })[];
}

export class SigningKeyError extends Error {
  override name = 'SigningKeyError';
}

/**
 * The signing keys, held in memory: the newest generation whose activation time has come signs;
 * every key whose tokens may still be alive verifies and is published, and so is a new key from
 * its creation, SIGNING_KEY_ACTIVATION_DELAY before it signs, so that verifiers caching the JWKS
 * know it before any token carries it. Other instances' rotations are picked up by reloading every
 * SIGNING_KEY_RELOAD_INTERVAL, at once on a Redis notification, and when a token names a kid we
 * do not know yet; each instance switches to a new key at its activation time, not at its reload.
 */
export class SigningKeyService {
  private published = new Map<string, PublishedKey>();
  private readonly verified = new Map<string, VerifiedClaims>();
  /** Keys that sign now or will, newest generation first, private keys already decrypted. */
  private signers: Signer[] = [];
  /** The highest generation the last reload saw (0 for none). */
  private loadedGeneration = 0;
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
    private readonly auditLog: AuditLog | null = null,
  ) {
    this.encryptionKey = deriveKey(secret, 'signing-keys');
  }

  /**
   * Loads the keys; creates the first one (signing at once), or rotates to JWT_ALGORITHM when the
   * newest key is of another. Two instances starting together race on the unique generation: one
   * inserts, the other loads its key. The generation comes from the very snapshot that showed a
   * key is needed, never from a later read, or the second instance would add another key.
   */
  async start(): Promise<void> {
    await this.reload();
    const newest = this.signers[0]?.key;
    if (!newest || newest.algorithm !== this.config.tokens.algorithm) {
      const created = await this.createKey(this.loadedGeneration + 1, newest ? this.delayedActivation() : new Date());
      if (created) {
        this.logger.info({ kid: created.kid, algorithm: created.algorithm }, 'signing key created');
        this.auditLog?.record({
          type: 'signing_key.rotated',
          details: {
            kid: created.kid,
            algorithm: created.algorithm,
            generation: created.generation,
            reason: newest ? 'algorithm' : 'first',
          },
        });
      }
      await this.reload();
    }
    if (!this.activeSigner()) throw new SigningKeyError('no signing key could be loaded');
    await this.pubsub?.subscribe(KEYS_TOPIC, () => void this.reloadShared());
    this.timer = setInterval(() => void this.reloadShared(), this.config.tokens.keyReloadSeconds * 1000);
    this.timer.unref();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  /**
   * Adds a key of JWT_ALGORITHM, published at once and signing after SIGNING_KEY_ACTIVATION_DELAY
   * (or at once with `immediate`, for a suspected compromise: verifiers that cache the JWKS then
   * refuse new tokens until they refetch it). The keys it replaces retire when it activates.
   */
  async rotate(
    options: { immediate?: boolean; distrustOthers?: boolean } = {},
  ): Promise<{ kid: string; algorithm: SigningAlgorithm; generation: number; activatesAt: Date }> {
    const immediate = options.immediate || options.distrustOthers;
    const created = await this.createKey(await this.nextGeneration(), immediate ? new Date() : this.delayedActivation());
    if (!created) throw new SigningKeyError('another rotation happened at the same moment; nothing was changed, run it again');
    if (options.distrustOthers) {
      // A key compromise: every other key is made to look retired long enough ago that no token
      // of it can be alive, so each instance drops it at its next reload (and deletes the row),
      // and every token it signed, forged or not, is refused from then on.
      await this.db.signingKey.updateMany({
        where: { id: { not: created.kid } },
        data: { retiredAt: new Date(Date.now() - this.retentionMs() - 1000) },
      });
    }
    this.auditLog?.record({
      type: 'signing_key.rotated',
      details: {
        kid: created.kid,
        algorithm: created.algorithm,
        generation: created.generation,
        reason: options.distrustOthers ? 'compromised' : 'rotation',
        immediate: !!immediate,
      },
    });
    await this.reload();
    await this.pubsub?.publish(KEYS_TOPIC, created.kid).catch(() => {});
    return created;
  }

  sign(claims: AccessClaims): Promise<string> {
    const signer = this.activeSigner();
    if (!signer) throw new SigningKeyError('signing keys are not loaded');
    const { issuer, audience, policiesClaim, accessTtlSeconds } = this.config.tokens;
    return signAccessToken(claims, accessTtlSeconds, signer.key, { issuer, audience, policiesClaim });
  }

  async verify(token: string): Promise<VerifyResult> {
    // A token is immutable: once its signature and claims checked out, the same string gives the
    // same answer until it expires (revocation is checked apart, per request), so the signature
    // check runs once per token instead of once per request.
    const known = this.verified.get(token);
    if (known && known.expiresAt * 1000 > Date.now()) return { ok: true, claims: known };
    const result = await this.verifyUncached(token);
    if (result.ok) this.rememberVerified(token, result.claims);
    return result;
  }

  private rememberVerified(token: string, claims: VerifiedClaims): void {
    if (this.verified.size >= VERIFIED_CACHE_SIZE) {
      // Drop the oldest entry (Maps iterate in insertion order), expired or not.
      const oldest = this.verified.keys().next().value;
      if (oldest !== undefined) this.verified.delete(oldest);
    }
    this.verified.set(token, claims);
  }

  private async verifyUncached(token: string): Promise<VerifyResult> {
    const { issuer, audience, policiesClaim, accessTtlSeconds } = this.config.tokens;
    // Revocations and access changes are remembered (and reloaded at start) for ACCESS_TOKEN_TTL
    // back: a token signed for longer, under an earlier TTL, could outlive what this server knows
    // about its session, so it counts as expired (the client refreshes).
    const options = { issuer, audience, policiesClaim, maxLifetimeSeconds: accessTtlSeconds };
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
    return this.activeSigner()?.key.kid ?? null;
  }

  private activeSigner(): Signer | undefined {
    const now = Date.now();
    return this.signers.find((s) => s.activatesAt <= now);
  }

  private delayedActivation(): Date {
    return new Date(Date.now() + this.config.tokens.keyActivationDelaySeconds * 1000);
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
    const signers: Signer[] = [];
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
      // Keys that sign now or later; once one is active, older ones never sign again.
      if (!row.retiredAt || row.retiredAt.getTime() > now) {
        if (!signers.some((s) => s.activatesAt <= now)) {
          const known = this.signers.find((s) => s.key.kid === row.id);
          const key = known?.key ?? this.openPrivateKey(row.id, algorithm, row.privateKeyCiphertext);
          signers.push({ key, activatesAt: row.activatesAt.getTime() });
        }
      }
    }
    // A key that stopped being published (expired, or distrusted after a compromise) must not
    // keep its tokens alive through the verified-token cache.
    if ([...this.published.keys()].some((kid) => !published.has(kid))) this.verified.clear();
    this.signers = signers;
    this.published = published;
    this.loadedGeneration = rows[0]?.generation ?? 0;
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

  /** Inserts a key of the given generation, retiring the others from its activation; null when that generation exists already. */
  private async createKey(generation: number, activatesAt: Date) {
    const algorithm = this.config.tokens.algorithm;
    const kid = randomBytes(12).toString('base64url');
    const { privateKeyPkcs8, publicJwk } = generateSigningKeyPair(algorithm);
    const privateKeyCiphertext = encrypt(this.encryptionKey, privateKeyPkcs8, aad(kid, algorithm));
    const now = new Date();
    try {
      await this.db.$transaction(async (tx) => {
        await tx.signingKey.create({
          data: { id: kid, generation, algorithm, publicJwk: { ...publicJwk }, privateKeyCiphertext, createdAt: now, activatesAt },
        });
        // Older keys sign until this one activates (never later, when it activates sooner than a pending one).
        await tx.signingKey.updateMany({
          where: { id: { not: kid }, OR: [{ retiredAt: null }, { retiredAt: { gt: activatesAt } }] },
          data: { retiredAt: activatesAt },
        });
      });
    } catch (error) {
      if (isUniqueViolation(error)) return null;
      throw error;
    }
    return { kid, algorithm, generation, activatesAt };
  }
}

/** Binds each encrypted private key to its row: a ciphertext moved to another kid does not open. */
function aad(kid: string, algorithm: string): string {
  return `signing-key:${kid}:${algorithm}`;
}

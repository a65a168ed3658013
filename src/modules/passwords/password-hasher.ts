import type { Config } from '../../config/config.ts';
import {
  type Argon2Params,
  checkPassword,
  createDummyHash,
  hashNeedsUpgrade,
  hashPassword,
  type PasswordCheck,
} from '../../crypto/password.ts';
import { AppError } from '../../errors.ts';
import type { Logger } from '../../log/logger.ts';
import { HashGate, HashGateBusyError, type HashGateStats, type HashLane } from './hash-gate.ts';

/** How often, at most, a saturated gate is logged while it keeps refusing. */
const REFUSAL_LOG_INTERVAL_MS = 10_000;

/**
 * Every argon2 operation of the process goes through here, and so through one HashGate: logins
 * (the dummy hash for unknown emails too), registration, password changes and resets, the 2FA
 * password checks, the first administrator and `admin:create`. Past the gate's bounds the caller
 * gets SERVICE_BUSY and nothing is hashed.
 */
export class PasswordHasher {
  constructor(
    /** Public for operators' tooling and tests: its stats, and run() to take a slot for other work. */
    readonly gate: HashGate,
    private readonly params: Argon2Params,
    private readonly retryAfterSeconds: number,
  ) {}

  hash(password: string, lane: HashLane): Promise<string> {
    return this.admit(lane, () => hashPassword(password, this.params));
  }

  /** checkPassword in one slot: its fallback for hashes of un-normalised passwords may verify twice. */
  check(hash: string, password: string, lane: HashLane): Promise<PasswordCheck> {
    return this.admit(lane, () => checkPassword(hash, password));
  }

  /** The hash is weaker than ARGON2_* now asks for (see hashNeedsUpgrade). */
  needsUpgrade(hash: string): boolean {
    return hashNeedsUpgrade(hash, this.params);
  }

  /**
   * A hash made only if a standard slot is free now: null when hashing is busy. Never queued,
   * never refused, never ahead of a login (a rehash can wait for the account's next login).
   */
  hashIfIdle(password: string): Promise<string | null> {
    return this.gate.runIfIdle('standard', () => hashPassword(password, this.params));
  }

  async verify(hash: string, password: string, lane: HashLane): Promise<boolean> {
    return (await this.check(hash, password, lane)).ok;
  }

  createDummyHash(): Promise<string> {
    return this.admit('priority', () => createDummyHash(this.params));
  }

  /** In flight, queued, started and refused, for operators and tests. */
  stats(): HashGateStats {
    return this.gate.stats();
  }

  private async admit<T>(lane: HashLane, task: () => Promise<T>): Promise<T> {
    try {
      return await this.gate.run(lane, task);
    } catch (error) {
      if (error instanceof HashGateBusyError) throw serviceBusy(this.retryAfterSeconds, error);
      throw error;
    }
  }
}

/** SERVICE_BUSY with the wait to suggest, in the error and as a Retry-After header (see useUnavailableStatus for the 503). */
export function serviceBusy(retryAfterSeconds: number, cause?: unknown): AppError {
  const retryAfter = Math.max(1, Math.ceil(retryAfterSeconds));
  return new AppError('SERVICE_BUSY', {
    extensions: { retryAfter, http: { headers: { 'retry-after': String(retryAfter) } } },
    cause,
  });
}

/**
 * The process's hasher, its gate sized by PASSWORD_HASH_* and logging when it starts refusing (a
 * one-shot script such as admin:create passes no logger: it never waits).
 */
export function createPasswordHasher(config: Config, logger?: Logger): PasswordHasher {
  const { argon2, admission } = config.passwords;
  const gate = new HashGate(
    {
      concurrency: admission.concurrency,
      reserved: admission.reserved,
      queueTimeoutMs: admission.queueTimeoutSeconds * 1000,
      queueLimit: admission.queueLimit,
    },
    logger ? refusalLogger(logger) : undefined,
  );
  return new PasswordHasher(gate, argon2, admission.queueTimeoutSeconds);
}

/**
 * One warning when the gate starts refusing, then at most one per interval with the count since:
 * an attack must not flood the log it is being reported in.
 */
function refusalLogger(logger: Logger): (error: HashGateBusyError, stats: HashGateStats) => void {
  let lastLogged = Number.NEGATIVE_INFINITY;
  let unlogged = 0;
  return (error, stats) => {
    unlogged++;
    const now = performance.now();
    if (now - lastLogged < REFUSAL_LOG_INTERVAL_MS) return;
    lastLogged = now;
    logger.warn(
      { passwordHashing: stats, refusedSinceLastLog: unlogged, reason: error.reason },
      'password hashing saturated: refusing with SERVICE_BUSY',
    );
    unlogged = 0;
  };
}

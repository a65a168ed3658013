/**
 * Which queue a password operation waits in. `priority`: a caller with some proof already (a login
 * from an IP that signed in to that account recently, a signed-in user, a valid reset link); they
 * also have slots of their own. `standard`: everyone else (a login from anywhere, a registration).
 */
export type HashLane = 'priority' | 'standard';

export interface HashGateOptions {
  /** Password operations running at once (each is one argon2 call on libuv's thread pool, or two in a row). */
  concurrency: number;
  /** Of those, slots only the priority lane may take: an attack in the standard lane never fills them. */
  reserved: number;
  /** How long a task may wait for a slot before it is refused, without hashing. */
  queueTimeoutMs: number;
  /** Tasks that may wait per lane; one more is refused at once. */
  queueLimit: number;
}

export interface HashGateStats {
  concurrency: number;
  reserved: number;
  inFlight: { priority: number; standard: number };
  queued: { priority: number; standard: number };
  /** The most tasks ever in flight at once. */
  peakInFlight: number;
  /** Tasks started since the process started. */
  started: number;
  /** Tasks refused (queue full or wait timed out) since the process started. */
  refused: number;
}

/** Refused: every slot taken and the wait bound reached (or the queue full). Nothing was hashed. */
export class HashGateBusyError extends Error {
  constructor(readonly reason: 'queue-full' | 'queue-timeout') {
    super(`password hashing busy (${reason})`);
    this.name = 'HashGateBusyError';
  }
}

interface Waiter {
  start: () => void;
  timer: NodeJS.Timeout;
}

/**
 * Admission control for password hashing. argon2 runs on libuv's thread pool, which queues without
 * bound and first come first served: under a credential-stuffing flood a real user's login waited
 * seconds behind the attacker's. Here at most `concurrency` tasks run, the standard lane at most
 * `concurrency - reserved` of them, the priority lane is served first, and a task that cannot
 * start within the timeout is refused without hashing.
 *
 * A task that started keeps its slot until it settles: argon2 cannot be interrupted, so freeing the
 * slot early (as an abort would) would let more hashes run than the bound. Hand-written rather than
 * p-queue 8: that keeps an aborted waiter queued until its turn (its promise settles only then) and
 * has no per-class cap beside priorities.
 */
export class HashGate {
  private readonly waiting: Record<HashLane, Set<Waiter>> = { priority: new Set(), standard: new Set() };
  private readonly running: Record<HashLane, number> = { priority: 0, standard: 0 };
  private started = 0;
  private peak = 0;
  private refused = 0;
  /** Told how long each task waited for its slot, in seconds (the metrics' wait histogram). */
  onStarted: ((lane: HashLane, waitedSeconds: number) => void) | null = null;

  constructor(
    private readonly options: HashGateOptions,
    private readonly onRefused: (error: HashGateBusyError, stats: HashGateStats) => void = () => {},
  ) {
    if (!(options.concurrency >= 1 && options.reserved >= 0 && options.reserved < options.concurrency))
      throw new RangeError('HashGate: needs concurrency >= 1 and 0 <= reserved < concurrency');
  }

  /** Runs `task` once a slot in `lane` is free; rejects with HashGateBusyError (task not run) past the bounds. */
  async run<T>(lane: HashLane, task: () => Promise<T>): Promise<T> {
    // A waiter's slot is counted when it is handed over (startWaiting), a free one here.
    if (this.canStart(lane)) {
      this.running[lane]++;
      this.onStarted?.(lane, 0);
    } else {
      const since = performance.now();
      await this.wait(lane);
      this.onStarted?.(lane, (performance.now() - since) / 1000);
    }
    this.started++;
    this.peak = Math.max(this.peak, this.running.priority + this.running.standard);
    try {
      return await task();
    } finally {
      this.running[lane]--;
      this.startWaiting();
    }
  }

  /**
   * Runs `task` only if a slot in `lane` is free now, ahead of nobody; null (task not run, nothing
   * refused or queued) otherwise. For work that can wait for a quieter moment (a rehash).
   */
  async runIfIdle<T>(lane: HashLane, task: () => Promise<T>): Promise<T | null> {
    if (!this.canStart(lane)) return null;
    return this.run(lane, task);
  }

  stats(): HashGateStats {
    return {
      concurrency: this.options.concurrency,
      reserved: this.options.reserved,
      inFlight: { ...this.running },
      queued: { priority: this.waiting.priority.size, standard: this.waiting.standard.size },
      peakInFlight: this.peak,
      started: this.started,
      refused: this.refused,
    };
  }

  private canStart(lane: HashLane): boolean {
    const total = this.running.priority + this.running.standard;
    if (total >= this.options.concurrency) return false;
    // Nobody overtakes a waiter of its own lane, nor a standard task a priority waiter.
    if (this.waiting.priority.size > 0) return false;
    if (lane === 'priority') return true;
    return this.waiting.standard.size === 0 && this.running.standard < this.options.concurrency - this.options.reserved;
  }

  private wait(lane: HashLane): Promise<void> {
    const queue = this.waiting[lane];
    if (queue.size >= this.options.queueLimit) return Promise.reject(this.refuse(new HashGateBusyError('queue-full')));
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        start: () => {
          clearTimeout(waiter.timer);
          queue.delete(waiter);
          resolve();
        },
        timer: setTimeout(() => {
          queue.delete(waiter);
          reject(this.refuse(new HashGateBusyError('queue-timeout')));
        }, this.options.queueTimeoutMs),
      };
      queue.add(waiter);
    });
  }

  /** Hands free slots to waiters, priority first, each lane in arrival order (a Set iterates in insertion order). */
  private startWaiting(): void {
    for (;;) {
      const total = this.running.priority + this.running.standard;
      if (total >= this.options.concurrency) return;
      const priority = first(this.waiting.priority);
      if (priority) {
        this.reserveFor('priority', priority);
        continue;
      }
      const standard = first(this.waiting.standard);
      if (standard && this.running.standard < this.options.concurrency - this.options.reserved) {
        this.reserveFor('standard', standard);
        continue;
      }
      return;
    }
  }

  // The slot is counted at once, not when the waiter's continuation runs: otherwise a task arriving
  // in between would see it free and take it too.
  private reserveFor(lane: HashLane, waiter: Waiter): void {
    this.running[lane]++;
    waiter.start();
  }

  private refuse(error: HashGateBusyError): HashGateBusyError {
    this.refused++;
    this.onRefused(error, this.stats());
    return error;
  }
}

function first<T>(set: Set<T>): T | undefined {
  for (const item of set) return item;
  return undefined;
}

import type { Logger } from './log/logger.ts';

/**
 * Work that must not delay or shape a response (so its timing reveals nothing), yet must not be
 * lost: failures are logged, and shutdown waits for what is still running.
 */
export class BackgroundTasks {
  private readonly running = new Set<Promise<void>>();

  constructor(private readonly logger: Logger) {}

  /** Tasks still running (mails being sent): the metrics' outbox depth. */
  get pending(): number {
    return this.running.size;
  }

  run(name: string, task: () => Promise<void>): void {
    const promise = task()
      .catch((error: unknown) => this.logger.error({ err: error, task: name }, 'background task failed'))
      .finally(() => this.running.delete(promise));
    this.running.add(promise);
  }

  async drain(): Promise<void> {
    while (this.running.size > 0) await Promise.allSettled([...this.running]);
  }
}

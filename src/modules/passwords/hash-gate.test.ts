import { describe, expect, it, vi } from 'vitest';
import { HashGate, HashGateBusyError, type HashLane } from './hash-gate.ts';

/** A task that runs until released, recording when it started. */
function task(log: string[], name: string) {
  let release!: () => void;
  const done = new Promise<string>((resolve) => {
    release = () => resolve(name);
  });
  return {
    run: () => {
      log.push(name);
      return done;
    },
    release: () => release(),
  };
}

const gate = (concurrency: number, reserved: number, queueLimit = 10, queueTimeoutMs = 60_000) =>
  new HashGate({ concurrency, reserved, queueLimit, queueTimeoutMs });
const flush = () => new Promise((r) => setImmediate(r));

describe('HashGate', () => {
  it('keeps the reserved slots for the priority lane and serves it first', async () => {
    const g = gate(2, 1);
    const log: string[] = [];
    const tasks = Object.fromEntries(['s1', 's2', 's3', 'p1', 'p2'].map((n) => [n, task(log, n)]));
    const run = (lane: HashLane, name: string) => g.run(lane, tasks[name]!.run);
    const results = [run('standard', 's1'), run('standard', 's2'), run('standard', 's3')];
    await flush();
    expect(log).toEqual(['s1']); // the standard lane may use 2 - 1 slots
    results.push(run('priority', 'p1'), run('priority', 'p2'));
    await flush();
    expect(log).toEqual(['s1', 'p1']);
    expect(g.stats()).toMatchObject({ inFlight: { priority: 1, standard: 1 }, queued: { priority: 1, standard: 2 } });
    tasks.s1!.release();
    await flush();
    expect(log).toEqual(['s1', 'p1', 'p2']); // a waiting priority task goes before waiting standard ones
    tasks.p1!.release();
    tasks.p2!.release();
    await flush();
    expect(log).toEqual(['s1', 'p1', 'p2', 's2']);
    tasks.s2!.release();
    await flush();
    tasks.s3!.release();
    expect(await Promise.all(results)).toEqual(['s1', 's2', 's3', 'p1', 'p2']);
    expect(g.stats()).toMatchObject({ peakInFlight: 2, started: 5, refused: 0, inFlight: { priority: 0, standard: 0 } });
  });

  it('refuses at once past the queue limit, and after the timeout a task that never started, without running either', async () => {
    vi.useFakeTimers();
    try {
      const g = gate(1, 0, 1, 1000);
      const log: string[] = [];
      const running = task(log, 'running');
      const first = g.run('standard', running.run);
      const waiting = g.run('standard', task(log, 'waiting').run);
      await expect(g.run('standard', task(log, 'over').run)).rejects.toMatchObject({ reason: 'queue-full' });
      const timedOut = expect(waiting).rejects.toBeInstanceOf(HashGateBusyError);
      await vi.advanceTimersByTimeAsync(1000);
      await timedOut;
      expect(g.stats()).toMatchObject({ queued: { standard: 0 }, inFlight: { standard: 1 }, refused: 2 });
      running.release();
      await first;
      expect(log).toEqual(['running']);
    } finally {
      vi.useRealTimers();
    }
  });

  it('keeps a started task in its slot until it settles, even when it fails', async () => {
    const g = gate(1, 0);
    const log: string[] = [];
    let fail!: (e: Error) => void;
    const failing = g.run('standard', () => new Promise<never>((_, reject) => (fail = reject)));
    const nextTask = task(log, 'next');
    const next = g.run('priority', nextTask.run);
    await flush();
    expect(log).toEqual([]);
    fail(new Error('argon2 failed'));
    await expect(failing).rejects.toThrow('argon2 failed');
    await flush();
    expect(log).toEqual(['next']);
    expect(g.stats().inFlight).toEqual({ priority: 1, standard: 0 });
    nextTask.release();
    expect(await next).toBe('next');
  });

  it('refuses a configuration without a slot for the standard lane', () => {
    expect(() => gate(1, 1)).toThrow(RangeError);
    expect(() => gate(0, 0)).toThrow(RangeError);
  });
});

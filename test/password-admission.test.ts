import { Writable } from 'node:stream';
import { print } from 'graphql';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { HashGate, HashLane } from '../src/modules/passwords/hash-gate.ts';
import { LoginDocument, RegisterDocument } from './generated/graphql.ts';
import { registerUser } from './helpers/factories.ts';
import { postFrom } from './helpers/from-ip.ts';
import { startTestApp, TEST_PASSWORD, type TestApp, uniqueEmail } from './helpers/test-app.ts';

// Admission control for password hashing, observed through the real server: what a client gets
// (status, code, Retry-After) and what the gate reports (in flight, queued, started, refused).
// Slots are held by tasks the test releases, so nothing here depends on how long a hash takes.

type LoginData = { login: { accessToken: string | null } };
const login = (app: TestApp, ip: string, email: string, password: string) =>
  postFrom<LoginData>(`${app.url}/graphql`, ip, { query: print(LoginDocument), variables: { email, password } });

/** Takes a slot of `lane` until the returned function is called. */
async function hold(gate: HashGate, lane: HashLane): Promise<() => void> {
  let release!: () => void;
  const held = new Promise<void>((resolve) => {
    release = resolve;
  });
  let started!: () => void;
  const running = new Promise<void>((resolve) => {
    started = resolve;
  });
  void gate.run(lane, () => {
    started();
    return held;
  });
  await running;
  return release;
}

describe('password hashing admission (2 slots, 1 reserved, 2 may wait per lane)', () => {
  let app: TestApp;
  const logLines: Record<string, unknown>[] = [];
  beforeAll(async () => {
    const logDestination = new Writable({
      write(chunk, _encoding, done) {
        for (const line of String(chunk).split('\n').filter(Boolean)) logLines.push(JSON.parse(line));
        done();
      },
    });
    app = await startTestApp(
      {
        LOG_LEVEL: 'warn',
        PASSWORD_HASH_CONCURRENCY: '2',
        PASSWORD_HASH_QUEUE_LIMIT: '2',
        PASSWORD_HASH_QUEUE_TIMEOUT: '30s',
      },
      { logDestination },
    );
  });
  afterAll(() => app.close());

  it('never runs more hashes at once than configured, however many logins arrive', async () => {
    const gate = app.services.passwordHasher.gate;
    const attempts = Array.from({ length: 12 }, (_, i) => login(app, `127.0.1.${i + 1}`, uniqueEmail('stuffed'), 'guess guess guess'));
    // 12 logins against 2 slots and 2 places in the queue: some are refused, none wait unbounded.
    const results = await Promise.all(attempts);
    for (const r of results) expect(['INVALID_CREDENTIALS', 'SERVICE_BUSY']).toContain(r.code);
    const stats = gate.stats();
    expect(stats.concurrency).toBe(2);
    expect(stats.reserved).toBe(1);
    expect(stats.peakInFlight).toBeLessThanOrEqual(2);
    expect(stats.inFlight).toEqual({ priority: 0, standard: 0 });
    expect(stats.queued).toEqual({ priority: 0, standard: 0 });
  });

  it('refuses past the bound with SERVICE_BUSY, 503 and Retry-After, without hashing, and still serves a login from a known IP', async () => {
    const gate = app.services.passwordHasher.gate;
    const owner = await registerUser(app);
    // The owner signs in from 127.0.2.1 once: from now on that IP is known to the account.
    const first = await login(app, '127.0.2.1', owner.email, TEST_PASSWORD);
    expect(first.data?.login.accessToken).toBeTruthy();

    // An attack holds the standard lane's only slot and fills its queue.
    const release = await hold(gate, 'standard');
    const queued = [
      login(app, '127.0.3.1', uniqueEmail('stuffed'), 'guess guess guess'),
      login(app, '127.0.3.2', owner.email, 'guess guess guess'),
    ];
    await vi.waitFor(() => expect(gate.stats().queued.standard).toBe(2));
    const before = gate.stats();

    // Past the bound: an unknown email, a wrong password and even the right one from an unknown
    // IP are all refused alike (nothing tells whether the account exists), and nothing is hashed.
    const refused = await Promise.all([
      login(app, '127.0.3.3', uniqueEmail('stuffed'), 'guess guess guess'),
      login(app, '127.0.3.4', owner.email, 'guess guess guess'),
      login(app, '127.0.3.5', owner.email, TEST_PASSWORD),
    ]);
    for (const r of refused) {
      expect(r.status).toBe(503);
      expect(r.code).toBe('SERVICE_BUSY');
      expect(r.headers['retry-after']).toBe('30');
      expect(r.errors?.[0]?.extensions?.retryAfter).toBe(30);
      expect(r.errors?.[0]?.message).toBe('The service is busy. Try again shortly.');
      expect(r.data).toBeNull();
    }
    expect(gate.stats().started).toBe(before.started);
    expect(gate.stats().refused).toBe(before.refused + 3);

    // The owner, from the IP they signed in from, takes the reserved slot while the queue is full.
    const known = await login(app, '127.0.2.1', owner.email, TEST_PASSWORD);
    expect(known.status).toBe(200);
    expect(known.data?.login.accessToken).toBeTruthy();
    expect(gate.stats().queued.standard).toBe(2);
    expect(gate.stats().started).toBe(before.started + 1);

    // The operator sees it in the log: the gate's counts, never who was refused.
    const warning = logLines.find((l) => l.msg === 'password hashing saturated: refusing with SERVICE_BUSY');
    expect(warning).toMatchObject({ passwordHashing: { concurrency: 2, reserved: 1, inFlight: { standard: 1 } } });
    expect(JSON.stringify(warning)).not.toContain(owner.email);

    // Once the slot frees, the queued attempts are answered as usual.
    release();
    const answered = await Promise.all(queued);
    expect(answered.map((r) => [r.status, r.code])).toEqual([
      [200, 'INVALID_CREDENTIALS'],
      [200, 'INVALID_CREDENTIALS'],
    ]);
    // A refused attempt did not count against the owner's lockout budget: the right password from
    // anywhere still works.
    const later = await login(app, '127.0.3.5', owner.email, TEST_PASSWORD);
    expect(later.data?.login.accessToken).toBeTruthy();
  });

  it('a registration waits in the standard lane and is refused alike when it is full', async () => {
    const gate = app.services.passwordHasher.gate;
    const release = await hold(gate, 'standard');
    const queued = [
      login(app, '127.0.4.1', uniqueEmail('stuffed'), 'guess guess guess'),
      login(app, '127.0.4.2', uniqueEmail('stuffed'), 'guess guess guess'),
    ];
    await vi.waitFor(() => expect(gate.stats().queued.standard).toBe(2));
    const email = uniqueEmail();
    const res = await app.client.request(RegisterDocument, { input: { email, password: TEST_PASSWORD } });
    expect(res.status).toBe(503);
    expect(res.code).toBe('SERVICE_BUSY');
    expect(res.headers.get('retry-after')).toBe('30');
    expect(await app.db.user.count({ where: { email } })).toBe(0);
    release();
    await Promise.all(queued);
  });
});

describe('password hashing admission: the bounded wait', () => {
  let app: TestApp;
  beforeAll(async () => {
    app = await startTestApp({ PASSWORD_HASH_CONCURRENCY: '1', PASSWORD_HASH_QUEUE_TIMEOUT: '1s' });
  });
  afterAll(() => app.close());

  it('refuses a login that cannot start within PASSWORD_HASH_QUEUE_TIMEOUT, and never hashes it later', async () => {
    const gate = app.services.passwordHasher.gate;
    expect(gate.stats()).toMatchObject({ concurrency: 1, reserved: 0 });
    const release = await hold(gate, 'priority');
    const before = gate.stats();
    const res = await login(app, '127.0.5.1', uniqueEmail('stuffed'), 'guess guess guess');
    expect(res.status).toBe(503);
    expect(res.code).toBe('SERVICE_BUSY');
    expect(res.headers['retry-after']).toBe('1');
    expect(gate.stats().queued).toEqual({ priority: 0, standard: 0 });
    release();
    await vi.waitFor(() => expect(gate.stats().inFlight).toEqual({ priority: 0, standard: 0 }));
    expect(gate.stats().started).toBe(before.started);
    expect(gate.stats().refused).toBe(before.refused + 1);
  });
});

import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import { type Database, poolStats } from '../db/client.ts';
import type { AuthEventInput } from '../modules/audit/auth-event-types.ts';
import type { PasswordHasher } from '../modules/passwords/password-hasher.ts';

/** Distinct GraphQL operation names given their own label value; later ones count as "other". */
const MAX_OPERATION_NAMES = 100;
const OPERATION_NAME = /^[A-Za-z_][A-Za-z0-9_]{0,63}$/;
/** How often the active-session count is read from the database (not per scrape). */
const ACTIVE_SESSIONS_REFRESH_MS = 30_000;

/**
 * The Prometheus metrics of one server (its own registry, so several in one process do not mix).
 * Every label takes values from a bounded set: routes are the served paths or "other", operation
 * names the first MAX_OPERATION_NAMES well-formed ones seen or "other", event types the fixed list.
 * No user data (ids, emails, addresses) is ever a label.
 */
export class Metrics {
  readonly registry = new Registry();
  readonly httpRequests: Counter<'route' | 'method' | 'status'>;
  readonly httpDuration: Histogram<'route'>;
  readonly graphqlOperations: Counter<'operation' | 'type' | 'outcome'>;
  readonly authEvents: Counter<'type' | 'outcome'>;
  readonly loginFailures: Counter<'reason'>;
  private readonly hashWait: Histogram<'lane'>;
  private readonly operationNames = new Set<string>();
  private activeSessions: number | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor() {
    const registers = [this.registry];
    collectDefaultMetrics({ register: this.registry, prefix: 'gatehouse_' });
    this.httpRequests = new Counter({
      name: 'gatehouse_http_requests_total',
      help: 'HTTP requests answered, by route (served path or "other"), method and status.',
      labelNames: ['route', 'method', 'status'],
      registers,
    });
    this.httpDuration = new Histogram({
      name: 'gatehouse_http_request_duration_seconds',
      help: 'Time from request to response sent, by route.',
      labelNames: ['route'],
      buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
      registers,
    });
    this.graphqlOperations = new Counter({
      name: 'gatehouse_graphql_operations_total',
      help: 'GraphQL operations executed, by operation name (bounded; "anonymous", "other"), type and outcome (success or error).',
      labelNames: ['operation', 'type', 'outcome'],
      registers,
    });
    this.authEvents = new Counter({
      name: 'gatehouse_auth_events_total',
      help: 'Audit events recorded (logins, refreshes, resets, rate-limit and lockout hits, ...), by type and outcome.',
      labelNames: ['type', 'outcome'],
      registers,
    });
    this.loginFailures = new Counter({
      name: 'gatehouse_login_failures_total',
      help: 'Failed logins by reason (bad_credentials, not_active, otp_required, otp_invalid, locked, rate_limited, busy).',
      labelNames: ['reason'],
      registers,
    });
    this.hashWait = new Histogram({
      name: 'gatehouse_password_hash_wait_seconds',
      help: 'Time a password hash or verification waited for a slot at the hashing gate, by lane.',
      labelNames: ['lane'],
      buckets: [0.001, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5],
      registers,
    });
  }

  /** Counts an audit event (AuditLog's listener). */
  recordAuthEvent(event: AuthEventInput): void {
    this.authEvents.inc({ type: event.type, outcome: event.outcome ?? 'success' });
    if (event.type === 'login.failed') this.loginFailures.inc({ reason: String(event.details?.reason ?? 'unknown') });
  }

  /** The label for an operation name the client chose: bounded in count and shape. */
  operationLabel(name: string | null | undefined): string {
    if (!name) return 'anonymous';
    if (!OPERATION_NAME.test(name)) return 'other';
    if (this.operationNames.has(name)) return name;
    if (this.operationNames.size >= MAX_OPERATION_NAMES) return 'other';
    this.operationNames.add(name);
    return name;
  }

  observeHashGate(hasher: PasswordHasher): void {
    hasher.gate.onStarted = (lane, seconds) => this.hashWait.observe({ lane }, seconds);
    const stats = () => hasher.stats();
    new Gauge({
      name: 'gatehouse_password_hash_queue_depth',
      help: 'Password hashes waiting for a slot, by lane.',
      labelNames: ['lane'],
      registers: [this.registry],
      collect() {
        const { queued } = stats();
        this.set({ lane: 'priority' }, queued.priority);
        this.set({ lane: 'standard' }, queued.standard);
      },
    });
    new Gauge({
      name: 'gatehouse_password_hash_in_flight',
      help: 'Password hashes running, by lane.',
      labelNames: ['lane'],
      registers: [this.registry],
      collect() {
        const { inFlight } = stats();
        this.set({ lane: 'priority' }, inFlight.priority);
        this.set({ lane: 'standard' }, inFlight.standard);
      },
    });
    new Counter({
      name: 'gatehouse_password_hash_refused_total',
      help: 'Password hashes refused at the gate (queue full or wait timed out): SERVICE_BUSY answers.',
      registers: [this.registry],
      collect() {
        this.reset();
        this.inc(stats().refused);
      },
    });
  }

  observeDatabase(db: Database): void {
    new Gauge({
      name: 'gatehouse_db_pool_connections',
      help: 'Database pool connections by state (busy, idle), clients waiting for one (waiting), and the pool size (max).',
      labelNames: ['state'],
      registers: [this.registry],
      collect() {
        const pool = poolStats(db);
        if (!pool) return;
        this.set({ state: 'busy' }, pool.total - pool.idle);
        this.set({ state: 'idle' }, pool.idle);
        this.set({ state: 'waiting' }, pool.waiting);
        this.set({ state: 'max' }, pool.max);
      },
    });
    const refresh = async () => {
      try {
        this.activeSessions = await db.session.count({ where: { revokedAt: null, expiresAt: { gt: new Date() } } });
      } catch {
        // The database is unreachable: keep the last value; readiness reports the outage.
      }
    };
    const metrics = this;
    new Gauge({
      name: 'gatehouse_active_sessions',
      help: `Live sessions (not revoked, not expired), counted every ${ACTIVE_SESSIONS_REFRESH_MS / 1000} s.`,
      registers: [this.registry],
      collect() {
        if (metrics.activeSessions !== null) this.set(metrics.activeSessions);
      },
    });
    void refresh();
    this.timer = setInterval(() => void refresh(), ACTIVE_SESSIONS_REFRESH_MS);
    this.timer.unref();
  }

  observeBackgroundTasks(pending: () => number): void {
    new Gauge({
      name: 'gatehouse_outbox_pending',
      help: 'Mails (and other background tasks) started but not yet finished.',
      registers: [this.registry],
      collect() {
        this.set(pending());
      },
    });
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }
}

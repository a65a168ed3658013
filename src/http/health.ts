import type { FixedRoute } from './router.ts';

/** What readiness depends on; each check resolves true when that dependency answers. */
export interface ReadinessChecks {
  /** True from the moment shutdown begins: the load balancer should stop sending requests. */
  draining(): boolean;
  database(): Promise<boolean>;
  /** Null when Redis is not configured. */
  redis: (() => Promise<boolean>) | null;
}

/** A check that does not answer within this is a failed check: a probe must answer promptly. */
const CHECK_TIMEOUT_MS = 2000;

const json = (status: number, body: Record<string, string>) => Response.json(body, { status, headers: { 'cache-control': 'no-store' } });

/**
 * Probes for orchestrators and load balancers. `/livez`: the process is alive and serving HTTP
 * (restart it if not); it checks no dependency, so an outage elsewhere never triggers restarts.
 * `/readyz`: this instance can serve requests now (database reachable, Redis when configured, not
 * shutting down); 503 with a short reason otherwise, never an internal detail. `/health` is kept
 * for existing monitors and answers as `/livez` does.
 */
export function healthRoutes(checks: ReadinessChecks): [string, FixedRoute][] {
  const live: FixedRoute = () => json(200, { status: 'ok' });
  const ready: FixedRoute = async () => {
    if (checks.draining()) return json(503, { status: 'unavailable', reason: 'shutting down' });
    const [database, redis] = await Promise.all([withTimeout(checks.database()), checks.redis ? withTimeout(checks.redis()) : true]);
    if (checks.draining()) return json(503, { status: 'unavailable', reason: 'shutting down' });
    if (!database) return json(503, { status: 'unavailable', reason: 'database unreachable' });
    if (!redis) return json(503, { status: 'unavailable', reason: 'redis unreachable' });
    return json(200, { status: 'ready' });
  };
  return [
    ['/livez', live],
    ['/health', live],
    ['/readyz', ready],
  ];
}

async function withTimeout(check: Promise<boolean>): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<boolean>((resolve) => {
    timer = setTimeout(() => resolve(false), CHECK_TIMEOUT_MS);
  });
  try {
    return await Promise.race([check.catch(() => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}

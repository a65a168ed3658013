/** True when Prisma reports a unique-constraint violation (P2002), whatever the driver. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2002';
}

/** True when Prisma reports that the row an update or delete named does not exist (P2025). */
export function isRecordNotFound(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === 'P2025';
}

// Prisma's codes for "could not reach / lost the database server" and "no pooled connection in time".
const UNREACHABLE_PRISMA_CODES = new Set(['P1001', 'P1002', 'P1008', 'P1017', 'P2024']);
// What @prisma/adapter-pg reports for socket failures (DriverAdapterError.cause.kind).
const UNREACHABLE_ADAPTER_KINDS = new Set(['DatabaseNotReachable', 'ConnectionClosed', 'SocketTimeout', 'TooManyConnections']);
// Node's socket errors, and PostgreSQL's SQLSTATEs for a server going away: class 08 (connection
// exception), 57P01-57P03 (terminated by an administrator, crash, not accepting connections yet).
const UNREACHABLE_SOCKET_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EAI_AGAIN',
]);
const UNREACHABLE_SQLSTATE = /^(08...|57P0[123])$/;
// node-postgres raises these as plain Errors without a code (the adapter passes them through).
const UNREACHABLE_PG_MESSAGES = [
  /^Connection terminated/, // unexpectedly, or due to connection timeout
  /^Client has encountered a connection error and is not queryable$/,
  /^timeout exceeded when trying to connect$/,
  /^Client was closed and is not queryable$/,
  /^Server has closed the connection/,
];

/**
 * True when an operation failed because the database could not be reached (refused, reset, timed
 * out, closed mid-query, shutting down): a condition to retry later, unlike a failed query. Only
 * these exact shapes count, through at most a few `cause` / driver-adapter wrappers, so a genuine
 * bug is never passed off as an outage.
 */
export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0 && seen.size < 8) {
    const current = queue.shift();
    if (typeof current !== 'object' || current === null || seen.has(current)) continue;
    seen.add(current);
    const e = current as { code?: unknown; kind?: unknown; message?: unknown; cause?: unknown; meta?: { driverAdapterError?: unknown } };
    if (typeof e.code === 'string') {
      if (UNREACHABLE_PRISMA_CODES.has(e.code) || UNREACHABLE_SOCKET_CODES.has(e.code) || UNREACHABLE_SQLSTATE.test(e.code)) return true;
    }
    if (typeof e.kind === 'string' && UNREACHABLE_ADAPTER_KINDS.has(e.kind)) return true;
    if (current instanceof Error && e.code === undefined && UNREACHABLE_PG_MESSAGES.some((re) => re.test(current.message))) return true;
    queue.push(e.cause, e.meta?.driverAdapterError);
  }
  return false;
}

import { describe, expect, it } from 'vitest';
import { createDatabase } from './client.ts';
import { isDatabaseUnavailable, isUniqueViolation } from './errors.ts';

const socketError = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:1`), { code, syscall: 'connect', errno: -1 });

describe('isDatabaseUnavailable', () => {
  it('recognises what Prisma raises when the server refuses the connection', async () => {
    // Port 1 on loopback: nothing listens, so the adapter reports DatabaseNotReachable (P1001).
    const db = createDatabase('postgres://postgres@127.0.0.1:1/none', 1, 1000);
    const error = await db.$queryRaw`SELECT 1`.catch((e: unknown) => e);
    await db.$disconnect();
    expect(isDatabaseUnavailable(error)).toBe(true);
    expect(isUniqueViolation(error)).toBe(false);
  });

  it('recognises the driver and server shapes of a lost connection', () => {
    for (const error of [
      new Error('Connection terminated unexpectedly'),
      new Error('Connection terminated due to connection timeout', { cause: new Error('Connection terminated unexpectedly') }),
      new Error('timeout exceeded when trying to connect'),
      socketError('ECONNREFUSED'),
      socketError('ECONNRESET'),
      { name: 'PrismaClientKnownRequestError', code: 'P1017', message: 'Server has closed the connection.' },
      { name: 'PrismaClientKnownRequestError', code: 'P2024', message: 'Timed out fetching a new connection from the pool.' },
      { name: 'DriverAdapterError', message: 'postgres', cause: { kind: 'postgres', code: '57P01' } },
      { name: 'DriverAdapterError', message: 'ConnectionClosed', cause: { kind: 'ConnectionClosed' } },
    ]) {
      expect(isDatabaseUnavailable(error), String((error as Error).message)).toBe(true);
    }
  });

  it('leaves every other failure alone', () => {
    for (const error of [
      new Error('Cannot read properties of undefined'),
      { name: 'PrismaClientKnownRequestError', code: 'P2002', message: 'Unique constraint failed' },
      { name: 'PrismaClientKnownRequestError', code: 'P2025', message: 'Record not found' },
      { name: 'DriverAdapterError', message: 'postgres', cause: { kind: 'postgres', code: '23505' } },
      { name: 'DriverAdapterError', message: 'postgres', cause: { kind: 'postgres', code: '42P01' } },
      Object.assign(new Error('Connection terminated unexpectedly'), { code: 'SOMETHING_ELSE' }),
      null,
      'ECONNREFUSED',
    ]) {
      expect(isDatabaseUnavailable(error), String((error as Error | null)?.message ?? error)).toBe(false);
    }
  });
});

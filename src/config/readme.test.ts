import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { ENV_VARIABLES } from './config.ts';

describe('README configuration table', () => {
  it('documents every environment variable the configuration reads', () => {
    const rows = readFileSync(new URL('../../README.md', import.meta.url), 'utf8')
      .split('\n')
      .filter((line) => line.startsWith('|'));
    const undocumented = ENV_VARIABLES.filter((name) => !rows.some((row) => row.includes(`\`${name}\``)));
    expect(undocumented).toEqual([]);
  });
});

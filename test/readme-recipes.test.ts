import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';

// The README's client recipes are excerpts of files the suite runs: a code block whose first line
// names a file (`// examples/urql/gatehouse-urql.ts`) must appear in that file word for word.

const ROOT = path.resolve(import.meta.dirname, '..');
const README = readFileSync(path.join(ROOT, 'README.md'), 'utf8');
const EXCERPTS = [...README.matchAll(/```(?:ts|js)\n\/\/ ([\w./-]+\.(?:ts|js))\n([\s\S]*?)```/g)].map((m) => ({
  file: m[1] ?? '',
  code: m[2] ?? '',
}));

describe('README recipes', () => {
  it('has excerpts of the client examples and codegen.ts', () => {
    expect(EXCERPTS.map((e) => e.file)).toEqual(
      expect.arrayContaining([
        'examples/apollo-client/gatehouse-apollo.ts',
        'examples/urql/gatehouse-urql.ts',
        'examples/browser/gatehouse.js',
        'codegen.ts',
      ]),
    );
  });

  it.each(EXCERPTS.map((e) => [e.file, e.code] as const))('quotes %s word for word', (file, code) => {
    expect(readFileSync(path.join(ROOT, file), 'utf8')).toContain(code);
  });
});

/**
 * Refuses request input no field can legitimately need, before any resolver sees it: NUL
 * characters (PostgreSQL cannot store them in text or jsonb, so they would surface as internal
 * errors) and JSON nested deeper than MAX_DEPTH (serialising such a value overflows the stack).
 * Walked iteratively, so hostile nesting cannot overflow this check itself.
 */
const MAX_DEPTH = 32;

export function inputProblem(query: unknown, variables: unknown): string | null {
  if (typeof query === 'string' && query.includes('\u0000')) return 'the document contains a NUL character';
  const stack: [unknown, number][] = [[variables, 0]];
  while (stack.length > 0) {
    const [value, depth] = stack.pop() as [unknown, number];
    if (typeof value === 'string') {
      if (value.includes('\u0000')) return 'a string contains a NUL character';
      continue;
    }
    if (typeof value !== 'object' || value === null) continue;
    if (depth >= MAX_DEPTH) return `variables are nested deeper than ${MAX_DEPTH} levels`;
    if (Array.isArray(value)) {
      for (const item of value) stack.push([item, depth + 1]);
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      if (key.includes('\u0000')) return 'a key contains a NUL character';
      stack.push([item, depth + 1]);
    }
  }
  return null;
}

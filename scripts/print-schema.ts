// npm run schema:print — writes schema.graphql from the Pothos schema.
import { writeFileSync } from 'node:fs';
import { printSchemaSdl } from '../src/graphql/schema.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchemaSdl());
process.stdout.write('schema.graphql written\n');

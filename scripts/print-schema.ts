// npm run schema:print — writes schema.graphql (the API) and schema.subgraph.graphql (the
// federation subgraph SDL) from the Pothos schema.
import { writeFileSync } from 'node:fs';
import { printSchemaSdl, printSubgraphSdl } from '../src/graphql/schema.ts';

writeFileSync(new URL('../schema.graphql', import.meta.url), printSchemaSdl());
writeFileSync(new URL('../schema.subgraph.graphql', import.meta.url), printSubgraphSdl());
process.stdout.write('schema.graphql and schema.subgraph.graphql written\n');

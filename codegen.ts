import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the operations the tests and the client examples send, checked against the
// committed schema. The custom scalars travel as JSON: DateTime is an ISO-8601 string (parse it
// with `new Date()` where a Date is wanted), JSON is any JSON value.
const scalars = {
  DateTime: { input: 'string', output: 'string' },
  JSON: { input: 'unknown', output: 'unknown' },
};

const clientPreset = (documents: string[], presetConfig: Record<string, unknown> = {}): CodegenConfig['generates'][string] => ({
  documents,
  preset: 'client',
  presetConfig: { fragmentMasking: false, ...presetConfig },
  config: { useTypeImports: true, emitLegacyCommonJSImports: false, enumsAsTypes: true, scalars },
});

const config: CodegenConfig = {
  schema: 'schema.graphql',
  generates: {
    // persisted-documents.json: the manifest of trusted documents (PERSISTED_OPERATIONS_MANIFEST).
    'test/generated/': clientPreset(['test/operations/**/*.graphql'], { persistedDocuments: { hashAlgorithm: 'sha256' } }),
    'examples/apollo-client/generated/': clientPreset(['examples/apollo-client/*.graphql']),
    'examples/urql/generated/': clientPreset(['examples/urql/*.graphql']),
  },
};
export default config;

import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents for the operations the tests send, checked against the committed schema.
const config: CodegenConfig = {
  schema: 'schema.graphql',
  documents: ['test/operations/**/*.graphql'],
  generates: {
    'test/generated/': {
      preset: 'client',
      // persisted-documents.json: the manifest of trusted documents (PERSISTED_OPERATIONS_MANIFEST).
      presetConfig: { fragmentMasking: false, persistedDocuments: { hashAlgorithm: 'sha256' } },
      config: { useTypeImports: true, emitLegacyCommonJSImports: false, enumsAsTypes: true },
    },
  },
};
export default config;

import type { CodegenConfig } from '@graphql-codegen/cli';

// Typed documents from the API's schema (the committed, generated schema.graphql) for every operation
// the console's features declare with graphql(`...`). Output is committed; `npm run console:check`
// fails when it is out of date.
const config: CodegenConfig = {
  schema: '../schema.graphql',
  documents: ['src/**/*.{ts,tsx}', '!src/gql/**'],
  ignoreNoDocuments: false,
  generates: {
    'src/gql/': {
      preset: 'client',
      presetConfig: { fragmentMasking: false },
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        scalars: { DateTime: 'string', LocalDate: 'string', JSONObject: 'Record<string, unknown>', Upload: 'File' },
      },
    },
  },
};
export default config;

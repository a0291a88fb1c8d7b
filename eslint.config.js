// @ts-check
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'cdk.out/', '.tiebreak/', 'coverage/', 'dist/', 'eslint.config.js'] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  ...tseslint.configs.stylisticTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/restrict-template-expressions': ['error', { allowNumber: true }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
    },
  },
  {
    // Plain scripts run by `node` itself (hooks): no TypeScript project to check them against.
    files: ['**/*.mjs'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: { ...tseslint.configs.disableTypeChecked.languageOptions, globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // In tests a missing value is a failure either way; `!` keeps them short.
    files: ['test/**/*.ts', 'bench/**/*.ts', 'harness/**/*.ts'],
    rules: { '@typescript-eslint/no-non-null-assertion': 'off' },
  },
  {
    // The domain is pure: no AWS, no Node I/O, no clock reads (DESIGN.md, "Where code lives").
    files: ['functions/domain/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['@aws-sdk/*', 'node:*', '../adapters/*', '../handlers/*', '../http/*', '../jobs/*'] },
      ],
      'no-restricted-properties': ['error', { object: 'Date', property: 'now', message: 'The domain takes time as an argument.' }],
      'no-restricted-globals': ['error', 'process', 'fetch', 'setTimeout'],
    },
  },
  {
    // One file per Lambda function; an entry never imports another (functions/handlers/README.md).
    files: ['functions/handlers/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              group: ['./*'],
              message: 'Lambda entries never import each other: move the shared code to functions/http/ or functions/jobs/.',
            },
          ],
        },
      ],
    },
  },
  {
    // Helpers serve the entries, never the other way round.
    files: ['functions/http/**/*.ts', 'functions/jobs/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [{ group: ['**/handlers/*'], message: 'Helpers never import a Lambda entry.' }] }],
    },
  },
);

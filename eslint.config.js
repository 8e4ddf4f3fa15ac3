// ESLint for the TypeScript and Svelte code (`npm run lint`). Layout is Prettier's job, not ESLint's.
// Type-aware rules are left out: on this project they take minutes and gigabytes, and tsc --strict
// plus svelte-check (`npm run typecheck`) already check the types.
import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import { defineConfig, globalIgnores } from 'eslint/config';
import svelte from 'eslint-plugin-svelte';
import globals from 'globals';
import ts from 'typescript-eslint';

// What git ignores (build outputs, test results, workspaces) is not ours to lint.
const gitIgnored = readFileSync(new URL('.gitignore', import.meta.url), 'utf8')
  .split('\n')
  .map((line) => line.trim())
  .filter((line) => line !== '' && !line.startsWith('#'));

export default defineConfig(
  globalIgnores(gitIgnored),
  js.configs.recommended,
  ts.configs.recommended,
  svelte.configs.recommended,
  {
    languageOptions: { globals: { ...globals.node, ...globals.browser } },
    rules: {
      // As tsc's noUnusedLocals/noUnusedParameters: a leading underscore marks a name kept on purpose,
      // and `const { a: _, ...rest } = x` drops a field.
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', ignoreRestSiblings: true }],
    },
  },
  {
    files: ['**/*.svelte', '**/*.svelte.ts'],
    languageOptions: { parserOptions: { parser: ts.parser, extraFileExtensions: ['.svelte'] } },
  },
  {
    // A sandboxed Electron preload is CommonJS and cannot import modules: `import x = require()` is the only form.
    files: ['electron/shell/preload.cts'],
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
);

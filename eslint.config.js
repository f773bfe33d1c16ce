// ESLint for the static site (site/): plain ES modules in the browser, and the service worker.
// `make lint` installs the pinned eslint (package.json, package-lock.json) and runs it.
import js from '@eslint/js';
import globals from 'globals';

export default [
  js.configs.recommended,
  {
    files: ['site/**/*.js'],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: 'module',
      globals: { ...globals.browser },
    },
    rules: {
      'no-unused-vars': ['error', { args: 'after-used', caughtErrors: 'none' }],
      eqeqeq: ['error', 'always'],
      'no-var': 'error',
      'prefer-const': 'error',
      'no-implicit-globals': 'error',
      'no-shadow': 'error',
      'no-alert': 'error',
      curly: ['error', 'multi-line'],
    },
  },
  {
    files: ['site/sw.js'],
    languageOptions: { sourceType: 'script', globals: { ...globals.serviceworker } },
    rules: { 'no-implicit-globals': 'off' }, // a service worker script is a global scope of its own
  },
];

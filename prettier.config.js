// Prettier for everything but C++ and Markdown (`npm run format`; `npm run lint` checks it).
// The options match how the code is written: long lines (160 columns), single quotes, trailing commas.
/** @type {import('prettier').Config} */
export default {
  printWidth: 160,
  singleQuote: true,
  trailingComma: 'all',
  plugins: ['prettier-plugin-svelte'],
};

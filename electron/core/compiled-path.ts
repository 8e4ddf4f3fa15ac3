import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

/**
 * A compiled JavaScript file beside the calling module: itself when running from dist/, or its
 * counterpart under dist/ when running from the TypeScript sources (tests). Child processes and
 * dynamic imports need real .js files.
 */
export function compiledPath(relative: string, from: string): string {
  const direct = fileURLToPath(new URL(relative, from));
  if (existsSync(direct)) return direct;
  const inDist = direct.replace(/([\\/])electron([\\/])/, '$1dist$1electron$2');
  if (existsSync(inDist)) return inDist;
  throw new Error(`${direct} is not built: run "npm run build:core".`);
}

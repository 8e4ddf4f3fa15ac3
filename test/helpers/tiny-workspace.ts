// An AppCore on a temporary workspace whose library holds a tiny GPT-2, with a text to train on: the
// setup of the suites that run real jobs through the API. Call it at the top of a describe: when the
// suite ends, the jobs still running are cancelled and the folder is removed.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll } from 'vitest';
import type { ModelEntry } from '../../electron/api/contract.js';
import { AppCore } from '../../electron/core/app-core.js';
import { tempDir, writeTinyModel } from './tiny-models.js';

const TEXT = 'The whale swam on. The sea was calm and grey. Ishmael watched the whale.\n\n'.repeat(40);

export interface TinyWorkspace {
  path: string;
  core: AppCore;
  /** The tiny GPT-2, opened in the library. */
  model: ModelEntry;
  dataPath: string;
}

export async function tinyWorkspace(): Promise<TinyWorkspace> {
  const temp = await tempDir();
  const core = new AppCore({ workspaceDir: join(temp.path, 'workspace') });
  afterAll(async () => {
    for (const job of await core.call('jobs.list', {})) if (job.state === 'running') await core.call('jobs.cancel', { id: job.id });
    await temp.cleanup();
  });
  const source = join(temp.path, 'tiny-gpt2');
  await writeTinyModel(source, 'gpt2');
  const model = await core.call('models.open', { path: source });
  const dataPath = join(temp.path, 'whale.txt');
  writeFileSync(dataPath, TEXT);
  return { path: temp.path, core, model, dataPath };
}

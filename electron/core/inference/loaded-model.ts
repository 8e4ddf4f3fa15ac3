// A model folder opened, checked and loaded into the engine, with its tokenizer.
import { loadNative, type NativeModel } from '../../../native/index.js';
import { openModelFolder, type OpenedModelFolder } from '../model/folder.js';
import { loadTokenizer, type TextTokenizer } from '../model/tokenizer.js';

export interface LoadedModel {
  folder: OpenedModelFolder;
  tokenizer: TextTokenizer;
  engine: NativeModel;
}

export async function loadModel(dir: string): Promise<LoadedModel> {
  const folder = await openModelFolder(dir);
  const tokenizer = await loadTokenizer(folder.tokenizerFiles, folder.config);
  const engine = await loadNative().loadModel(folder.spec);
  return { folder, tokenizer, engine };
}

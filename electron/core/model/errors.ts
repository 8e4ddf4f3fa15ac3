// One error type for everything that can be wrong with a model folder, so the UI and the CLI can
// show the message as is and branch on `reason` when they need to (e.g. offer a conversion hint).

export type ModelFolderReason =
  | 'not-a-folder'
  | 'missing-config'
  | 'invalid-config'
  | 'unsupported-architecture'
  | 'unsupported-config'
  | 'pickle-only'
  | 'missing-weights'
  | 'invalid-index'
  | 'corrupt-weights'
  | 'tensor-mismatch'
  | 'missing-tokenizer'
  | 'invalid-tokenizer'
  | 'write-failed';

export class ModelFolderError extends Error {
  override name = 'ModelFolderError';

  constructor(
    readonly reason: ModelFolderReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

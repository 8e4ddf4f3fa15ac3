// One error type for everything the data pipeline rejects, so the UI and CLI can show the message
// as is and branch on `code` when they want to offer a fix (pick another file, lower the block size).

export type DataErrorCode =
  | 'options' // a bad option value passed by the caller
  | 'not-found' // the input path does not exist
  | 'no-files' // a folder without .txt or .md files
  | 'unreadable' // the file system refused to read a file
  | 'binary' // a NUL byte: not a text file
  | 'encoding' // not valid UTF-8
  | 'jsonl' // a JSONL line that is not a usable record
  | 'tokenizer' // the tokenizer returned something that is not a token id
  | 'empty' // no text at all
  | 'too-small' // text, but fewer tokens than one block
  | 'cursor'; // a saved batch cursor that does not fit this dataset

export class DataError extends Error {
  override readonly name = 'DataError';

  constructor(
    readonly code: DataErrorCode,
    message: string,
  ) {
    super(message);
  }
}

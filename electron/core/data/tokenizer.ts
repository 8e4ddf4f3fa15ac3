/**
 * What the data pipeline needs from the model's tokenizer. `eosId` separates documents; null when
 * the vocabulary has no end-of-sequence token, in which case documents simply run together.
 */
export interface DataTokenizer {
  encode(text: string): number[];
  readonly eosId: number | null;
}

/**
 * Streams text while watching for stop strings: text that might be the start of a stop string is
 * held back until it is clear, so a stop string is never shown, even split across tokens.
 */
export class StopStringFilter {
  private pending = '';
  stopped = false;

  constructor(private readonly stops: readonly string[]) {}

  /** Adds generated text; returns what can be shown now. */
  push(text: string): string {
    if (this.stopped) return '';
    this.pending += text;
    let cut = -1;
    for (const stop of this.stops) {
      const at = stop === '' ? -1 : this.pending.indexOf(stop);
      if (at !== -1 && (cut === -1 || at < cut)) cut = at;
    }
    if (cut !== -1) {
      this.stopped = true;
      const shown = this.pending.slice(0, cut);
      this.pending = '';
      return shown;
    }
    const hold = this.longestStopPrefixAtEnd();
    const shown = this.pending.slice(0, this.pending.length - hold);
    this.pending = this.pending.slice(this.pending.length - hold);
    return shown;
  }

  /** At the end of generation: whatever was held back was not a stop string after all. */
  flush(): string {
    const rest = this.stopped ? '' : this.pending;
    this.pending = '';
    return rest;
  }

  private longestStopPrefixAtEnd(): number {
    let longest = 0;
    for (const stop of this.stops) {
      for (let n = Math.min(stop.length - 1, this.pending.length); n > longest; n--) {
        if (this.pending.endsWith(stop.slice(0, n))) {
          longest = n;
          break;
        }
      }
    }
    return longest;
  }
}

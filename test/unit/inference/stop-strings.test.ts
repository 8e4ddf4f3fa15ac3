import { describe, expect, it } from 'vitest';
import { StopStringFilter } from '../../../electron/core/inference/stop-strings.js';

function run(stops: string[], pieces: string[]) {
  const f = new StopStringFilter(stops);
  const shown = pieces.map((p) => f.push(p));
  return { shown, rest: f.flush(), stopped: f.stopped };
}

describe('StopStringFilter', () => {
  it('passes text through when there are no stop strings', () => {
    expect(run([], ['Hel', 'lo'])).toEqual({ shown: ['Hel', 'lo'], rest: '', stopped: false });
  });

  it('stops before a stop string split across pieces and never shows it', () => {
    const r = run(['\nUser:'], ['Fine.', '\nUs', 'er: hi', ' more']);
    expect(r.shown.join('')).toBe('Fine.');
    expect(r.shown).toEqual(['Fine.', '', '', '']);
    expect(r.stopped).toBe(true);
    expect(r.rest).toBe('');
  });

  it('releases held-back text once it cannot be a stop string', () => {
    const r = run(['\nUser:'], ['a\nU', 'nder']);
    expect(r.shown).toEqual(['a', '\nUnder']);
    expect(r.stopped).toBe(false);
  });

  it('flushes held-back text at the end', () => {
    expect(run(['###'], ['done #', '#'])).toEqual({ shown: ['done ', ''], rest: '##', stopped: false });
  });

  it('cuts at the earliest of several stop strings', () => {
    const r = run(['END', 'STOP'], ['x STOP y END']);
    expect(r.shown).toEqual(['x ']);
  });
});

import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { TextBatcher } from '../../../electron/core/chat/text-batcher.js';

describe('streamed text batches', () => {
  beforeEach(() => vi.useFakeTimers({ toFake: ['setTimeout', 'clearTimeout', 'performance'] }));
  afterEach(() => vi.useRealTimers());

  it('hands on the first piece at once, then at most one batch per interval, and the rest on flush', () => {
    const sent: string[] = [];
    const batcher = new TextBatcher((text) => sent.push(text), 40);
    batcher.push('a');
    expect(sent).toEqual(['a']);
    batcher.push('b');
    batcher.push('c');
    expect(sent).toEqual(['a']);
    vi.advanceTimersByTime(40);
    expect(sent).toEqual(['a', 'bc']);
    batcher.push('d');
    vi.advanceTimersByTime(10);
    batcher.flush();
    expect(sent).toEqual(['a', 'bc', 'd']);
    vi.advanceTimersByTime(100);
    batcher.flush();
    expect(sent).toEqual(['a', 'bc', 'd']);
  });
});

// The time left in a job, at the pace of its current stage, on a fake clock.
import { describe, expect, it } from 'vitest';
import { StageEta } from '../../../electron/core/jobs/eta.js';

function clock() {
  let ms = 0;
  return { now: () => ms, advance: (seconds: number) => (ms += seconds * 1000) };
}

describe('StageEta', () => {
  it('measures from the start of the stage, so loading and setup before it do not count', () => {
    const time = clock();
    const eta = new StageEta(time.now);
    time.advance(60); // loading the model
    eta.startStage(0);
    // Nothing done yet: nothing to tell.
    expect(eta.secondsLeft(0, 100)).toBeNull();
    time.advance(2);
    expect(eta.secondsLeft(1, 100)).toBe(198);
    time.advance(8);
    // 10 units in 10 s: 90 left take 90 s (an estimate from all the time since loading would say 540 s).
    expect(eta.secondsLeft(10, 100)).toBe(90);
    time.advance(10);
    expect(eta.secondsLeft(30, 100)).toBe(47); // 1.5 units/s
    expect(eta.secondsLeft(100, 100)).toBe(0);
  });

  it('times each stage at its own pace, using the last one until the new one has done some work', () => {
    const time = clock();
    const eta = new StageEta(time.now);
    eta.startStage(0);
    time.advance(10);
    expect(eta.secondsLeft(10, 50)).toBe(40); // 1 unit/s
    eta.startStage(10);
    // The new stage has done nothing yet: the previous stage's pace stands in.
    time.advance(1);
    expect(eta.secondsLeft(10, 50)).toBe(40);
    time.advance(1);
    // Four times slower (a spiking model at a larger T): 0.25 unit/s.
    expect(eta.secondsLeft(10.5, 50)).toBe(158);
    time.advance(2);
    expect(eta.secondsLeft(11, 50)).toBe(156);
  });

  it('says nothing while a stage has done no work', () => {
    const time = clock();
    const eta = new StageEta(time.now);
    eta.startStage(5);
    time.advance(30);
    expect(eta.secondsLeft(5, 10)).toBeNull();
  });
});

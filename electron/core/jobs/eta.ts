// Time left in a job, measured from the pace of its current stage: each stage (a pass over the
// layers, one model of an evaluation, the training steps) is timed from its own start, so loading,
// setup and slower or faster earlier stages never skew it. Work is counted in the job's own units
// (steps, cost-weighted tokens, calibration passes); the remaining units are assumed to go at the
// current stage's pace, or at the previous stage's until this one has done some work.

export class StageEta {
  private stageStart: { at: number; done: number } | null = null;
  /** Units per second of the last stage that did some work, used until the current one has. */
  private previousPace: number | null = null;

  constructor(private readonly now: () => number = Date.now) {}

  /** Starts timing a new stage, with `done` units of work already done. */
  startStage(done: number): void {
    const pace = this.stagePace(done);
    if (pace !== null) this.previousPace = pace;
    this.stageStart = { at: this.now(), done };
  }

  /** Seconds left until `total` units are done, now that `done` are; null while nothing was measured yet. */
  secondsLeft(done: number, total: number): number | null {
    const pace = this.stagePace(done) ?? this.previousPace;
    if (pace === null || pace <= 0) return null;
    return Math.max(0, Math.round((total - done) / pace));
  }

  /** Units per second since the current stage started, once it has done some work. */
  private stagePace(done: number): number | null {
    if (!this.stageStart) return null;
    const seconds = (this.now() - this.stageStart.at) / 1000;
    const units = done - this.stageStart.done;
    return seconds > 0 && units > 0 ? units / seconds : null;
  }
}

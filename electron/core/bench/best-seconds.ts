/** The shortest of `runs` runs of `run`, in seconds, as the anchors time theirs: the one timing loop of `fas bench`. */
export async function bestSeconds(runs: number, run: () => Promise<unknown>): Promise<number> {
  let seconds = Infinity;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    await run();
    seconds = Math.min(seconds, (performance.now() - start) / 1000);
  }
  return seconds;
}

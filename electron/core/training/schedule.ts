/** Learning-rate multiplier at `step` (0-based): linear warm-up, then linear or cosine decay to zero. */
export function lrFactor(step: number, totalSteps: number, warmupSteps: number, decay: 'linear' | 'cosine' | 'constant'): number {
  if (step < warmupSteps) return (step + 1) / warmupSteps;
  if (decay === 'constant') return 1;
  const progress = Math.min(1, (step - warmupSteps) / Math.max(1, totalSteps - warmupSteps));
  return decay === 'linear' ? 1 - progress : 0.5 * (1 + Math.cos(Math.PI * progress));
}

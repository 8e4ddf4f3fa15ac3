// A job that will not fit in memory cannot be started: its estimate's advice, which names the setting
// to lower, is what stops the wizard's Next and Start.
import type { MemoryEstimate } from '../../../electron/api/contract';

export function memoryBlocker(estimate: MemoryEstimate | null): string | null {
  return estimate?.verdict === 'too-big' ? estimate.advice : null;
}

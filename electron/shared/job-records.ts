// A run record narrowed to its kind, so a page reads the kind's settings and result with their types.
import type { JobKindName, JobRecord } from '../api/contract.js';

/** Whether `job` is a run of `kind` (then typed as one). */
export function isKind<K extends JobKindName>(job: JobRecord, kind: K): job is Extract<JobRecord, { kind: K }> {
  return job.kind === kind;
}

// The job kinds the app can run: each is a module under jobs/kinds/ whose default export is a
// JobDefinition. The JobManager runs them in a child process; the CLI imports them directly.
import type { JobKind } from './job-manager.js';

export const jobKinds: Record<string, JobKind> = {};

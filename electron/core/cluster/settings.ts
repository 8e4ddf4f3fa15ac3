// Settings of a cluster job: FAS stage 1's (the same schema and defaults as `fas finetune`), where
// the job folder goes, and the conversion scope.
import { z } from 'zod';
import { finetuneSettings } from '../training/settings.js';

export const CLUSTER_SCOPES = ['ffn', 'all'] as const;

export const exportJobSettings = finetuneSettings.omit({ outDir: true, resume: true, overwrite: true }).extend({
  /** The job folder to create (it must not exist or be empty). */
  jobDir: z.string().min(1),
  /** "ffn": the paper's QCFS site only; "all": every matrix product's input (fas-method.md section 9). */
  scope: z.enum(CLUSTER_SCOPES).default('ffn'),
});

export type ExportJobSettings = z.infer<typeof exportJobSettings>;

// The two texts of a job folder for the person who runs it on the cluster: launch.sh (torchrun on one
// node with N GPUs, or on several nodes with a rendezvous) and README.md (what to run, what hardware
// this model needs, how to bring the result back).
import type { ModelSummary } from '../../api/contract.js';
import { formatBytes } from '../../shared/format.js';
import { LAUNCH_FILE, OUTPUT_MODEL_DIR, SCRIPT_FILE, type JobFile } from './job-format.js';
import type { GpuMemory } from './memory.js';

export function launchScript(): string {
  return `#!/usr/bin/env bash
# FAS stage 1 on a cluster (written by the FAS app). Needs python3 with PyTorch >= 1.13 (FSDP: >= 2.0).
#
#   ./${LAUNCH_FILE} single            one node, every GPU it has (NPROC=4 ./${LAUNCH_FILE} single for 4)
#   ./${LAUNCH_FILE} multi             several nodes: run the same line on every node, with
#        NNODES=2 MASTER_ADDR=node0.example MASTER_PORT=29500 JOB_ID=fas1 ./${LAUNCH_FILE} multi
#   SHARD=fsdp ./${LAUNCH_FILE} ...    FSDP (shards weights, gradients and optimizer state) instead of DDP
#
# Stopped or killed? Run the same line again: it resumes from output/checkpoint.
set -euo pipefail
cd "$(dirname "$0")"
PYTHON=\${PYTHON:-python3}
NPROC=\${NPROC:-$("$PYTHON" -c 'import torch; print(max(torch.cuda.device_count(), 1))')}
# Per-rank stdout is teed to the terminal (--redirects 1 --tee 1): torchrun 1.13 under Python 3.11 (Debian's
# python3-torch) fails on its default "--redirects 0".
RUN=("$PYTHON" -m torch.distributed.run --redirects 1 --tee 1)
FLAGS=()
if [ "\${SHARD:-ddp}" = fsdp ]; then FLAGS+=(--fsdp); fi
case "\${1:-single}" in
  single)
    exec "\${RUN[@]}" --standalone --nnodes=1 --nproc_per_node="$NPROC" ${SCRIPT_FILE} train \${FLAGS[@]+"\${FLAGS[@]}"}
    ;;
  multi)
    : "\${NNODES:?set NNODES, the number of nodes}" "\${MASTER_ADDR:?set MASTER_ADDR, a host name of the first node}"
    exec "\${RUN[@]}" --nnodes="$NNODES" --nproc_per_node="$NPROC" \\
      --rdzv_id="\${JOB_ID:-fas-stage1}" --rdzv_backend=c10d --rdzv_endpoint="$MASTER_ADDR:\${MASTER_PORT:-29500}" \\
      ${SCRIPT_FILE} train \${FLAGS[@]+"\${FLAGS[@]}"}
    ;;
  *)
    echo "usage: $0 single|multi (see the comments at the top)" >&2
    exit 2
    ;;
esac
`;
}

export interface ReadmeInput {
  job: JobFile;
  summary: ModelSummary;
  memory: GpuMemory[];
  tokensPerStep: number;
  notes: string[];
}

const GPU_MEMORY_GIB = 80;

export function jobReadme({ job, summary, memory, tokensPerStep, notes }: ReadmeInput): string {
  const s = job.settings as Record<string, number | string>;
  const cell = (bytes: number | null) =>
    bytes === null ? 'batch does not split' : `${formatBytes(bytes)}${bytes > GPU_MEMORY_GIB * 2 ** 30 ? ' (over 80 GB)' : ''}`;
  const rows = memory.map((m) => `| ${m.gpus} | ${cell(m.ddp)} | ${cell(m.fsdp)} |`).join('\n');
  const hostBytes = summary.parameterCount * 4;
  return `# FAS stage 1 on a cluster: ${job.sourceModel.name}

Written by ${job.createdBy} on ${job.createdAt}. This folder is self-contained: the model (\`model/\`),
the training data already tokenised by the app (\`data/\`, with the order of the blocks for every step),
the settings (\`job.json\`), the training script (\`${SCRIPT_FILE}\`) and \`${LAUNCH_FILE}\`.

## What it does
FAS stage 1: ${
    s.scope === 'all'
      ? `every input of a matrix product is quantised (L = ${s.levels}; thresholds per channel, starting from the source model's activations on the training text, in \`${job.data.startThresholds}\`), so the result is fully spike-driven,`
      : `the FFN activation of every layer is replaced by QCFS (L = ${s.levels}, thresholds starting at ${s.initialLambda}),`
  } and every parameter is fine-tuned: ${s.steps} steps of ${s.batchSize} × ${s.blockSize} tokens
(× ${s.gradAccum} accumulated; ${tokensPerStep.toLocaleString('en')} tokens per step), AdamW (weights ${s.lr}, thresholds
${s.thresholdLr}, ${s.decay} decay, ${s.warmupSteps} warm-up steps), float32 throughout, as the app's own trainer.
Model: ${summary.architecture}, ${summary.parameterCount.toLocaleString('en')} parameters, ${summary.layers} layers.
${notes.map((n) => `\nNote: ${n}`).join('')}
## Run it
Copy the folder to the cluster, then on a node with PyTorch >= 1.13 (nothing else is needed):

\`\`\`sh
./${LAUNCH_FILE} single                  # one node, all its GPUs (DDP)
SHARD=fsdp ./${LAUNCH_FILE} single       # the same with FSDP, for models that do not fit one GPU (PyTorch >= 2.0)
NNODES=4 MASTER_ADDR=node0 MASTER_PORT=29500 JOB_ID=fas1 SHARD=fsdp ./${LAUNCH_FILE} multi   # on every node
\`\`\`

The global batch (${s.batchSize} sequences) is split evenly over the processes, so their number must divide it;
the losses do not depend on it. A checkpoint is written every ${s.saveEvery} steps to \`output/checkpoint\`
(by rank 0, replaced atomically); if the run stops, run the same line again and it resumes there.
Progress goes to the terminal and to \`output/log.jsonl\` (loss, learning rate, gradient norm, validation
perplexity every ${s.valEvery} steps).

## Hardware
Estimated memory per GPU (float32 weights, gradients and AdamW moments: 16 bytes per parameter, plus the
activations of the GPU's share of the batch; ± 30 %, leave a margin for the CUDA context):

| GPUs | DDP (each GPU holds everything) | FSDP (sharded) |
| --- | --- | --- |
${rows}

Pick DDP when its column fits your GPUs (faster), FSDP otherwise. With more GPUs than the batch has
sequences, raise the batch size when exporting. Each process reads the weights into host memory as float32
before training starts: ${formatBytes(hostBytes)} of RAM per process (× processes per node).

## Bring the result back
When it finishes, \`${OUTPUT_MODEL_DIR}\` is an ordinary Hugging Face model folder (float32 weights) with
\`spiking_config.json\` and \`spiking.safetensors\`. Copy the job folder (at least \`job.json\` and
\`${OUTPUT_MODEL_DIR}\`) back and import it:

\`\`\`sh
fas import-job <this folder>       # or, in the app: Library, "Import a finished cluster run"
\`\`\`

It joins the library as a child of ${job.sourceModel.name}, ready for stage 2 (calibration), evaluation and chat.
`;
}

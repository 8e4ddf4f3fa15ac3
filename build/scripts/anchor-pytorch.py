"""PyTorch anchor for `fas bench` (docs/performance.md): the same GPT-2-124M shape with random
weights, measured the same way, so the engine's numbers can be read as ratios on one machine.

Run with Debian's python3-torch, 2 threads, right after `npm run bench`:
    /usr/bin/python3 build/scripts/anchor-pytorch.py [--threads 2]
Prints JSON: sgemm GFLOP/s on the model's shapes (OpenBLAS), prefill of 4 x 256 tokens (last position's
logits and every position's), and a training step (forward, backward, AdamW) at batch 4 x 256.

With --export-onnx DIR it measures nothing and writes this model (seed 1) for the onnxruntime-node anchor
(build/scripts/anchor-onnxruntime.mjs): DIR/gpt2-full.onnx (every position's logits), DIR/gpt2-last.onnx (the
last position's), both with dynamic batch and sequence axes, and DIR/check-ids.json + DIR/check-logits.f32 (this
model's logits for a few tokens, which the anchor compares with its own).
"""
import argparse
import json
import math
import os
import time

import torch
import torch.nn.functional as F

LAYERS, D, HEADS, CONTEXT, VOCAB = 12, 768, 12, 1024, 50257


class Block(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.ln1 = torch.nn.LayerNorm(D)
        self.qkv = torch.nn.Linear(D, 3 * D)
        self.proj = torch.nn.Linear(D, D)
        self.ln2 = torch.nn.LayerNorm(D)
        self.up = torch.nn.Linear(D, 4 * D)
        self.down = torch.nn.Linear(4 * D, D)

    def forward(self, x, mask):
        b, t, _ = x.shape
        q, k, v = self.qkv(self.ln1(x)).split(D, dim=2)
        q, k, v = (z.view(b, t, HEADS, D // HEADS).transpose(1, 2) for z in (q, k, v))
        scores = (q @ k.transpose(-2, -1)) / math.sqrt(D // HEADS)
        attn = torch.softmax(scores.masked_fill(mask[:t, :t], float('-inf')), dim=-1) @ v
        x = x + self.proj(attn.transpose(1, 2).reshape(b, t, D))
        return x + self.down(F.gelu(self.up(self.ln2(x)), approximate='tanh'))


class Gpt2(torch.nn.Module):
    def __init__(self):
        super().__init__()
        self.wte = torch.nn.Embedding(VOCAB, D)
        self.wpe = torch.nn.Embedding(CONTEXT, D)
        self.blocks = torch.nn.ModuleList(Block() for _ in range(LAYERS))
        self.lnf = torch.nn.LayerNorm(D)
        self.register_buffer('mask', torch.triu(torch.ones(CONTEXT, CONTEXT, dtype=torch.bool), 1))

    def forward(self, ids, last_only=False):
        x = self.wte(ids) + self.wpe(torch.arange(ids.shape[1]))
        for block in self.blocks:
            x = block(x, self.mask)
        x = self.lnf(x)
        if last_only:
            x = x[:, -1]
        return x @ self.wte.weight.t()  # tied head, as GPT-2


class Logits(torch.nn.Module):
    """The model with `last_only` fixed, so the exported graph's only input is `ids`."""

    def __init__(self, model, last_only):
        super().__init__()
        self.model, self.last_only = model, last_only

    def forward(self, ids):
        return self.model(ids, self.last_only)


def export_onnx(model, out_dir):
    os.makedirs(out_dir, exist_ok=True)
    ids = (torch.arange(2 * 16) * 7919 % VOCAB).view(2, 16)
    for name, last_only, axes in [('full', False, {0: 'batch', 1: 'sequence'}), ('last', True, {0: 'batch'})]:
        torch.onnx.export(Logits(model, last_only), (ids,), os.path.join(out_dir, f'gpt2-{name}.onnx'),
                          input_names=['ids'], output_names=['logits'], opset_version=17,
                          dynamic_axes={'ids': {0: 'batch', 1: 'sequence'}, 'logits': axes})
    check = (torch.arange(8) * 104729 % VOCAB).view(1, 8)
    with torch.no_grad():
        model(check).numpy().astype('<f4').tofile(os.path.join(out_dir, 'check-logits.f32'))
    with open(os.path.join(out_dir, 'check-ids.json'), 'w') as f:
        json.dump(check.tolist(), f)


def best_seconds(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--export-onnx', metavar='DIR', help='write the model as ONNX for the onnxruntime anchor')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.export_onnx:
        return export_onnx(Gpt2().eval(), args.export_onnx)

    sgemm = {}
    for rows, inputs, outputs in [(1024, 768, 2304), (1024, 768, 3072), (1024, 3072, 768), (1024, 768, 50257)]:
        x, w = torch.randn(rows, inputs), torch.randn(outputs, inputs)
        seconds = best_seconds(lambda: F.linear(x, w), 3)
        sgemm[f'{rows}x{inputs}->{outputs}'] = round(2 * rows * inputs * outputs / seconds / 1e9, 1)

    model = Gpt2()
    ids = (torch.arange(4 * 256) * 7919 % VOCAB).view(4, 256)
    with torch.no_grad():
        model(ids[:, :32])  # warm-up
        last = best_seconds(lambda: model(ids, last_only=True), 2)
        full = best_seconds(lambda: model(ids), 2)

    targets = (ids + 1) % VOCAB
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-4, weight_decay=0.01)

    def step():
        optimizer.zero_grad(set_to_none=True)
        logits = model(ids)
        F.cross_entropy(logits.view(-1, VOCAB), targets.view(-1)).backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()

    step()  # warm-up: the optimizer's state
    train = best_seconds(step, 2)
    print(json.dumps({
        'torch': torch.__version__,
        'threads': args.threads,
        'sgemmGflops': sgemm,
        'prefillTokensPerSecond': round(1024 / last, 1),
        'prefillFullLogitsTokensPerSecond': round(1024 / full, 1),
        'trainingTokensPerSecond': round(1024 / train, 1),
    }, indent=2))


if __name__ == '__main__':
    main()

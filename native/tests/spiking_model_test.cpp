// The engine's qcfs and snn modes on tiny converted models: snn logits against the step-by-step
// simulation of spiking_simulation.h (unsigned and signed sites, every neuron granularity, the
// event-driven and the dense down projection), qcfs against the graph with QCFS at the site, exact
// identities between the modes, the snn session cache, the statistics and the GPU fallback.
#include <atomic>
#include <cstdio>
#include <functional>
#include <random>
#include <stdexcept>
#include <string>
#include <vector>

#include "engine/ops/sampling.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/session.h"
#include "fixtures.h"
#include "hardware.h"
#include "spiking_simulation.h"
#include "test.h"

using namespace fas;
using fas::test::NeuronKind;
using fas::test::randomIds;
using fas::test::relativeError;
using fas::test::throwsWith;

namespace {

RunMode snn(int T, bool neuronRates = false) { return RunMode{FfnMode::Snn, T, neuronRates}; }

struct SnnCase {
  Family family;
  NeuronKind neurons;
  float lambda;
  int T;
  float upShift;  // > 0: most neurons fire, so the cost model picks the dense product
};

}  // namespace

TEST(spiking_snn_logits_equal_the_step_by_step_simulation) {
  ThreadPool pool(3);
  const SnnCase cases[] = {
      {Family::Gpt2, NeuronKind::Uncalibrated, 1.0f, 4, 0.0f}, {Family::Gpt2, NeuronKind::Neuron, 0.8f, 8, 0.0f},
      {Family::Gpt2, NeuronKind::Layer, 0.05f, 4, 3.0f},       {Family::Opt, NeuronKind::Position, 1.0f, 5, 0.0f},
      {Family::Opt, NeuronKind::Neuron, 0.05f, 3, 3.0f},       {Family::Llama, NeuronKind::Uncalibrated, 0.5f, 4, 0.0f},
      {Family::Llama, NeuronKind::Neuron, 0.3f, 8, 0.0f},      {Family::Llama, NeuronKind::Position, 0.02f, 6, 0.0f},
  };
  int64_t eventCalls = 0, denseCalls = 0;
  uint32_t seed = 10;
  for (const SnnCase& k : cases) {
    ++seed;
    const auto model = test::withSpiking(test::spikingTinyModel(k.family, seed, k.upShift),
                                         test::spikingParams(test::spikingConfig(k.family), k.neurons, k.lambda, seed));
    const ModelConfig& c = model->config;
    const int64_t batch = 2, seq = 7, vocab = c.vocabSize;  // 7 positions: beyond a per-position table of 3
    const auto ids = randomIds(batch * seq, vocab, seed);
    RunStats stats;
    const auto logits = forwardSequences(*model, pool, ids.data(), batch, seq, false, snn(k.T, true), &stats);
    const auto last = forwardSequences(*model, pool, ids.data(), batch, seq, true, snn(k.T));
    std::vector<int64_t> spikes(c.numLayers, 0);
    for (int64_t b = 0; b < batch; ++b) {
      const std::vector<int32_t> one(ids.begin() + b * seq, ids.begin() + (b + 1) * seq);
      const test::Simulation sim = test::simulate(*model, one, FfnMode::Snn, k.T);
      CHECK(relativeError(logits.data() + b * seq * vocab, sim.logits.data(), seq * vocab) < 1e-5);
      CHECK(relativeError(last.data() + b * vocab, sim.logits.data() + (seq - 1) * vocab, vocab) < 1e-5);
      for (int64_t l = 0; l < c.numLayers; ++l) {
        spikes[l] += sim.spikes[l];
        for (const int count : sim.counts[l]) CHECK(count <= k.T);  // per position and neuron
      }
    }
    CHECK(stats.spikes == spikes);
    for (const auto& layer : stats.neuronSpikes) {
      for (const int64_t count : layer) CHECK(count <= k.T * batch * seq);
    }
    eventCalls += stats.eventCalls;
    denseCalls += stats.denseCalls;
  }
  // Both products of the cost model ran, and both matched the simulation's dense double sums.
  CHECK(eventCalls > 0 && denseCalls > 0);
}

TEST(spiking_qcfs_logits_equal_the_graph_with_qcfs_at_the_site) {
  ThreadPool pool(2);
  uint32_t seed = 30;
  for (const Family family : {Family::Gpt2, Family::Opt, Family::Llama}) {
    ++seed;
    const auto model = test::withSpiking(test::spikingTinyModel(family, seed),
                                         test::spikingParams(test::spikingConfig(family), NeuronKind::Uncalibrated,
                                                             family == Family::Llama ? 0.3f : 1.0f, seed));
    const int64_t seq = 9, vocab = model->config.vocabSize;
    const auto ids = randomIds(seq, vocab, seed);
    const auto logits = forwardSequences(*model, pool, ids.data(), 1, seq, false, RunMode{FfnMode::Qcfs});
    const auto sim = test::simulate(*model, ids, FfnMode::Qcfs, 1);
    CHECK(relativeError(logits.data(), sim.logits.data(), seq * vocab) < 1e-5);
  }
}

// One timestep from v0 = theta / 2 fires exactly where QCFS with one level rounds to +-lambda, in
// every layer, so the two modes compute the same network (unsigned and signed sites).
TEST(spiking_snn_at_one_timestep_equals_qcfs_at_one_level) {
  ThreadPool pool(2);
  uint32_t seed = 40;
  for (const Family family : {Family::Gpt2, Family::Llama}) {
    SpikingParams params = test::spikingParams(test::spikingConfig(family), NeuronKind::Uncalibrated, 0.5f, ++seed);
    params.levels = 1;
    const auto model = test::withSpiking(test::spikingTinyModel(family, seed), params);
    const int64_t seq = 8, vocab = model->config.vocabSize;
    const auto ids = randomIds(seq, vocab, seed);
    const auto qcfs = forwardSequences(*model, pool, ids.data(), 1, seq, false, RunMode{FfnMode::Qcfs});
    RunStats stats;
    const auto spiking = forwardSequences(*model, pool, ids.data(), 1, seq, false, snn(1), &stats);
    CHECK(relativeError(spiking.data(), qcfs.data(), seq * vocab) < 1e-5);
    CHECK(stats.spikes[0] > 0 && stats.spikes[1] > 0);
  }
}

TEST(spiking_snn_session_cache_equals_full_forward_and_generates_its_argmax) {
  ThreadPool pool(2);
  uint32_t seed = 50;
  for (const Family family : {Family::Gpt2, Family::Llama}) {
    ++seed;
    const auto model = test::withSpiking(test::spikingTinyModel(family, seed),
                                         test::spikingParams(test::spikingConfig(family), NeuronKind::Position,
                                                             family == Family::Llama ? 0.3f : 1.0f, seed));
    const int64_t vocab = model->config.vocabSize;
    const RunMode mode = snn(4);
    const auto ids = randomIds(16, vocab, seed);
    Session session(model, mode);
    // Growing the cache moves every timestep's copy: chunks cross the capacity doublings.
    int64_t done = 0;
    for (const int64_t chunk : {3, 1, 1, 4, 1, 1, 5}) {
      const auto& logits = session.eval(pool, ids.data() + done, chunk, nullptr);
      done += chunk;
      const auto full = forwardSequences(*model, pool, ids.data(), 1, done, true, mode);
      CHECK(relativeError(logits.data(), full.data(), vocab) < 1e-5);
    }
    CHECK(session.stats().tokens == done && session.stats().mode.timesteps == 4);
    // An abort leaves the context and the counts as they were.
    std::atomic<bool> abort{true};
    bool aborted = false;
    try {
      session.eval(pool, ids.data(), 2, &abort);
    } catch (const Aborted&) {
      aborted = true;
    }
    CHECK(aborted && int64_t(session.tokens().size()) == done && session.stats().tokens == done);

    Session fresh(model, mode);
    GenerateOptions options;
    options.prompt = randomIds(4, vocab, seed + 1);
    options.maxTokens = 6;
    abort = false;
    std::vector<int32_t> streamed;
    const auto result = generate(
        fresh, pool, options, [&](int32_t t) { streamed.push_back(t); }, abort);
    CHECK(result.tokens.size() == 6 && streamed == result.tokens);
    std::vector<int32_t> context = options.prompt;
    for (const int32_t token : result.tokens) {
      const auto logits = forwardSequences(*model, pool, context.data(), 1, context.size(), true, mode);
      CHECK(token == ops::argmax(logits.data(), vocab));
      context.push_back(token);
    }
  }
}

TEST(spiking_stats_count_operations_spikes_and_rates) {
  ThreadPool pool(2);
  const auto model =
      test::withSpiking(test::spikingTinyModel(Family::Gpt2, 60),
                        test::spikingParams(test::spikingConfig(Family::Gpt2), NeuronKind::Neuron, 1.0f, 60));
  const ModelConfig& c = model->config;
  const int64_t seq = 7;
  const auto ids = randomIds(seq, c.vocabSize, 60);
  // Hand count for h = 16, ffn = 48, vocab 37, 2 layers, 7 positions: per position and layer the
  // q, k, v, o, up and down products (4*16*16 + 2*16*48 = 2560), attention 2 * 16 * (1 + ... + 7) per
  // layer, the head 16 * 37 per position.
  RunStats ann;
  forwardSequences(*model, pool, ids.data(), 1, seq, false, RunMode{}, &ann);
  CHECK(ann.tokens == seq && ann.ops.macs == 41776.0 && ann.annOps.macs == ann.ops.macs && ann.ops.acs == 0);
  CHECK(ann.spikes.empty());
  // snn at T = 4: everything but the head T times, the down projection as ACs.
  RunStats stats;
  forwardSequences(*model, pool, ids.data(), 1, seq, false, snn(4, true), &stats);
  CHECK(stats.ops.macs == 4 * (7 * 2 * (2560 - 768) + 2 * 896) + 7 * 592.0 && stats.annOps.macs == 41776.0);
  int64_t spikes = 0;
  for (int64_t l = 0; l < c.numLayers; ++l) {
    spikes += stats.spikes[l];
    const double rate = stats.firingRate(l, c.ffnSize);
    CHECK(rate > 0 && rate < 1);
    double mean = 0;
    for (int64_t i = 0; i < c.ffnSize; ++i) {
      const double r = stats.neuronFiringRate(l, i);
      CHECK(r >= 0 && r <= 1);
      mean += r / double(c.ffnSize);
    }
    CHECK_NEAR(mean, rate, 1e-12);
  }
  CHECK(stats.ops.acs == double(spikes) * double(c.hiddenSize));
  CHECK(stats.eventCalls + stats.denseCalls == c.numLayers && stats.gpuCalls == 0);
}

TEST(spiking_modes_need_valid_spiking_parameters) {
  ThreadPool pool(1);
  const std::shared_ptr<const Model> plain = test::spikingTinyModel(Family::Gpt2, 70);
  const int32_t ids[] = {1, 2, 3};
  CHECK(throwsWith([&] { forwardSequences(*plain, pool, ids, 1, 3, false, snn(4)); }, "spiking parameters"));
  CHECK(throwsWith([&] { Session(plain, RunMode{FfnMode::Qcfs}); }, "spiking parameters"));
  const ModelConfig c = test::spikingConfig(Family::Gpt2);
  const auto site = [&](SpikingParams p) { SpikingSite(c, std::move(p)); };
  SpikingParams p = test::spikingParams(c, NeuronKind::Neuron, 1.0f, 70);
  const auto model = test::withSpiking(test::spikingTinyModel(Family::Gpt2, 70), p);
  CHECK(throwsWith([&] { forwardSequences(*model, pool, ids, 1, 3, false, snn(0)); }, "timesteps"));
  SpikingParams bad = p;
  bad.lambdas.pop_back();
  CHECK(throwsWith([&] { site(bad); }, "1 lambdas for 2 layers"));
  bad = p;
  bad.neurons[1].threshold[5] = -1.0f;
  CHECK(throwsWith([&] { site(bad); }, "layer 1 neurons: every threshold must be a finite number > 0"));
  bad = p;
  bad.neurons[0].v0.pop_back();
  CHECK(throwsWith([&] { site(bad); }, "v0 and threshold differ"));
  bad = p;
  bad.neurons[0].positions = 2;
  CHECK(throwsWith([&] { site(bad); }, "48 thresholds do not fit"));
}

// With the GPU asked for, snn mode runs its neurons and down projection there when a GPU answers
// (same logits within rounding); without one it runs on the CPU and says why.
TEST(spiking_snn_gpu_matches_cpu_or_falls_back_with_the_reason) {
  ThreadPool pool(2);
  const ModelConfig c = test::spikingConfig(Family::Llama);
  SpikingParams params = test::spikingParams(c, NeuronKind::Position, 0.3f, 80);
  const auto cpu = test::withSpiking(test::spikingTinyModel(Family::Llama, 80), params);
  params.preferCuda = true;
  const auto gpu = test::withSpiking(test::spikingTinyModel(Family::Llama, 80), params);
  const int64_t batch = 2, seq = 6;
  const auto ids = randomIds(batch * seq, c.vocabSize, 80);
  RunStats cpuStats, gpuStats;
  const auto expected = forwardSequences(*cpu, pool, ids.data(), batch, seq, false, snn(4), &cpuStats);
  const auto logits = forwardSequences(*gpu, pool, ids.data(), batch, seq, false, snn(4), &gpuStats);
  CHECK(relativeError(logits.data(), expected.data(), int64_t(expected.size())) < 1e-4);
  CHECK(gpuStats.spikes == cpuStats.spikes);
  const CudaStatus cuda = probeCuda();
  if (cuda.usable) {
    CHECK(gpuStats.gpuCalls == c.numLayers && gpuStats.gpuNote.empty());
  } else {
    std::printf("     no usable GPU (%s): the CPU ran, noting \"%s\"\n", cuda.reason.c_str(), gpuStats.gpuNote.c_str());
    CHECK(gpuStats.gpuCalls == 0 && gpuStats.gpuNote.find(cuda.reason) != std::string::npos);
  }
}

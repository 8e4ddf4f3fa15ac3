// Tiny in-memory models of every family: the forward pass against a plain re-statement of the
// Hugging Face graphs built from the *_ref ops, batching, lastOnly, the KV-cache session and generation.
#include "engine/model/model.h"

#include <atomic>
#include <cmath>
#include <functional>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/attention.h"
#include "engine/ops/matmul.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/ops/sampling.h"
#include "engine/runtime/forward.h"
#include "engine/runtime/generate.h"
#include "engine/runtime/session.h"
#include "engine/simd.h"
#include "fixtures.h"
#include "isas.h"
#include "test.h"

using fas::ModelConfig;
using fas::test::randomIds;
using fas::test::relativeError;
using fas::test::throwsWith;

namespace {

enum class Variant { Gpt2, Opt, Opt350m, LlamaGqa, Qwen2 };
const Variant kVariants[] = {Variant::Gpt2, Variant::Opt, Variant::Opt350m, Variant::LlamaGqa, Variant::Qwen2};

ModelConfig tinyConfig(Variant variant) {
  const fas::Family family = variant == Variant::Gpt2                                 ? fas::Family::Gpt2
                             : variant == Variant::Opt || variant == Variant::Opt350m ? fas::Family::Opt
                                                                                      : fas::Family::Llama;
  ModelConfig c = fas::test::tinyConfig(family, {53, 24, 3, 8, 40, 32});
  switch (variant) {
    case Variant::Gpt2: break;  // the defaults: LayerNorm, gelu_new, learned positions, tied
    case Variant::Opt: c.tiedHead = false; break;
    case Variant::Opt350m: fas::test::setOpt350m(c, 16); break;
    case Variant::LlamaGqa:
    case Variant::Qwen2:
      c.ropeTheta = variant == Variant::Qwen2 ? 1e6 : 1e4;
      c.numHeads = 4;
      c.numKvHeads = 2;
      c.headDim = 6;
      c.tiedHead = variant == Variant::Qwen2;
      break;
  }
  return c;
}

// Which optional tensors each variant has, as its Hugging Face checkpoint would.
bool hasOptional(Variant variant, const std::string& name) {
  const auto endsWith = [&](const char* suffix) {
    const std::string s = suffix;
    return name.size() >= s.size() && name.compare(name.size() - s.size(), s.size(), s) == 0;
  };
  switch (variant) {
    case Variant::Gpt2:
    case Variant::Opt: return true;
    case Variant::Opt350m: return name.rfind("final_norm", 0) != 0;  // post-norm OPT has no final norm
    case Variant::LlamaGqa: return name == "final_norm.weight";
    case Variant::Qwen2:
      return name == "final_norm.weight" || endsWith("attn.q.bias") || endsWith("attn.k.bias") ||
             endsWith("attn.v.bias");
  }
  return false;
}

std::shared_ptr<const fas::Model> tinyModel(Variant variant, uint32_t seed = 1) {
  const ModelConfig c = tinyConfig(variant);
  const auto keep = [&](const std::string& name) { return hasOptional(variant, name); };
  return fas::modelFromTensors(c, fas::test::randomTensors(c, seed, keep, 5.0f));
}

// The Hugging Face graphs restated plainly for one sequence from position 0, with the reference ops.
std::vector<float> referenceLogits(const fas::Model& m, const std::vector<int32_t>& ids) {
  const ModelConfig& c = m.config;
  const fas::test::ReferenceGraph g(m, static_cast<int64_t>(ids.size()));
  std::vector<float> x = g.embed(ids);
  for (const auto& L : m.layers) {
    const auto attention = [&](const std::vector<float>& in) { return g.attention(L, in); };
    const auto ffn = [&](const std::vector<float>& in) {
      auto up = g.upGated(L, in);
      const int64_t n = g.S * c.ffnSize;
      if (c.activation == fas::Activation::GeluNew) fas::ops::gelu_new_ref(up.data(), up.data(), n);
      if (c.activation == fas::Activation::Relu) fas::ops::relu_ref(up.data(), up.data(), n);
      return g.linear(up, L.down, L.downB, c.ffnSize, c.hiddenSize);
    };
    x = g.layer(L, std::move(x), attention, ffn);
  }
  return g.logits(std::move(x));
}

// A fresh session's generation, its tokens read from the result only.
fas::GenerateResult generateQuietly(std::shared_ptr<const fas::Model> model, fas::ThreadPool& pool,
                                    const fas::GenerateOptions& options, std::atomic<bool>& abort) {
  fas::Session session(std::move(model));
  return fas::generate(
      session, pool, options, [](int32_t) {}, abort);
}

}  // namespace

TEST(model_every_family_matches_the_reference_graph) {
  fas::ThreadPool pool(2);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);  // every kernel width, whatever this CPU picks by default
    for (const Variant variant : kVariants) {
      const auto model = tinyModel(variant);
      const int64_t vocab = model->config.vocabSize, seq = 11;
      const auto ids = randomIds(seq, vocab, 3);
      const auto logits = fas::forwardSequences(*model, pool, ids.data(), 1, seq, false);
      CHECK(static_cast<int64_t>(logits.size()) == seq * vocab);
      for (const float v : logits) CHECK(std::isfinite(v));
      const auto ref = referenceLogits(*model, ids);
      CHECK(relativeError(logits.data(), ref.data(), seq * vocab) < 1e-5);
    }
  }
}

TEST(model_batch_and_last_only_agree_with_single_sequences) {
  fas::ThreadPool pool(3);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize, batch = 3, seq = 7;
    const auto ids = randomIds(batch * seq, vocab, 4);
    const auto all = fas::forwardSequences(*model, pool, ids.data(), batch, seq, false);
    const auto last = fas::forwardSequences(*model, pool, ids.data(), batch, seq, true);
    CHECK(static_cast<int64_t>(last.size()) == batch * vocab);
    for (int64_t b = 0; b < batch; ++b) {
      const auto one = fas::forwardSequences(*model, pool, ids.data() + b * seq, 1, seq, false);
      CHECK(relativeError(all.data() + b * seq * vocab, one.data(), seq * vocab) < 1e-6);
      CHECK(relativeError(last.data() + b * vocab, one.data() + (seq - 1) * vocab, vocab) < 1e-6);
    }
  }
}

TEST(model_session_cache_equals_full_forward) {
  fas::ThreadPool pool(2);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize;
    const auto ids = randomIds(20, vocab, 5);
    fas::Session session(model);
    // Prefill 6, then single tokens, then a chunk of 5, then singles: each step's logits must equal
    // the full forward over everything so far.
    int64_t done = 0;
    for (const int64_t chunk : {6, 1, 1, 5, 1, 1, 1, 1, 3}) {
      const auto& logits = session.eval(pool, ids.data() + done, chunk, nullptr);
      done += chunk;
      const auto full = fas::forwardSequences(*model, pool, ids.data(), 1, done, true);
      CHECK(relativeError(logits.data(), full.data(), vocab) < 1e-5);
    }
    CHECK(static_cast<int64_t>(session.tokens().size()) == done);
  }
}

TEST(model_greedy_generation_follows_argmax_of_full_forward) {
  fas::ThreadPool pool(2);
  for (const Variant variant : kVariants) {
    const auto model = tinyModel(variant);
    const int64_t vocab = model->config.vocabSize;
    fas::Session session(model);
    fas::GenerateOptions options{randomIds(5, vocab, 6), 8};  // prompt, maxTokens
    std::vector<int32_t> streamed;
    std::atomic<bool> abort{false};
    const auto result = fas::generate(
        session, pool, options, [&](int32_t t) { streamed.push_back(t); }, abort);
    CHECK(result.stopReason == fas::StopReason::Length);
    CHECK(result.tokens.size() == 8 && streamed == result.tokens);
    std::vector<int32_t> context = options.prompt;
    for (const int32_t token : result.tokens) {
      const auto logits = fas::forwardSequences(*model, pool, context.data(), 1, context.size(), true);
      CHECK(token == fas::ops::argmax(logits.data(), vocab));
      context.push_back(token);
    }
    CHECK(session.tokens() == context);
  }
}

TEST(model_generation_stops_on_eos_abort_and_full_context) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::LlamaGqa);
  std::atomic<bool> abort{false};
  fas::GenerateOptions options{{1, 2, 3}, 5};  // prompt, maxTokens
  const auto first = generateQuietly(model, pool, options, abort);
  // An end-of-sequence id stops right after it is produced, and it is part of the result.
  options.eosIds = {first.tokens[2]};
  const auto stopped = generateQuietly(model, pool, options, abort);
  CHECK(stopped.stopReason == fas::StopReason::Eos);
  CHECK(stopped.tokens.back() == first.tokens[2] && stopped.tokens.size() <= 3);
  // Abort from the token callback: no further token.
  fas::Session aborted(model);
  int calls = 0;
  const auto cut = fas::generate(
      aborted, pool, options, [&](int32_t) { abort = ++calls == 2; }, abort);
  CHECK(cut.stopReason == fas::StopReason::Aborted && cut.tokens.size() == 2);
  abort = false;
  // A full context stops with Length at maxPositions tokens.
  fas::Session full(model);
  options.eosIds.clear();
  options.prompt = randomIds(model->config.maxPositions - 2, model->config.vocabSize, 7);
  options.maxTokens = 100;
  const auto capped = fas::generate(
      full, pool, options, [](int32_t) {}, abort);
  CHECK(capped.stopReason == fas::StopReason::Length && capped.tokens.size() == 2);
  CHECK(static_cast<int64_t>(full.tokens().size()) == model->config.maxPositions);
}

TEST(model_sampled_generation_is_reproducible) {
  fas::ThreadPool pool(2);
  const auto model = tinyModel(Variant::Gpt2);
  std::atomic<bool> abort{false};
  fas::GenerateOptions options{{4, 5, 6}, 12};  // prompt, maxTokens
  options.sampling.temperature = 1.5f;
  options.sampling.topK = 20;
  options.sampling.topP = 0.95f;
  options.sampling.repetitionPenalty = 1.3f;
  options.seed = 1234;
  const auto run = [&] { return generateQuietly(model, pool, options, abort).tokens; };
  const auto a = run();
  CHECK(a == run());
  options.seed = 99;
  CHECK(a != run());  // 12 draws over a spread distribution: another seed differs
}

TEST(model_rejects_overflow_and_bad_ids) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::Gpt2);
  const auto tooLong = randomIds(model->config.maxPositions + 1, model->config.vocabSize, 8);
  CHECK(throwsWith([&] { fas::forwardSequences(*model, pool, tooLong.data(), 1, tooLong.size(), true); },
                   "context overflow"));
  fas::Session session(model);
  session.eval(pool, tooLong.data(), 30, nullptr);
  CHECK(throwsWith([&] { session.eval(pool, tooLong.data(), 3, nullptr); }, "context overflow"));
  CHECK(session.tokens().size() == 30);  // a failed eval leaves the context as it was
  const int32_t bad[] = {1, 53};
  CHECK(throwsWith([&] { fas::forwardSequences(*model, pool, bad, 1, 2, false); }, "token id 53 at index 1"));
  CHECK(throwsWith([&] { session.eval(pool, bad, 2, nullptr); }, "outside the vocabulary"));
  // More logits than one Float32Array may hold: refused from the shape alone, before any allocation.
  const fas::ModelConfig& c = model->config;
  const int64_t sequences = fas::kMaxForwardLogits / (c.maxPositions * c.vocabSize) + 1;
  CHECK(throwsWith([&] { fas::forwardLogitsCount(c, sequences, c.maxPositions, false); }, "ask for fewer sequences"));
  CHECK(fas::forwardLogitsCount(c, sequences, c.maxPositions, true) == sequences * c.vocabSize);
}

TEST(model_abort_during_prefill_keeps_the_session_usable) {
  fas::ThreadPool pool(1);
  const auto model = tinyModel(Variant::Opt);
  fas::Session session(model);
  const auto ids = randomIds(10, model->config.vocabSize, 9);
  std::atomic<bool> abort{true};
  bool aborted = false;
  try {
    session.eval(pool, ids.data(), 10, &abort);
  } catch (const fas::Aborted&) {
    aborted = true;
  }
  CHECK(aborted && session.tokens().empty());
  const auto& logits = session.eval(pool, ids.data(), 10, nullptr);
  const auto full = fas::forwardSequences(*model, pool, ids.data(), 1, 10, true);
  CHECK(relativeError(logits.data(), full.data(), model->config.vocabSize) < 1e-5);
}

TEST(model_from_tensors_rejects_wrong_weights) {
  const ModelConfig c = tinyConfig(Variant::Gpt2);
  const auto fails = [&](std::map<std::string, std::vector<float>> tensors, const std::string& text) {
    try {
      fas::modelFromTensors(c, std::move(tensors));
    } catch (const std::invalid_argument& e) {
      return std::string(e.what()).find(text) != std::string::npos;
    }
    return false;
  };
  CHECK(fails({{"embed.tokens", std::vector<float>(3)}}, "embed.tokens: 3 values"));
  CHECK(fails({{"layers.0.attn.q.weight2", {}}}, "not a tensor"));
  CHECK(fails({}, "tensor embed.positions is missing"));  // the first missing name, in order
  ModelConfig bad = c;
  bad.numKvHeads = 2;
  bool threw = false;
  try {
    fas::modelFromTensors(bad, {});
  } catch (const std::invalid_argument& e) {
    threw = std::string(e.what()).find("numKvHeads") != std::string::npos;
  }
  CHECK(threw);
}

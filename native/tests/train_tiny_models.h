// Tiny random models of every family the trainer supports, for the train_*_test.cpp files: small
// enough that the double-precision reference graph and finite differences run in milliseconds.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/model/model.h"
#include "fixtures.h"

namespace fas::test {

enum class Tiny { Gpt2, OptPreLn, OptPostLn, LlamaGqaTied, LlamaUntiedBiased };
inline const Tiny kTinyFamilies[] = {Tiny::Gpt2, Tiny::OptPreLn, Tiny::OptPostLn, Tiny::LlamaGqaTied,
                                     Tiny::LlamaUntiedBiased};

inline const char* tinyName(Tiny t) {
  switch (t) {
    case Tiny::Gpt2: return "gpt2";
    case Tiny::OptPreLn: return "opt pre-LN";
    case Tiny::OptPostLn: return "opt post-LN with project_in/out";
    case Tiny::LlamaGqaTied: return "llama GQA tied";
    case Tiny::LlamaUntiedBiased: return "llama untied, q/k/v biases, wide heads";
  }
  return "";
}

inline ModelConfig tinyConfig(Tiny t) {
  const Family family = t == Tiny::Gpt2                               ? Family::Gpt2
                        : t == Tiny::OptPreLn || t == Tiny::OptPostLn ? Family::Opt
                                                                      : Family::Llama;
  ModelConfig c = tinyConfig(family, {29, 16, 4, 4, 24, 12});
  switch (t) {
    case Tiny::Gpt2: break;  // LayerNorm, gelu_new, learned positions, tied head
    case Tiny::OptPreLn: c.tiedHead = false; break;
    case Tiny::OptPostLn: setOpt350m(c, 8); break;
    case Tiny::LlamaGqaTied:
    case Tiny::LlamaUntiedBiased:
      c.numKvHeads = 2;
      if (t == Tiny::LlamaUntiedBiased) {
        c.headDim = 6;  // q is 24 wide against a hidden size of 16
        c.tiedHead = false;
        c.ropeTheta = 500000.0;
      }
      break;
  }
  return c;
}

// Which optional tensors the family has.
inline bool tinyHas(Tiny t, const std::string& name) {
  const bool isBias = name.size() > 5 && name.compare(name.size() - 5, 5, ".bias") == 0;
  switch (t) {
    case Tiny::Gpt2:
    case Tiny::OptPreLn: return true;
    case Tiny::OptPostLn: return name.rfind("final_norm", 0) != 0;  // OPT-350m has no final norm
    case Tiny::LlamaGqaTied: return !isBias;
    case Tiny::LlamaUntiedBiased:
      return !isBias || name.find(".attn.q.") != std::string::npos || name.find(".attn.k.") != std::string::npos ||
             name.find(".attn.v.") != std::string::npos;
  }
  return false;
}

// Weights ~ N(0, 0.3^2), norm scales ~ 1 + N(0, 0.1^2), biases ~ N(0, 0.1^2).
inline std::map<std::string, std::vector<float>> tinyTensors(Tiny t, uint32_t seed) {
  const ModelConfig c = tinyConfig(t);
  std::mt19937 rng(seed);
  std::normal_distribution<float> normal;
  std::map<std::string, std::vector<float>> tensors;
  for (const TensorSlot& slot : tensorSlots(c)) {
    if (!slot.required && !tinyHas(t, slot.name)) continue;
    int64_t size = 1;
    for (const int64_t d : slot.shape) size *= d;
    std::vector<float> values(size);
    const bool isNorm = slot.name.find("norm") != std::string::npos;
    const bool isWeight = slot.name.size() > 7 && slot.name.compare(slot.name.size() - 7, 7, ".weight") == 0;
    for (float& v : values) {
      if (slot.shape.size() == 2) {
        v = 0.3f * normal(rng);
      } else if (isNorm && isWeight) {
        v = 1.0f + 0.1f * normal(rng);
      } else {
        v = 0.1f * normal(rng);
      }
    }
    tensors[slot.name] = std::move(values);
  }
  return tensors;
}

inline std::unique_ptr<Model> tinyModel(Tiny t, uint32_t seed = 7) {
  return modelFromTensors(tinyConfig(t), tinyTensors(t, seed));
}

// A batch of random tokens; targets are the inputs shifted by one, as in language modelling.
struct TinyBatch {
  std::vector<int32_t> inputs, targets;
  std::vector<uint8_t> mask;
  int64_t batch, seqLen;
};

inline TinyBatch tinyBatch(const ModelConfig& c, int64_t batch, int64_t seqLen, uint32_t seed) {
  std::mt19937 rng(seed);
  std::uniform_int_distribution<int32_t> token(0, static_cast<int32_t>(c.vocabSize - 1));
  TinyBatch b{{}, {}, {}, batch, seqLen};
  for (int64_t s = 0; s < batch; ++s) {
    std::vector<int32_t> seq(seqLen + 1);
    for (int32_t& id : seq) id = token(rng);
    b.inputs.insert(b.inputs.end(), seq.begin(), seq.end() - 1);
    b.targets.insert(b.targets.end(), seq.begin() + 1, seq.end());
  }
  b.mask.assign(batch * seqLen, 1);
  return b;
}

}  // namespace fas::test

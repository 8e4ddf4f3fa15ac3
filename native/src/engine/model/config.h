// A model's hyper-parameters (the C++ side of NativeModelSpec in native/index.ts) and the canonical
// tensors they call for.
#pragma once
#include <cstdint>
#include <string>
#include <vector>

namespace fas {

enum class Family { Gpt2, Opt, Llama };
enum class NormKind { LayerNorm, RmsNorm };
enum class Activation { GeluNew, Relu, SiluGated };
enum class PositionKind { Learned, Rope };

struct ModelConfig {
  Family family = Family::Gpt2;
  int64_t vocabSize = 0, hiddenSize = 0, numLayers = 0, numHeads = 0, numKvHeads = 0, headDim = 0, ffnSize = 0;
  int64_t maxPositions = 0;
  int64_t positionOffset = 0;  // added to a position before indexing embed.positions (OPT: 2)
  NormKind norm = NormKind::LayerNorm;
  float normEps = 1e-5f;
  Activation activation = Activation::GeluNew;
  PositionKind positions = PositionKind::Learned;
  double ropeTheta = 10000.0;
  bool preNorm = true;       // false: OPT-350m post-LayerNorm blocks
  int64_t wordEmbedDim = 0;  // token embedding width; != hiddenSize means project_in/out
  bool tiedHead = true;      // logits use embed.tokens

  int64_t qDim() const { return numHeads * headDim; }
  int64_t kvDim() const { return numKvHeads * headDim; }
};

// Throws std::invalid_argument naming the first inconsistent field.
void validateConfig(const ModelConfig& config);

// A tensor the engine accepts for a config, with its canonical shape (linear weights [out, in]).
struct TensorSlot {
  std::string name;
  std::vector<int64_t> shape;
  bool required;
};

// Every tensor name the engine knows for this config. Anything else in a model is an error.
std::vector<TensorSlot> tensorSlots(const ModelConfig& config);

std::string shapeString(const std::vector<int64_t>& shape);

}  // namespace fas

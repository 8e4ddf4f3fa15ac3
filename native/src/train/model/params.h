// Where every trainable tensor lives: one flat array holds all parameters (and, with the same
// offsets, their gradients and the optimizer's moments), so optimizer and norm loops run over plain
// ranges. Names and shapes are the engine's canonical ones (engine/model/config.h), plus one QCFS
// threshold per layer, "layers.{i}.qcfs.lambda" [1], when the QCFS site is on; in scope all the
// thresholds of every site as spiking.safetensors names them (fas-method.md section 9).
#pragma once
#include <cstdint>
#include <set>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"
#include "train/model/qcfs_site.h"

namespace fas::train {

// decay: weight matrices and embeddings; no_decay: biases and norm parameters; threshold: QCFS lambdas.
enum class ParamGroup { Decay, NoDecay, Threshold };

const char* groupName(ParamGroup group);

struct ParamInfo {
  std::string name;
  std::vector<int64_t> shape;
  ParamGroup group;
  int64_t offset, size;  // in floats, into the flat arrays
};

// Offsets of one layer's tensors, its QCFS lambda and (scope all) its sites' lambdas, indexed by
// Site (Site::Ffn is `lambda`); -1 where the model has none.
struct LayerOffsets : LayerTensors<int64_t> {
  int64_t lambda;
  int64_t sites[kLayerSites] = {-1, -1, -1, -1, -1, -1};
};

// head == tokens when the head is tied: its gradient lands in embed.tokens.
struct ModelOffsets : ModelTensors<int64_t> {
  std::vector<LayerOffsets> layers;
  int64_t headIn = -1;  // scope all: head_in.lambda
};

class ParamLayout {
 public:
  // The config's tensors that are in `present` (every required one must be), in canonical order,
  // then the thresholds of the site when it is on. Throws std::invalid_argument for a missing tensor.
  ParamLayout(const ModelConfig& config, const std::set<std::string>& present, const QcfsSite& site);

  const std::vector<ParamInfo>& params() const { return params_; }
  int64_t total() const { return total_; }
  // nullptr when the model has no tensor of that name.
  const ParamInfo* find(const std::string& name) const;
  const ModelOffsets& offsets() const { return offsets_; }

 private:
  int64_t offsetOf(const std::string& name) const;

  std::vector<ParamInfo> params_;
  int64_t total_ = 0;
  ModelOffsets offsets_;
};

std::string lambdaName(int64_t layer);
// A scope all site's threshold name: "layers.{i}.{site}.lambda", or "head_in.lambda".
std::string siteLambdaName(int64_t layer, Site site);
// A scope all site's number of thresholds.
int64_t siteWidth(const ModelConfig& config, Site site, const QcfsSite& qcfs);

// The names of the model's tensors: ParamLayout's `present`.
std::set<std::string> tensorNames(const Model& model);

// The layout's flat array with the model's weights, widened to F32 where the model keeps them in 16
// bits (training keeps F32 master weights); the QCFS lambdas, when laid out, are 0.
std::vector<float> flatWeights(const Model& model, const ParamLayout& layout);

}  // namespace fas::train

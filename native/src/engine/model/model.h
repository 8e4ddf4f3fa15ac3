// A loaded model: its config, the storage behind every weight, and per-layer pointers the forward
// pass reads. Weights are F32 in canonical layout; each points into a mapped file (zero copy) or
// into a buffer the model owns.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/config.h"
#include "engine/model/mapped_file.h"
#include "engine/model/tensor_roles.h"

namespace fas {

struct Tensor {
  const float* data = nullptr;
  std::vector<int64_t> shape;
};

// Owns what the tensors point into.
struct WeightStore {
  std::map<std::string, Tensor> tensors;
  std::vector<std::shared_ptr<const MappedFile>> files;
  std::vector<FloatVector> buffers;  // moving a vector keeps its data where it is
};

class SpikingSite;  // engine/runtime/spiking_site.h

using LayerWeights = LayerTensors<const float*>;

// The weights by role (ModelTensors); optional tensors that are absent are nullptr.
struct Model : ModelTensors<const float*> {
  ModelConfig config;
  WeightStore weights;
  std::vector<LayerWeights> layers;
  std::shared_ptr<const SpikingSite> spiking;  // the qcfs and snn modes' parameters; null for a plain ANN

  Model() = default;
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;
};

// Checks the tensors against the config (known names, canonical shapes, required ones present) and
// resolves the layer pointers. Throws std::invalid_argument naming the tensor at fault.
std::unique_ptr<Model> buildModel(const ModelConfig& config, WeightStore weights);

// A model from in-memory weights (tests, tools): name -> values in canonical layout.
std::unique_ptr<Model> modelFromTensors(const ModelConfig& config, std::map<std::string, std::vector<float>> tensors);

}  // namespace fas

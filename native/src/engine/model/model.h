// A loaded model: its config, the storage behind every weight, and per-layer views the forward
// pass reads. Weights are in canonical layout; each points into a mapped file (zero copy) or into a
// buffer the model owns. Matrices keep the checkpoint's dtype (F32, F16 or BF16: the kernels widen
// 16-bit ones as they read them); vectors (biases, norms) are F32.
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
#include "engine/weight_view.h"

namespace fas {

// A typed view of one weight tensor: dtype, where its elements start, its canonical shape.
struct Tensor {
  WeightView view;
  std::vector<int64_t> shape;

  int64_t elements() const;
  int64_t bytes() const { return elements() * dtypeSize(view.dtype); }
};

// Owns what the tensors point into.
struct WeightStore {
  std::map<std::string, Tensor> tensors;
  std::vector<std::shared_ptr<const MappedFile>> files;
  std::vector<ByteVector> buffers;  // moving a vector keeps its data where it is

  // The bytes of every tensor, as the engine holds them (owned or mapped): what a decode step reads.
  int64_t bytes() const;
};

class SpikingSite;  // engine/runtime/spiking_site.h

using LayerWeights = LayerTensors<WeightView>;

// The weights by role (ModelTensors); optional tensors that are absent are empty views.
struct Model : ModelTensors<WeightView> {
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

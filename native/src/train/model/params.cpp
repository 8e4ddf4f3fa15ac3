#include "train/model/params.h"

#include <algorithm>
#include <stdexcept>

namespace fas::train {

namespace {
constexpr int64_t kAlign = 16;  // floats: every tensor starts on a 64-byte boundary
}

const char* groupName(ParamGroup group) {
  switch (group) {
    case ParamGroup::Decay: return "decay";
    case ParamGroup::NoDecay: return "no_decay";
    case ParamGroup::Threshold: return "threshold";
  }
  return "";
}

std::string lambdaName(int64_t layer) { return "layers." + std::to_string(layer) + ".qcfs.lambda"; }

ParamLayout::ParamLayout(const ModelConfig& config, const std::set<std::string>& present, bool withLambdas) {
  const auto add = [&](const std::string& name, const std::vector<int64_t>& shape, ParamGroup group) {
    int64_t size = 1;
    for (const int64_t d : shape) size *= d;
    params_.push_back({name, shape, group, total_, size});
    total_ += (size + kAlign - 1) / kAlign * kAlign;
  };
  for (const TensorSlot& slot : tensorSlots(config)) {
    if (!present.count(slot.name)) {
      if (slot.required) throw std::invalid_argument("tensor " + slot.name + " is missing");
      continue;
    }
    add(slot.name, slot.shape, slot.shape.size() == 2 ? ParamGroup::Decay : ParamGroup::NoDecay);
  }
  if (withLambdas) {
    for (int64_t i = 0; i < config.numLayers; ++i) add(lambdaName(i), {1}, ParamGroup::Threshold);
  }

  const auto offset = [&](const std::string& name) { return offsetOf(name); };
  static_cast<ModelTensors<int64_t>&>(offsets_) = modelTensors<int64_t>(config, offset);
  for (int64_t i = 0; i < config.numLayers; ++i) {
    offsets_.layers.push_back(LayerOffsets{layerTensors<int64_t>(i, offset), offsetOf(lambdaName(i))});
  }
}

const ParamInfo* ParamLayout::find(const std::string& name) const {
  for (const ParamInfo& p : params_) {
    if (p.name == name) return &p;
  }
  return nullptr;
}

int64_t ParamLayout::offsetOf(const std::string& name) const {
  const ParamInfo* p = find(name);
  return p ? p->offset : -1;
}

std::set<std::string> tensorNames(const Model& model) {
  std::set<std::string> names;
  for (const auto& entry : model.weights.tensors) names.insert(entry.first);
  return names;
}

std::vector<float> flatWeights(const Model& model, const ParamLayout& layout) {
  std::vector<float> flat(layout.total(), 0.0f);
  for (const ParamInfo& p : layout.params()) {
    if (p.group == ParamGroup::Threshold) continue;
    const float* src = model.weights.tensors.at(p.name).data;
    std::copy(src, src + p.size, flat.begin() + p.offset);
  }
  return flat;
}

}  // namespace fas::train

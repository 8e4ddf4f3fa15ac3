#include "engine/model/model.h"

#include <cstring>
#include <stdexcept>

namespace fas {

namespace {

int64_t elementCount(const std::vector<int64_t>& shape) {
  int64_t n = 1;
  for (const int64_t d : shape) n *= d;
  return n;
}

}  // namespace

int64_t Tensor::elements() const { return elementCount(shape); }

int64_t WeightStore::bytes() const {
  int64_t total = 0;
  for (const auto& entry : tensors) total += entry.second.bytes();
  return total;
}

std::unique_ptr<Model> buildModel(const ModelConfig& config, WeightStore weights) {
  validateConfig(config);
  std::map<std::string, TensorSlot> slots;
  for (auto& slot : tensorSlots(config)) slots.emplace(slot.name, slot);
  for (const auto& [name, tensor] : weights.tensors) {
    const auto slot = slots.find(name);
    if (slot == slots.end()) {
      const bool headWhenTied = name == "head.weight" && config.tiedHead;
      throw std::invalid_argument("tensor " + name + ": " +
                                  (headWhenTied ? "given, but the config says the head is tied to embed.tokens"
                                                : "not a tensor this model family uses"));
    }
    if (tensor.shape != slot->second.shape) {
      throw std::invalid_argument("tensor " + name + ": shape " + shapeString(tensor.shape) + ", expected " +
                                  shapeString(slot->second.shape) + " from the config");
    }
  }
  for (const auto& [name, slot] : slots) {
    if (slot.required && !weights.tensors.count(name)) throw std::invalid_argument("tensor " + name + " is missing");
  }

  auto model = std::make_unique<Model>();
  model->config = config;
  model->weights = std::move(weights);
  const auto get = [&](const std::string& name) -> WeightView {
    const auto it = model->weights.tensors.find(name);
    return it == model->weights.tensors.end() ? WeightView() : it->second.view;
  };
  Model& m = *model;
  static_cast<ModelTensors<WeightView>&>(m) = modelTensors<WeightView>(config, get);
  for (int64_t i = 0; i < config.numLayers; ++i) m.layers.push_back(layerTensors<WeightView>(i, get));
  return model;
}

std::unique_ptr<Model> modelFromTensors(const ModelConfig& config, std::map<std::string, std::vector<float>> tensors) {
  validateConfig(config);
  std::map<std::string, std::vector<int64_t>> shapes;
  for (const auto& slot : tensorSlots(config)) shapes.emplace(slot.name, slot.shape);
  WeightStore weights;
  for (auto& [name, values] : tensors) {
    const auto shape = shapes.find(name);
    if (shape == shapes.end()) throw std::invalid_argument("tensor " + name + ": not a tensor this model family uses");
    if (static_cast<int64_t>(values.size()) != elementCount(shape->second)) {
      throw std::invalid_argument("tensor " + name + ": " + std::to_string(values.size()) + " values, expected " +
                                  shapeString(shape->second));
    }
    ByteVector aligned(values.size() * sizeof(float));
    std::memcpy(aligned.data(), values.data(), aligned.size());
    weights.tensors[name] = Tensor{WeightView(reinterpret_cast<const float*>(aligned.data())), shape->second};
    weights.buffers.push_back(std::move(aligned));
  }
  return buildModel(config, std::move(weights));
}

}  // namespace fas

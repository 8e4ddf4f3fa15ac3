#include "train/model/params.h"

#include <algorithm>
#include <stdexcept>

#include "engine/ops/widen.h"

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

std::string lambdaName(int64_t layer) { return siteLambdaName(layer, Site::Ffn); }

std::string siteLambdaName(int64_t layer, Site site) {
  if (site == Site::HeadIn) return std::string(siteName(site)) + ".lambda";
  return "layers." + std::to_string(layer) + "." + siteName(site) + ".lambda";
}

int64_t siteWidth(const ModelConfig& c, Site site, const QcfsSite& qcfs) {
  switch (site) {
    case Site::AttnIn:
    case Site::FfnIn:
    case Site::HeadIn: return c.hiddenSize;
    case Site::Q:
    case Site::AttnOut: return c.qDim();
    case Site::V: return c.kvDim();
    case Site::Ffn: break;
  }
  return qcfs.everySite && qcfs.perNeuronFfn ? c.ffnSize : 1;
}

ParamLayout::ParamLayout(const ModelConfig& config, const std::set<std::string>& present, const QcfsSite& site) {
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
  if (site.enabled) {
    for (int64_t i = 0; i < config.numLayers; ++i) {
      for (int s = 0; s < kLayerSites; ++s) {
        if (site.everySite || Site(s) == Site::Ffn) {
          add(siteLambdaName(i, Site(s)), {siteWidth(config, Site(s), site)}, ParamGroup::Threshold);
        }
      }
    }
    if (site.everySite) add(siteLambdaName(0, Site::HeadIn), {config.hiddenSize}, ParamGroup::Threshold);
  }

  const auto offset = [&](const std::string& name) { return offsetOf(name); };
  static_cast<ModelTensors<int64_t>&>(offsets_) = modelTensors<int64_t>(config, offset);
  for (int64_t i = 0; i < config.numLayers; ++i) {
    LayerOffsets layer{layerTensors<int64_t>(i, offset), offsetOf(lambdaName(i))};
    for (int s = 0; s < kLayerSites; ++s) layer.sites[s] = offsetOf(siteLambdaName(i, Site(s)));
    offsets_.layers.push_back(layer);
  }
  offsets_.headIn = offsetOf(siteLambdaName(0, Site::HeadIn));
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
    ops::widen(model.weights.tensors.at(p.name).view, 0, p.size, flat.data() + p.offset);  // F32 masters
  }
  return flat;
}

}  // namespace fas::train

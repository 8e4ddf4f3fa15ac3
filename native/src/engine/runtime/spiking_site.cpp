#include "engine/runtime/spiking_site.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "cuda/spiking_ffn.h"
#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/tiles.h"
#include "hardware.h"

namespace fas {

namespace {

void require(bool ok, const std::string& message) {
  if (!ok) throw std::invalid_argument("invalid spiking parameters: " + message);
}

bool allFinite(const std::vector<float>& values, bool positive) {
  for (const float v : values) {
    if (!std::isfinite(v) || (positive && v <= 0.0f)) return false;
  }
  return true;
}

// Scope all: every site's thresholds have the site's width, finite and > 0.
void checkSites(const ModelConfig& c, const SpikingParams& p) {
  require(p.lambdas.empty() && p.neurons.empty(), "scope all has per-site thresholds, no FFN lambdas or neurons");
  require(static_cast<int64_t>(p.sites.size()) == c.numLayers,
          std::to_string(p.sites.size()) + " layers of site thresholds for " + std::to_string(c.numLayers) + " layers");
  const int64_t widths[kLayerSites] = {c.hiddenSize, c.qDim(), c.kvDim(), c.qDim(), c.hiddenSize, c.ffnSize};
  for (size_t l = 0; l < p.sites.size(); ++l) {
    for (int s = 0; s < kLayerSites; ++s) {
      const std::vector<float>& lambda = p.sites[l][s];
      const std::string name = "layers." + std::to_string(l) + "." + siteName(Site(s)) + ".lambda";
      const bool fits =
          static_cast<int64_t>(lambda.size()) == widths[s] || (Site(s) == Site::Ffn && lambda.size() == 1);
      require(fits, name + " has " + std::to_string(lambda.size()) + " values, expected " + std::to_string(widths[s]) +
                        (Site(s) == Site::Ffn ? " or 1" : ""));
      require(allFinite(lambda, true), name + ": every threshold must be a finite number > 0");
    }
  }
  require(
      static_cast<int64_t>(p.headIn.size()) == c.hiddenSize,
      "head_in.lambda has " + std::to_string(p.headIn.size()) + " values, expected " + std::to_string(c.hiddenSize));
  require(allFinite(p.headIn, true), "head_in.lambda: every threshold must be a finite number > 0");
}

// w [rows, cols] -> t = w^T [cols, rows], elements copied as stored (any dtype).
template <class Element>
void transposeInto(const Element* w, int64_t rows, int64_t cols, Element* t) {
  forEachInTiles(rows, cols, [&](int64_t r, int64_t c) { t[c * rows + r] = w[r * cols + c]; });
}

}  // namespace

SpikingSite::SpikingSite(const ModelConfig& c, SpikingParams params) : params_(std::move(params)), ffn_(c.ffnSize) {
  const SpikingParams& p = params_;
  require(p.levels >= 1 && p.levels <= 65536, "levels must be in 1..65536");
  require(p.timesteps >= 1 && p.timesteps <= kMaxTimesteps, "timesteps must be in 1.." + std::to_string(kMaxTimesteps));
  if (p.scope == SpikingScope::All) {
    checkSites(c, p);
    return;
  }
  require(static_cast<int64_t>(p.lambdas.size()) == c.numLayers,
          std::to_string(p.lambdas.size()) + " lambdas for " + std::to_string(c.numLayers) + " layers");
  require(allFinite(p.lambdas, true), "every lambda must be a finite number > 0");
  require(p.neurons.empty() || static_cast<int64_t>(p.neurons.size()) == c.numLayers,
          std::to_string(p.neurons.size()) + " neuron layers for " + std::to_string(c.numLayers) + " layers");
  for (size_t l = 0; l < p.neurons.size(); ++l) {
    const NeuronValues& n = p.neurons[l];
    const std::string name = "layer " + std::to_string(l) + " neurons: ";
    const size_t size = n.threshold.size();
    require(n.positions >= 0, name + "positions must be >= 0");
    require(n.positions > 0 ? static_cast<int64_t>(size) == n.positions * c.ffnSize
                            : size == 1 || static_cast<int64_t>(size) == c.ffnSize,
            name + std::to_string(size) + " thresholds do not fit [1], [" + std::to_string(c.ffnSize) +
                "] or [positions, " + std::to_string(c.ffnSize) + "]");
    require(n.v0.size() == size, name + "v0 and threshold differ in size");
    require(allFinite(n.threshold, true), name + "every threshold must be a finite number > 0");
    require(allFinite(n.v0, false), name + "every v0 must be finite");
  }
  for (const float lambda : p.lambdas) {
    uncalibrated_.push_back(lambda);
    uncalibrated_.push_back(lambda / 2);
  }
}

SpikingSite::~SpikingSite() = default;

spiking::SiteQuantiser SpikingSite::quantiser(int64_t layer, Site site, int levels) const {
  // GPT-2's and OPT's FFN site (before gelu_new / ReLU) is unsigned; LLaMA's product and every other site signed.
  if (site == Site::HeadIn) return {params_.headIn.data(), true, levels, true};
  const std::vector<float>& lambda = params_.sites[layer][int(site)];
  const bool signedSite = site != Site::Ffn || params_.signedSpikes;
  return {lambda.data(), lambda.size() > 1, levels, signedSite};
}

spiking::Qcfs SpikingSite::qcfs(int64_t layer) const {
  return spiking::Qcfs{params_.lambdas[layer], params_.levels, params_.signedSpikes};
}

spiking::IfNeuron SpikingSite::neuron(int64_t layer) const {
  using namespace spiking;
  if (params_.neurons.empty()) {
    const float* theta = &uncalibrated_[2 * layer];
    return IfNeuron{layerParam(theta), layerParam(theta + 1), params_.signedSpikes};
  }
  const NeuronValues& n = params_.neurons[layer];
  if (n.positions > 0) {
    const int positions = static_cast<int>(n.positions);
    const size_t last = static_cast<size_t>(n.positions - 1) * ffn_;
    return IfNeuron{positionParam(n.threshold.data(), positions, n.threshold.data() + last),
                    positionParam(n.v0.data(), positions, n.v0.data() + last), params_.signedSpikes};
  }
  if (n.threshold.size() == 1) {
    return IfNeuron{layerParam(n.threshold.data()), layerParam(n.v0.data()), params_.signedSpikes};
  }
  return IfNeuron{neuronParam(n.threshold.data()), neuronParam(n.v0.data()), params_.signedSpikes};
}

WeightView SpikingSite::transposedDown(const Model& model, int64_t layer) const {
  std::call_once(transposeOnce_, [&] {
    const int64_t h = model.config.hiddenSize, f = model.config.ffnSize;
    for (const LayerWeights& L : model.layers) {
      ByteVector t(f * h * dtypeSize(L.down.dtype));
      if (L.down.dtype == DType::F32) {
        transposeInto(L.down.as<float>(), h, f, reinterpret_cast<float*>(t.data()));
      } else {
        transposeInto(L.down.as<uint16_t>(), h, f, reinterpret_cast<uint16_t*>(t.data()));
      }
      downT_.push_back(std::move(t));
    }
  });
  return {downT_[layer].data(), model.layers[layer].down.dtype};
}

const spiking::cuda::DeviceFfn* SpikingSite::gpu(const Model& model, std::string& why) const {
  std::call_once(gpuOnce_, [&] {
    const CudaStatus cuda = probeCuda();
    if (!cuda.usable) {
      gpuWhy_ = "no usable GPU: " + cuda.reason;
      return;
    }
    try {
      std::vector<spiking::cuda::FfnLayer> layers;
      for (int64_t l = 0; l < model.config.numLayers; ++l) {
        const spiking::IfNeuron nr = neuron(l);
        const LayerWeights& L = model.layers[l];
        layers.push_back({spiking::SpikeLinear{transposedDown(model, l), L.downB.f32(),
                                               static_cast<int>(model.config.hiddenSize), nr.theta},
                          nr});
      }
      gpu_ = std::make_unique<spiking::cuda::DeviceFfn>(layers, static_cast<int>(ffn_));
    } catch (const std::exception& e) {
      gpuWhy_ = std::string("the GPU could not take the model: ") + e.what();
    }
  });
  if (!gpu_) why = gpuWhy_;
  return gpu_.get();
}

}  // namespace fas

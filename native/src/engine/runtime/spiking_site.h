// A converted model's spiking FFN site (fas-method.md sections 2, 3 and 7): each layer's QCFS lambda,
// the quantisation levels, and the IF neurons that stand in for QCFS in snn mode. Attached to a
// Model (Model::spiking) when it is loaded with spiking parameters; read-only afterwards, except for
// what snn mode builds on first use.
#pragma once
#include <array>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "engine/aligned.h"
#include "engine/model/config.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/weight_view.h"
#include "spiking/neuron_param.h"
#include "spiking/qcfs.h"
#include "spiking/site_quantiser.h"

namespace fas {

struct Model;

namespace spiking::cuda {
class DeviceFfn;
}

// One layer's thresholds and initial potentials as spiking.safetensors stores them: one value,
// one per neuron ([ffn]) or one per (position, neuron) ([positions, ffn]).
struct NeuronValues {
  std::vector<float> threshold, v0;
  int64_t positions = 0;  // > 0: [positions, ffn]; 0: [1] or [ffn], told apart by the size
};

// fas-method.md section 9. Scope "ffn": the FAS paper's recipe, spikes at the FFN site only.
// Scope "all": a quantiser with per-channel thresholds at every input of a matrix product, run with
// layer encoding (one pass per token from spike counts).
enum class SpikingScope { Ffn, All };

// A layer's thresholds per site, indexed by Site: [width], the FFN site's [1] or [ffn].
using LayerSiteLambdas = std::array<std::vector<float>, kLayerSites>;

struct SpikingParams {
  SpikingScope scope = SpikingScope::Ffn;
  int levels = 8;                       // L
  bool signedSpikes = false;            // signed QCFS and bipolar neurons (LLaMA's signed gated product)
  int timesteps = 8;                    // T used when a snn run does not choose one
  std::vector<float> lambdas;           // scope ffn: one per layer, > 0
  std::vector<LayerSiteLambdas> sites;  // scope all: one per layer
  std::vector<float> headIn;            // scope all: [hidden]
  std::vector<NeuronValues> neurons;    // one per layer once calibrated; empty: theta = lambda, v0 = theta / 2
  bool preferCuda = false;              // snn mode: run the neurons and the down projection on the GPU when usable
};

class SpikingSite {
 public:
  // Checks the parameters against the config; throws std::invalid_argument naming the first bad one.
  SpikingSite(const ModelConfig& config, SpikingParams params);
  ~SpikingSite();

  const SpikingParams& params() const { return params_; }
  bool allScope() const { return params_.scope == SpikingScope::All; }
  // Scope all: the quantiser of a layer's site (HeadIn ignores the layer) at `levels` levels.
  spiking::SiteQuantiser quantiser(int64_t layer, Site site, int levels) const;
  spiking::Qcfs qcfs(int64_t layer) const;
  // Per-position values hold for positions below their count; later positions use the last row.
  spiking::IfNeuron neuron(int64_t layer) const;
  // The down projection transposed, Wt [ffn, hidden] in the model's dtype, for the spike-driven
  // layer. Built for every layer on the first call (snn mode), so ann and qcfs runs never hold the copy.
  WeightView transposedDown(const Model& model, int64_t layer) const;
  // The site's weights on the GPU (for preferCuda), uploaded on the first call; null with `why` set
  // when there is no usable GPU or the upload failed.
  const spiking::cuda::DeviceFfn* gpu(const Model& model, std::string& why) const;

 private:
  SpikingParams params_;
  int64_t ffn_;
  std::vector<float> uncalibrated_;  // per layer: theta = lambda, v0 = lambda / 2

  mutable std::once_flag transposeOnce_;
  mutable std::vector<ByteVector> downT_;
  mutable std::once_flag gpuOnce_;
  mutable std::unique_ptr<spiking::cuda::DeviceFfn> gpu_;
  mutable std::string gpuWhy_;
};

}  // namespace fas

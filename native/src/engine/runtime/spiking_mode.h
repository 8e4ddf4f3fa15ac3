// How a forward pass treats the FFN activation site (fas-method.md sections 2 and 3):
//   Ann:  the model's own activation;
//   Qcfs: QCFS with each layer's lambda and L levels (two-sided for a signed site);
//   Snn:  IF neurons over T timesteps, T being a batch dimension of every other (stateless) op.
#pragma once

namespace fas {

enum class FfnMode { Ann, Qcfs, Snn };

constexpr int kMaxTimesteps = 1024;

// The sites of scope "all" (fas-method.md section 9), in the order a layer runs them; HeadIn is the
// final norm's output, once per model.
enum class Site { AttnIn, Q, V, AttnOut, FfnIn, Ffn, HeadIn };
constexpr int kLayerSites = 6;  // AttnIn .. Ffn, each layer's
constexpr int kSiteCount = 7;

// The spiking.safetensors name of a site.
inline const char* siteName(Site site) {
  switch (site) {
    case Site::AttnIn: return "attn_in";
    case Site::Q: return "q";
    case Site::V: return "v";
    case Site::AttnOut: return "attn_out";
    case Site::FfnIn: return "ffn_in";
    case Site::Ffn: return "qcfs";
    case Site::HeadIn: break;
  }
  return "head_in";
}

struct RunMode {
  FfnMode ffn = FfnMode::Ann;
  int timesteps = 1;         // T, 1..kMaxTimesteps; used by Snn only
  bool neuronRates = false;  // Snn: also count every neuron's spikes (RunStats::neuronSpikes)
  // Set from the model (modeFor in forward.h): a scope "all" model runs every matrix product from
  // layer-encoded spike counts, one pass per token whatever T (fas-method.md section 9).
  bool layerEncoding = false;

  // How many copies of each sequence run side by side: T in snn mode of the FFN scope, else 1.
  int copies() const { return ffn == FfnMode::Snn && !layerEncoding ? timesteps : 1; }
  // The quantisation levels of every site in scope "all": L in qcfs mode, T in snn mode.
  int siteLevels(int L) const { return ffn == FfnMode::Snn ? timesteps : L; }
};

}  // namespace fas

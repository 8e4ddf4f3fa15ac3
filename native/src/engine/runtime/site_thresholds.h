// Starting thresholds of the fully spike-driven scope from activation statistics (fas-method.md
// section 9): run the model as an ANN over some text and take, for every channel of every site, a
// high percentile of |x| (e.g. the 99.9th), so that about that fraction of the values fall inside
// [-lambda, lambda]. Stage 1 starts from them; the bench uses them for representative firing.
#pragma once
#include <cstdint>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/spiking_site.h"
#include "engine/threadpool.h"

namespace fas {

struct SiteThresholds {
  std::vector<LayerSiteLambdas> sites;  // per layer, the FFN site per neuron ([ffn])
  std::vector<float> headIn;            // [hidden]
};

// Thresholds are at least kMinSiteThreshold (a channel that never moves would otherwise get 0).
constexpr float kMinSiteThreshold = 1e-3f;

// ids [batch, seqLen]; percentile in (0, 1]. Throws std::invalid_argument for bad ids or lengths.
SiteThresholds siteThresholds(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen,
                              double percentile);

}  // namespace fas

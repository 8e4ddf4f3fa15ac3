#include "engine/runtime/site_thresholds.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "engine/aligned.h"
#include "engine/runtime/forward.h"

namespace fas {

namespace {

// The k largest |x| seen by each channel of one site: the smallest of them is the percentile.
class TopK {
 public:
  TopK(int64_t width, int64_t k) : k_(k), values_(width * k, -1.0f) {}

  void add(const float* x, int64_t rows, int64_t width) {
    for (int64_t r = 0; r < rows; ++r) {
      for (int64_t c = 0; c < width; ++c) {
        float* slots = values_.data() + c * k_;
        float* low = std::min_element(slots, slots + k_);
        const float v = std::fabs(x[r * width + c]);
        if (v > *low) *low = v;
      }
    }
  }

  std::vector<float> thresholds() const {
    const int64_t width = int64_t(values_.size()) / k_;
    std::vector<float> out(width);
    for (int64_t c = 0; c < width; ++c) {
      const float* slots = values_.data() + c * k_;
      out[c] = std::max(*std::min_element(slots, slots + k_), kMinSiteThreshold);
    }
    return out;
  }

 private:
  int64_t k_;
  std::vector<float> values_;
};

}  // namespace

SiteThresholds siteThresholds(const Model& model, ThreadPool& pool, const int32_t* ids, int64_t batch, int64_t seqLen,
                              double percentile) {
  if (!(percentile > 0.0 && percentile <= 1.0)) throw std::invalid_argument("percentile must be in (0, 1]");
  if (batch < 1 || seqLen < 1) throw std::invalid_argument("site thresholds need at least one token");
  const ModelConfig& c = model.config;
  const int64_t n = batch * seqLen;
  // The value of rank ceil(p * n) in ascending order is the k-th largest.
  const int64_t k = std::max<int64_t>(1, n - int64_t(std::ceil(percentile * double(n))) + 1);
  const int64_t widths[kLayerSites] = {c.hiddenSize, c.qDim(), c.kvDim(), c.qDim(), c.hiddenSize, c.ffnSize};
  std::vector<TopK> seen;
  for (int64_t l = 0; l < c.numLayers; ++l) {
    for (int s = 0; s < kLayerSites; ++s) seen.emplace_back(widths[s], k);
  }
  TopK head(c.hiddenSize, k);
  const SiteTrace trace = [&](int64_t layer, Site site, const float* x, const int32_t*, int64_t rows, int64_t width) {
    (site == Site::HeadIn ? head : seen[layer * kLayerSites + int(site)]).add(x, rows, width);
  };
  FloatVector kc(seqLen * c.kvDim()), vc(kc.size());
  const std::vector<KvView> kv(c.numLayers, KvView{kc.data(), vc.data(), seqLen});
  std::vector<float> logits(seqLen * c.vocabSize);
  for (int64_t b = 0; b < batch; ++b) {
    ForwardArgs args;
    args.ids = ids + b * seqLen;
    args.seqLen = seqLen;
    args.kv = kv.data();
    args.siteTrace = &trace;
    forward(model, pool, args, logits.data());
  }
  SiteThresholds out;
  for (int64_t l = 0; l < c.numLayers; ++l) {
    LayerSiteLambdas layer;
    for (int s = 0; s < kLayerSites; ++s) layer[s] = seen[l * kLayerSites + s].thresholds();
    out.sites.push_back(std::move(layer));
  }
  out.headIn = head.thresholds();
  return out;
}

}  // namespace fas

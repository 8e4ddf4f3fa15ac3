// The fully spike-driven scope at run time (fas-method.md section 9): every input of a matrix
// product goes through its site's quantiser, L levels in qcfs mode and T in snn mode, where the
// counts are those of layer-encoded IF neurons; the product after a site is computed from its
// counts, event-driven when they are sparse and dense otherwise (the cost model of
// spiking::preferEventCounts). One pass per token whatever T: the counts are the sufficient
// statistic of the layer encoding.
#pragma once
#include <cstdint>
#include <functional>
#include <vector>

#include "engine/model/model.h"
#include "engine/runtime/spiking_mode.h"
#include "engine/runtime/spiking_stats.h"
#include "engine/threadpool.h"
#include "spiking/site_quantiser.h"

namespace fas {

// Sees every site's input [rows, width] and, in scope all, the counts it produced (null in a run
// without the quantisers: activation statistics, tests).
using SiteTrace = std::function<void(int64_t layer, Site site, const float* input, const int32_t* counts, int64_t rows,
                                     int64_t width)>;

class SpikeDrivenSites {
 public:
  // The model must be a scope all model (see checkMode); stats and trace may be null.
  SpikeDrivenSites(const Model& model, const RunMode& mode, RunStats* stats, const SiteTrace* trace);

  // x [rows, width] -> its quantised values in place (lambda * count / levels); the counts stay for
  // the products that follow. rowAbs (optional, [rows]): each row's sum of |count|.
  void quantise(ThreadPool& pool, int64_t layer, Site site, float* x, int64_t rows, int64_t width,
                double* rowAbs = nullptr);
  // y [rows, out] = x W^T + b for x the last quantised site (its values), computed from its counts;
  // counts |count| x out ACs for that site. The event-driven form reads F32 weights; 16-bit ones
  // always take the dense product (the same values).
  void linear(ThreadPool& pool, const float* x, WeightView w, const float* b, float* y, int64_t out);
  // ACs of the attention products (the caller knows which keys each query attends).
  void addAcs(Site site, double acs);
  int levels() const { return levels_; }
  spiking::SiteQuantiser quantiser(int64_t layer, Site site) const;

 private:
  const Model& m_;
  const int levels_;
  const bool countOps_;  // snn mode: the ACs of the spike-driven products
  RunStats* stats_;
  const SiteTrace* trace_;
  std::vector<int32_t> counts_;
  std::vector<float> input_;  // the site's input, for the trace
  // The last quantised site.
  Site site_ = Site::AttnIn;
  spiking::SiteQuantiser q_;
  int64_t rows_ = 0, width_ = 0;
  spiking::SiteTally tally_;
};

}  // namespace fas

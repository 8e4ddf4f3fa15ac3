#include "engine/runtime/spike_sites.h"

#include <algorithm>
#include <atomic>
#include <mutex>

#include "engine/ops/matmul.h"
#include "engine/runtime/spiking_site.h"

namespace fas {

namespace {

// A site this small (a decoded token's: one row of at most a few thousand values) is quantised on the
// calling thread: the work takes microseconds, less than waking the pool's workers and waiting for
// them, which on a loaded machine can take far longer (and split by rows, one row went to a worker).
constexpr int64_t kInlineValues = int64_t(1) << 14;

}  // namespace

SpikeDrivenSites::SpikeDrivenSites(const Model& model, const RunMode& mode, RunStats* stats, const SiteTrace* trace)
    : m_(model), levels_(mode.siteLevels(model.spiking->params().levels)), countOps_(mode.ffn == FfnMode::Snn),
      stats_(stats), trace_(trace) {
  if (!stats_) return;
  stats_->siteLevels = levels_;
  if (countOps_ && model.spiking->params().preferCuda) {
    stats_->gpuNote = "the fully spike-driven scope runs on the CPU; its GPU kernels are not built yet";
  }
  if (stats_->sites.empty()) stats_->sites.resize(model.config.numLayers * kLayerSites);
}

spiking::SiteQuantiser SpikeDrivenSites::quantiser(int64_t layer, Site site) const {
  return m_.spiking->quantiser(layer, site, levels_);
}

void SpikeDrivenSites::quantise(ThreadPool& pool, int64_t layer, Site site, float* x, int64_t rows, int64_t width,
                                double* rowAbs) {
  site_ = site;
  q_ = quantiser(layer, site);
  rows_ = rows;
  width_ = width;
  counts_.resize(rows * width);
  if (trace_) input_.assign(x, x + rows * width);
  if (rows * width <= kInlineValues) {
    tally_ = spiking::quantiseSite(x, counts_.data(), rowAbs, rows, width, q_);
  } else {
    std::mutex merge;
    tally_ = {};
    pool.run([&](int ith, int nth) {
      const spiking::SiteTally t = spiking::quantiseSite(x, counts_.data(), rowAbs, rows, width, q_, ith, nth);
      std::lock_guard<std::mutex> lock(merge);
      tally_ += t;
    });
  }
  if (trace_) (*trace_)(layer, site, input_.data(), counts_.data(), rows, width);
  if (!stats_) return;
  if (site == Site::HeadIn) {
    stats_->headIn += tally_;
  } else {
    stats_->sites[layer * kLayerSites + int(site)] += tally_;
  }
}

void SpikeDrivenSites::linear(ThreadPool& pool, const float* x, WeightView w, const float* b, float* y, int64_t out) {
  const double nonzero = tally_.values > 0 ? double(tally_.nonzero) / double(tally_.values) : 0.0;
  const bool event = spiking::preferEventCounts(nonzero, rows_);
  if (event) {
    pool.run([&](int ith, int nth) {
      spiking::countLinearEvent(counts_.data(), rows_, width_, q_, w, b, out, y, ith, nth);
    });
  } else {
    ops::linear(pool, x, w, b, y, rows_, width_, out);
  }
  if (!stats_) return;
  ++(event ? stats_->eventCalls : stats_->denseCalls);
  addAcs(site_, tally_.absCount * double(out));
}

void SpikeDrivenSites::addAcs(Site site, double acs) {
  if (!stats_ || !countOps_) return;
  stats_->siteAcs[int(site)] += acs;
  stats_->ops.acs += acs;
}

}  // namespace fas

#include <cstdlib>
#include <random>
#include <vector>

#include "engine/threadpool.h"
#include "spiking/if_neuron.h"
#include "test.h"

using namespace fas::spiking;

namespace {

// The count the method promises for constant input: clip(floor(T*x/theta + 0.5), lo, T).
int expectedCount(double x, double theta, int T, bool sgn) {
  const double k = std::floor(T * x / theta + 0.5);
  return int(std::min(std::max(k, sgn ? -double(T) : 0.0), double(T)));
}

// Constant input x[i] at every timestep of one row.
std::vector<float> constantInput(const std::vector<float>& values, int T) {
  std::vector<float> x;
  for (int t = 0; t < T; ++t) x.insert(x.end(), values.begin(), values.end());
  return x;
}

}  // namespace

TEST(spiking_if_constant_input_reproduces_qcfs_exactly) {
  const int T = 8;  // T = L
  for (bool sgn : {false, true}) {
    for (float theta : {1.0f, 0.5f, 4.0f}) {
      // A grid of quarter steps theta / (4T): every tie (j + 0.5) * theta / T, 0, +-theta and beyond.
      std::vector<float> xs;
      for (int k = -6 * T; k <= 6 * T; ++k) xs.push_back(theta * float(k) / float(4 * T));
      const SpikeShape sh{T, 1, int(xs.size()), 0};
      const std::vector<float> x = constantInput(xs, T);
      const float v0 = theta / 2;
      std::vector<int32_t> counts(xs.size());
      std::vector<int8_t> spikes(sh.size());
      const IfNeuron nr{layerParam(&theta), layerParam(&v0), sgn};
      ifForward(x.data(), sh, nr, {spikes.data(), nullptr, counts.data()});
      for (size_t i = 0; i < xs.size(); ++i) CHECK(counts[i] == expectedCount(xs[i], theta, T, sgn));
    }
  }
}

TEST(spiking_if_count_formula_holds_for_random_inputs_and_other_T) {
  std::mt19937 rng(11);
  std::uniform_real_distribution<double> U(-1.5, 1.5);
  for (int T : {1, 4, 8, 16, 32}) {
    for (bool sgn : {false, true}) {
      const float theta = 0.7f, v0 = 0.35f;
      std::vector<float> xs;
      while (xs.size() < 300) {
        const float x = float(U(rng));
        const double z = T * double(x) / theta + 0.5;
        if (std::fabs(z - std::round(z)) > 1e-3) xs.push_back(x);  // float rounding decides exact ties
      }
      const SpikeShape sh{T, 1, int(xs.size()), 0};
      const std::vector<float> x = constantInput(xs, T);
      std::vector<int32_t> counts(xs.size());
      ifForward(x.data(), sh, IfNeuron{layerParam(&theta), layerParam(&v0), sgn}, {nullptr, nullptr, counts.data()});
      for (size_t i = 0; i < xs.size(); ++i) CHECK(counts[i] == expectedCount(xs[i], theta, T, sgn));
    }
  }
}

TEST(spiking_if_spikes_counts_and_mean_agree_and_stay_within_T) {
  std::mt19937 rng(5);
  std::normal_distribution<float> N(0.0f, 3.0f);  // large inputs: saturation both ways
  const SpikeShape sh{6, 3, 50, 0};
  std::vector<float> x(sh.size());
  for (auto& v : x) v = N(rng);
  const float theta = 0.8f, v0 = 0.4f;
  for (bool sgn : {false, true}) {
    std::vector<int8_t> spikes(sh.size());
    std::vector<int32_t> counts(sh.rowElems());
    std::vector<float> mean(sh.rowElems());
    const IfNeuron nr{layerParam(&theta), layerParam(&v0), sgn};
    ifForward(x.data(), sh, nr, {spikes.data(), mean.data(), counts.data()});
    for (size_t e = 0; e < sh.rowElems(); ++e) {
      int sum = 0;
      for (int t = 0; t < sh.T; ++t) {
        const int s = spikes[t * sh.rowElems() + e];
        CHECK(s == 0 || s == 1 || (sgn && s == -1));
        sum += s;
      }
      CHECK(sum == counts[e]);
      CHECK(std::abs(counts[e]) <= sh.T);
      CHECK_NEAR(mean[e], counts[e] * theta / sh.T, 1e-6);
    }
  }
}

TEST(spiking_if_per_neuron_and_per_position_parameters_are_honoured) {
  // 4 rows at positions 1..4; per-position values for positions 0..2, the fallback beyond.
  const int T = 8, n = 3, P = 3;
  const SpikeShape sh{T, 4, n, 1};
  const std::vector<float> thetaN = {1.0f, 2.0f, 0.5f};
  std::vector<float> thetaP(P * n), v0P(P * n), v0N(n);
  for (int p = 0; p < P; ++p)
    for (int i = 0; i < n; ++i) thetaP[p * n + i] = 0.25f * float(1 + p + i);
  for (int i = 0; i < n; ++i) v0N[i] = thetaN[i] / 2;
  for (int p = 0; p < P; ++p)
    for (int i = 0; i < n; ++i) v0P[p * n + i] = p == 1 ? 0.0f : thetaP[p * n + i] / 2;  // v0 = 0 at position 1
  std::vector<float> row(sh.rowElems());
  for (size_t e = 0; e < row.size(); ++e) row[e] = 0.1f + 0.13f * float(e);
  const std::vector<float> x = constantInput(row, T);
  std::vector<int32_t> counts(sh.rowElems());

  ifForward(x.data(), sh, IfNeuron{neuronParam(thetaN.data()), neuronParam(v0N.data()), false},
            {nullptr, nullptr, counts.data()});
  for (int r = 0; r < sh.rows; ++r)
    for (int i = 0; i < n; ++i) CHECK(counts[r * n + i] == expectedCount(row[r * n + i], thetaN[i], T, false));

  ifForward(x.data(), sh,
            IfNeuron{positionParam(thetaP.data(), P, thetaN.data()), positionParam(v0P.data(), P, v0N.data()), false},
            {nullptr, nullptr, counts.data()});
  for (int r = 0; r < sh.rows; ++r) {
    const int pos = sh.pos0 + r;
    for (int i = 0; i < n; ++i) {
      const float th = pos < P ? thetaP[pos * n + i] : thetaN[i];
      const double xv = row[r * n + i];
      // With v0 = 0 the rounding becomes a floor: count = clip(floor(T*x/theta), 0, T).
      const int want = pos == 1 ? int(std::min(std::floor(T * xv / th), double(T))) : expectedCount(xv, th, T, false);
      CHECK(counts[r * n + i] == want);
    }
  }
}

TEST(spiking_if_fast_matches_reference_for_every_granularity_and_thread_count) {
  std::mt19937 rng(2);
  std::uniform_real_distribution<float> U(-1.0f, 2.0f), Th(0.3f, 1.5f);
  const SpikeShape sh{5, 4, 150, 2};  // 150 neurons: a partial chunk and uneven thread slices
  const int P = 4;
  std::vector<float> x(sh.size()), thN(sh.n), v0N(sh.n), thP(P * sh.n), v0P(P * sh.n);
  for (auto& v : x) v = U(rng);
  for (auto* vec : {&thN, &thP})
    for (auto& v : *vec) v = Th(rng);
  for (auto* vec : {&v0N, &v0P})
    for (auto& v : *vec) v = U(rng) * 0.5f;
  const float thL = 0.9f, v0L = 0.45f;
  const IfNeuron variants[] = {
      {layerParam(&thL), layerParam(&v0L), false},
      {neuronParam(thN.data()), neuronParam(v0N.data()), true},
      {positionParam(thP.data(), P, thN.data()), positionParam(v0P.data(), P, v0N.data()), false},
      {positionParam(thP.data(), P, thN.data()), layerParam(&v0L), true},
  };
  for (const IfNeuron& nr : variants) {
    std::vector<int8_t> sRef(sh.size()), s(sh.size());
    std::vector<int32_t> cRef(sh.rowElems()), c(sh.rowElems());
    std::vector<float> mRef(sh.rowElems()), m(sh.rowElems());
    ifForwardRef(x.data(), sh, nr, {sRef.data(), mRef.data(), cRef.data()});
    for (int nth : {1, 2, 3}) {
      fas::ThreadPool pool(nth);
      pool.run([&](int ith, int nt) { ifForward(x.data(), sh, nr, {s.data(), m.data(), c.data()}, ith, nt); });
      CHECK(s == sRef);
      CHECK(c == cRef);
      CHECK(m == mRef);
    }
  }
}

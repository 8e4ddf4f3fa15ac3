#include <random>
#include <vector>

#include "engine/simd.h"
#include "engine/threadpool.h"
#include "isas.h"
#include "spiking/spike_linear.h"
#include "test.h"

using namespace fas::spiking;

namespace {

struct Problem {
  SpikeShape sh;
  int out;
  std::vector<float> Wt, bias, thN, thP;
  std::vector<int8_t> s;
};

// in = 300 and out = 70 cross the input and column blocks; T * rows = 40 crosses the row block.
Problem makeProblem(double rate, bool sgn, unsigned seed, SpikeShape shape = {4, 10, 300, 3}) {
  std::mt19937 rng(seed);
  std::uniform_real_distribution<float> U(-1.0f, 1.0f), R(0.0f, 1.0f);
  Problem p{shape, 70, {}, {}, {}, {}, {}};
  p.Wt.resize(size_t(p.sh.n) * p.out);
  p.bias.resize(p.out);
  p.thN.resize(p.sh.n);
  p.thP.resize(size_t(5) * p.sh.n);
  for (auto* v : {&p.Wt, &p.bias})
    for (auto& w : *v) w = U(rng);
  for (auto* v : {&p.thN, &p.thP})
    for (auto& w : *v) w = 0.5f + R(rng);
  p.s.resize(p.sh.size());
  for (auto& v : p.s) v = R(rng) < rate ? ((sgn && R(rng) < 0.5f) ? -1 : 1) : 0;
  return p;
}

// Event-driven and dense, on 1 to 3 threads and every ISA (the event-driven register block is
// dispatched), against the reference.
void checkAllPaths(const Problem& p, const SpikeLinear& L) {
  const size_t ny = size_t(p.sh.T) * p.sh.rows * p.out;
  std::vector<float> ref(ny), y(ny);
  spikeLinearRef(p.s.data(), p.sh, L, ref.data());
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    for (auto fn : {spikeLinearEvent, spikeLinearDense}) {
      for (int nth : {1, 2, 3}) {
        std::fill(y.begin(), y.end(), -99.0f);
        fas::ThreadPool(nth).run([&](int ith, int nt) { fn(p.s.data(), p.sh, L, y.data(), ith, nt); });
        for (size_t k = 0; k < ny; ++k) CHECK_NEAR(y[k], ref[k], 1e-4 * (1 + std::fabs(ref[k])));
      }
    }
  }
}

}  // namespace

TEST(spiking_linear_reference_hand_computed) {
  // Wt = [[1, 2], [3, 4]] (in 2, out 2), theta = (0.5, 2), bias (10, 20), spikes (1, -1).
  const float Wt[4] = {1, 2, 3, 4}, bias[2] = {10, 20}, theta[2] = {0.5f, 2.0f};
  const int8_t s[2] = {1, -1};
  float y[2];
  spikeLinearRef(s, SpikeShape{1, 1, 2, 0}, SpikeLinear{Wt, bias, 2, neuronParam(theta)}, y);
  CHECK(y[0] == 10 + 0.5f * 1 - 2 * 3);
  CHECK(y[1] == 20 + 0.5f * 2 - 2 * 4);
}

TEST(spiking_linear_event_equals_dense_for_random_spikes) {
  for (double rate : {0.05, 0.3, 0.8}) {
    const Problem p = makeProblem(rate, false, unsigned(rate * 100));
    checkAllPaths(p, SpikeLinear{p.Wt.data(), p.bias.data(), p.out, neuronParam(p.thN.data())});
  }
}

TEST(spiking_linear_event_equals_dense_for_signed_spikes_and_every_granularity) {
  const Problem p = makeProblem(0.3, true, 21);
  const float thL = 0.75f;
  checkAllPaths(p, SpikeLinear{p.Wt.data(), p.bias.data(), p.out, layerParam(&thL)});
  checkAllPaths(p, SpikeLinear{p.Wt.data(), nullptr, p.out, neuronParam(p.thN.data())});
  // Rows sit at positions 3..12: positions 3 and 4 use per-position values, the rest the fallback.
  checkAllPaths(p, SpikeLinear{p.Wt.data(), p.bias.data(), p.out, positionParam(p.thP.data(), 5, p.thN.data())});
}

TEST(spiking_linear_a_decoded_token_matches_the_reference) {
  // One token's T = 8 rows (fewer than the threads' share in some splits), one row, and 4 x 4.
  for (const SpikeShape shape : {SpikeShape{8, 1, 300, 3}, SpikeShape{1, 1, 300, 0}, SpikeShape{4, 4, 300, 2}}) {
    const Problem p = makeProblem(0.2, true, 33, shape);
    const float thL = 0.75f;
    checkAllPaths(p, SpikeLinear{p.Wt.data(), p.bias.data(), p.out, neuronParam(p.thN.data())});
    checkAllPaths(p, SpikeLinear{p.Wt.data(), nullptr, p.out, layerParam(&thL)});
    checkAllPaths(p, SpikeLinear{p.Wt.data(), p.bias.data(), p.out, positionParam(p.thP.data(), 5, p.thN.data())});
  }
}

TEST(spiking_linear_all_zero_gives_the_bias_and_all_one_the_column_sums) {
  Problem p = makeProblem(0.0, false, 1);
  const SpikeLinear L{p.Wt.data(), p.bias.data(), p.out, neuronParam(p.thN.data())};
  const size_t ny = size_t(p.sh.T) * p.sh.rows * p.out;
  std::vector<float> y(ny);
  for (auto fn : {spikeLinearEvent, spikeLinearDense}) {
    fn(p.s.data(), p.sh, L, y.data(), 0, 1);
    for (size_t k = 0; k < ny; ++k) CHECK(y[k] == p.bias[k % p.out]);
  }
  std::fill(p.s.begin(), p.s.end(), int8_t(1));
  std::vector<double> full(p.out);
  for (int j = 0; j < p.out; ++j) {
    full[j] = p.bias[j];
    for (int i = 0; i < p.sh.n; ++i) full[j] += double(p.thN[i]) * p.Wt[size_t(i) * p.out + j];
  }
  for (auto fn : {spikeLinearEvent, spikeLinearDense}) {
    fn(p.s.data(), p.sh, L, y.data(), 0, 1);
    for (size_t k = 0; k < ny; ++k) CHECK_NEAR(y[k], full[k % p.out], 1e-4 * (1 + std::fabs(full[k % p.out])));
  }
  checkAllPaths(p, L);
}

TEST(spiking_linear_cost_model_prefers_events_at_low_rates) {
  CHECK(preferEventDriven(0.0));
  CHECK(preferEventDriven(0.1));
  CHECK(preferEventDriven(0.5));
  CHECK(!preferEventDriven(0.95));
  CHECK(!preferEventDriven(1.0));
}

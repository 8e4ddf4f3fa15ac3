#include <random>
#include <vector>

#include "engine/threadpool.h"
#include "spiking/if_surrogate.h"
#include "test.h"

using namespace fas::spiking;

namespace {

// A scalar reverse-mode tape, independent of the hand-derived backward in if_surrogate.cpp: it
// records the forward graph and differentiates it mechanically.
class Tape {
 public:
  // Hard: spikes are Heaviside steps with the surrogate derivative, values rounded to float like the
  // kernels. Smooth: spikes are the surrogate's integral, so the graph is differentiable and finite
  // differences check the tape itself.
  explicit Tape(bool hard) : hard_(hard) {}

  int leaf(double v) { return push(v, -1, 0, -1, 0); }
  int add(int a, int b) { return push(round(val(a) + val(b)), a, 1, b, 1); }
  int sub(int a, int b) { return push(round(val(a) - val(b)), a, 1, b, -1); }
  int mul(int a, int b) { return push(round(val(a) * val(b)), a, val(b), b, val(a)); }
  // H(z) (z > 0 when strict, z >= 0 otherwise), derivative sg(z).
  int step(int z, bool strict) {
    const double v = val(z);
    const double s = hard_ ? ((strict ? v > 0 : v >= 0) ? 1.0 : 0.0) : smoothStep(v);
    return push(s, z, surrogate(float(v)), -1, 0);
  }
  double val(int i) const { return nodes_[i].value; }

  // d root / d node for every node.
  std::vector<double> grad(int root) const {
    std::vector<double> g(nodes_.size(), 0.0);
    g[root] = 1.0;
    for (int i = root; i >= 0; --i) {
      const Node& n = nodes_[i];
      if (n.a >= 0) g[n.a] += g[i] * n.da;
      if (n.b >= 0) g[n.b] += g[i] * n.db;
    }
    return g;
  }

 private:
  struct Node {
    double value;
    int a;
    double da;
    int b;
    double db;
  };
  static double smoothStep(double z) {  // integral of the triangle of width 1
    if (z <= -1) return 0;
    if (z < 0) return (z + 1) * (z + 1) / 2;
    if (z < 1) return 1 - (1 - z) * (1 - z) / 2;
    return 1;
  }
  double round(double v) const { return hard_ ? double(float(v)) : v; }
  int push(double v, int a, double da, int b, double db) {
    nodes_.push_back({v, a, da, b, db});
    return int(nodes_.size()) - 1;
  }
  bool hard_;
  std::vector<Node> nodes_;
};

// One neuron over T steps on the tape; returns the loss node sum_t dOut[t] * out_t.
struct NeuronGraph {
  int theta, v0, loss;
  std::vector<int> x;
};

NeuronGraph buildNeuron(Tape& tp, double theta, double v0, const std::vector<double>& x,
                        const std::vector<double>& dOut, bool sgn) {
  NeuronGraph g;
  g.theta = tp.leaf(theta);
  g.v0 = tp.leaf(v0);
  int v = g.v0, loss = tp.leaf(0.0);
  for (size_t t = 0; t < x.size(); ++t) {
    g.x.push_back(tp.leaf(x[t]));
    const int u = tp.add(v, g.x.back());
    int s = tp.step(tp.sub(u, g.theta), false);
    if (sgn) s = tp.sub(s, tp.step(tp.sub(tp.leaf(0.0), u), true));  // -1 when u < 0
    const int out = tp.mul(s, g.theta);
    v = tp.sub(u, out);
    loss = tp.add(loss, tp.mul(tp.leaf(dOut[t]), out));
  }
  g.loss = loss;
  return g;
}

}  // namespace

TEST(spiking_surrogate_hand_checked_tiny_cases) {
  // T = 1: out = theta * H(v0 + x - theta); sg(0.2) = 0.8.
  float theta = 1.0f, v0 = 0.5f, x1 = 0.7f, d1 = 1.0f, dth = 0, dv0 = 0, dx1 = 0;
  ifBackward(&x1, SpikeShape{1, 1, 1, 0}, IfNeuron{layerParam(&theta), layerParam(&v0), false}, {&d1, nullptr},
             {layerGrad(&dth), layerGrad(&dv0), &dx1});
  CHECK_NEAR(dth, 1.0 - 0.8, 1e-6);  // H + theta * (-sg)
  CHECK_NEAR(dv0, 0.8, 1e-6);
  CHECK_NEAR(dx1, 0.8, 1e-6);
  // T = 2, x = (0.7, 0.2), only out_2 matters: u1 = 1.2 fires, u2 = 0.4 does not; sg(u2 - 1) = 0.4.
  // d out2/d v0 = 0.4 * (1 - sg(0.2)) = 0.08; d out2/d theta = 0.4 * (du2/dtheta - 1) = 0.4 * (-0.2 - 1).
  const float x2[2] = {0.7f, 0.2f}, dOut[2] = {0.0f, 1.0f};
  float dx2[2];
  dth = dv0 = 0;
  ifBackward(x2, SpikeShape{2, 1, 1, 0}, IfNeuron{layerParam(&theta), layerParam(&v0), false}, {dOut, nullptr},
             {layerGrad(&dth), layerGrad(&dv0), dx2});
  CHECK_NEAR(dth, -0.48, 1e-6);
  CHECK_NEAR(dv0, 0.08, 1e-6);
  CHECK_NEAR(dx2[0], 0.08, 1e-6);
  CHECK_NEAR(dx2[1], 0.4, 1e-6);
}

TEST(spiking_surrogate_tape_matches_finite_differences_on_the_smooth_neuron) {
  std::mt19937 rng(4);
  std::uniform_real_distribution<double> U(-0.8, 1.6);
  const double h = 1e-6;
  for (bool sgn : {false, true}) {
    for (int trial = 0; trial < 20; ++trial) {
      const int T = 6;
      std::vector<double> x(T), dOut(T);
      for (int t = 0; t < T; ++t) {
        x[t] = U(rng);
        dOut[t] = U(rng);
      }
      const double theta = 0.6 + 0.05 * trial, v0 = theta / 2;
      auto loss = [&](double th, double v, const std::vector<double>& xx) {
        Tape tp(false);
        return tp.val(buildNeuron(tp, th, v, xx, dOut, sgn).loss);
      };
      Tape tp(false);
      const NeuronGraph g = buildNeuron(tp, theta, v0, x, dOut, sgn);
      const std::vector<double> grad = tp.grad(g.loss);
      CHECK_NEAR(grad[g.theta], (loss(theta + h, v0, x) - loss(theta - h, v0, x)) / (2 * h), 1e-5);
      CHECK_NEAR(grad[g.v0], (loss(theta, v0 + h, x) - loss(theta, v0 - h, x)) / (2 * h), 1e-5);
      for (int t = 0; t < T; ++t) {
        std::vector<double> xp = x, xm = x;
        xp[t] += h;
        xm[t] -= h;
        CHECK_NEAR(grad[g.x[t]], (loss(theta, v0, xp) - loss(theta, v0, xm)) / (2 * h), 1e-5);
      }
    }
  }
}

namespace {

// Runs ifBackwardRef and the tape on the same random problem and compares every gradient.
void checkAgainstTape(bool sgn, bool meanUpstream) {
  std::mt19937 rng(sgn * 2 + meanUpstream);
  std::uniform_real_distribution<float> U(-0.6f, 1.4f), Th(0.5f, 1.2f);
  const SpikeShape sh{5, 3, 7, 0};
  std::vector<float> x(sh.size()), dOut(sh.size()), dMean(sh.rowElems()), th(sh.n), v0(sh.n);
  for (auto& v : x) v = U(rng);
  for (auto& v : dOut) v = U(rng);
  for (auto& v : dMean) v = U(rng);
  for (int i = 0; i < sh.n; ++i) {
    th[i] = Th(rng);
    v0[i] = th[i] * U(rng) * 0.5f;
  }
  std::vector<float> gth(sh.n, 0.0f), gv0(sh.n, 0.0f), dx(sh.size());
  const IfUpstream up = meanUpstream ? IfUpstream{nullptr, dMean.data()} : IfUpstream{dOut.data(), nullptr};
  ifBackwardRef(x.data(), sh, IfNeuron{neuronParam(th.data()), neuronParam(v0.data()), sgn}, up,
                {neuronGrad(gth.data()), neuronGrad(gv0.data()), dx.data()});
  std::vector<double> wantTh(sh.n, 0.0), wantV0(sh.n, 0.0);
  for (int r = 0; r < sh.rows; ++r) {
    for (int i = 0; i < sh.n; ++i) {
      const size_t e = size_t(r) * sh.n + i;
      std::vector<double> xs(sh.T), ds(sh.T);
      for (int t = 0; t < sh.T; ++t) {
        xs[t] = x[t * sh.rowElems() + e];
        ds[t] = meanUpstream ? double(dMean[e]) / sh.T : dOut[t * sh.rowElems() + e];
      }
      Tape tp(true);
      const NeuronGraph g = buildNeuron(tp, th[i], v0[i], xs, ds, sgn);
      const std::vector<double> grad = tp.grad(g.loss);
      wantTh[i] += grad[g.theta];
      wantV0[i] += grad[g.v0];
      for (int t = 0; t < sh.T; ++t) CHECK_NEAR(dx[t * sh.rowElems() + e], grad[g.x[t]], 1e-5);
    }
  }
  for (int i = 0; i < sh.n; ++i) {
    CHECK_NEAR(gth[i], wantTh[i], 1e-5);
    CHECK_NEAR(gv0[i], wantV0[i], 1e-5);
  }
}

}  // namespace

TEST(spiking_surrogate_reference_matches_the_tape) {
  for (bool sgn : {false, true})
    for (bool mean : {false, true}) checkAgainstTape(sgn, mean);
}

namespace {

// Gradient buffers per (position, neuron) for P positions, plus the per-neuron fallback beyond.
struct PositionGrads {
  PositionGrads(int P, const SpikeShape& sh)
      : thP(size_t(P) * sh.n), thN(sh.n), v0P(size_t(P) * sh.n), v0N(sh.n), dx(sh.size()), P(P) {}
  IfGrads view() {
    return {positionGrad(thP.data(), P, thN.data()), positionGrad(v0P.data(), P, v0N.data()), dx.data()};
  }
  std::vector<std::vector<float>*> all() { return {&thP, &thN, &v0P, &v0N, &dx}; }
  std::vector<float> thP, thN, v0P, v0N, dx;
  int P;
};

}  // namespace

TEST(spiking_surrogate_fast_matches_reference_for_every_granularity_and_thread_count) {
  std::mt19937 rng(9);
  std::uniform_real_distribution<float> U(-1.0f, 2.0f), Th(0.4f, 1.5f);
  const SpikeShape sh{6, 4, 150, 1};  // positions 1..4
  const int P = 3;
  std::vector<float> x(sh.size()), dOut(sh.size()), thN(sh.n), v0N(sh.n), thP(P * sh.n), v0P(P * sh.n);
  for (auto* vec : {&x, &dOut, &v0N, &v0P})
    for (auto& v : *vec) v = U(rng);
  for (auto* vec : {&thN, &thP})
    for (auto& v : *vec) v = Th(rng);
  for (bool sgn : {false, true}) {
    const IfNeuron nr{positionParam(thP.data(), P, thN.data()), positionParam(v0P.data(), P, v0N.data()), sgn};
    PositionGrads ref(P, sh);
    ifBackwardRef(x.data(), sh, nr, {dOut.data(), nullptr}, ref.view());
    double fallbackMass = 0;
    for (float v : ref.thN) fallbackMass += std::fabs(v);
    CHECK(fallbackMass > 0);  // rows at positions >= P did reach the fallback
    for (int nth : {1, 2, 3}) {
      PositionGrads fast(P, sh);
      const IfGrads g = fast.view();
      fas::ThreadPool pool(nth);
      pool.run([&](int ith, int nt) { ifBackward(x.data(), sh, nr, {dOut.data(), nullptr}, g, ith, nt); });
      const auto want = ref.all(), got = fast.all();
      for (size_t b = 0; b < want.size(); ++b)
        for (size_t k = 0; k < want[b]->size(); ++k)
          CHECK_NEAR((*got[b])[k], (*want[b])[k], 1e-5 * (1 + std::fabs((*want[b])[k])));
    }
  }
}

TEST(spiking_surrogate_per_layer_gradient_is_the_sum_over_neurons) {
  std::mt19937 rng(13);
  std::uniform_real_distribution<float> U(-0.5f, 1.5f);
  const SpikeShape sh{4, 3, 100, 0};
  std::vector<float> x(sh.size());
  std::vector<float> dMean(sh.rowElems());
  for (auto& v : x) v = U(rng);
  for (auto& v : dMean) v = U(rng);
  const float theta = 0.9f, v0 = 0.45f;
  const IfNeuron nr{layerParam(&theta), layerParam(&v0), false};
  std::vector<float> gthN(sh.n, 0.0f), gv0N(sh.n, 0.0f);
  ifBackward(x.data(), sh, nr, {nullptr, dMean.data()}, {neuronGrad(gthN.data()), neuronGrad(gv0N.data()), nullptr});
  double sumTh = 0, sumV0 = 0;
  for (int i = 0; i < sh.n; ++i) {
    sumTh += gthN[i];
    sumV0 += gv0N[i];
  }
  const int nth = 2;
  float gth[nth] = {0, 0}, gv0[nth] = {0, 0};  // one slot per thread, summed afterwards
  fas::ThreadPool(nth).run([&](int ith, int nt) {
    const IfGrads g{layerGrad(&gth[ith]), layerGrad(&gv0[ith]), nullptr};
    ifBackward(x.data(), sh, nr, {nullptr, dMean.data()}, g, ith, nt);
  });
  CHECK_NEAR(gth[0] + gth[1], sumTh, 1e-4 * (1 + std::fabs(sumTh)));
  CHECK_NEAR(gv0[0] + gv0[1], sumV0, 1e-4 * (1 + std::fabs(sumV0)));
}

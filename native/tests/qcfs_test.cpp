#include "spiking/qcfs.h"

#include <random>
#include <vector>

#include "engine/threadpool.h"
#include "test.h"

using namespace fas::spiking;

TEST(qcfs_hand_computed_values) {
  const Qcfs q{2.0f, 8, false};  // steps of lambda / L = 0.25
  CHECK(qcfs(0.0f, q) == 0.0f);
  CHECK(qcfs(0.1f, q) == 0.0f);     // below lambda / (2L) = 0.125
  CHECK(qcfs(0.125f, q) == 0.25f);  // exactly half a step rounds up
  CHECK(qcfs(0.3f, q) == 0.25f);
  CHECK(qcfs(0.4f, q) == 0.5f);
  CHECK(qcfs(1.8f, q) == 1.75f);
  CHECK(qcfs(1.9f, q) == 2.0f);
  CHECK(qcfs(5.0f, q) == 2.0f);
  CHECK(qcfs(-1.0f, q) == 0.0f);
  CHECK(qcfs(-0.3f, q) == 0.0f);
}

TEST(qcfs_signed_hand_computed_values) {
  const Qcfs q{2.0f, 8, true};
  CHECK(qcfs(0.4f, q) == 0.5f);
  CHECK(qcfs(-0.125f, q) == 0.0f);  // z = 0: the tie goes up, to 0
  CHECK(qcfs(-0.13f, q) == -0.25f);
  CHECK(qcfs(-0.3f, q) == -0.25f);
  CHECK(qcfs(-1.9f, q) == -2.0f);
  CHECK(qcfs(-5.0f, q) == -2.0f);
  CHECK(qcfs(5.0f, q) == 2.0f);
}

TEST(qcfs_ste_gradient_hand_computed) {
  const Qcfs q{2.0f, 8, false};
  QcfsGrad g = qcfsGrad(0.3f, q);  // floor(1.7) / 8 - 0.3 / 2
  CHECK(g.dx == 1.0f);
  CHECK_NEAR(g.dlambda, 0.125 - 0.15, 1e-7);
  g = qcfsGrad(3.0f, q);
  CHECK(g.dx == 0.0f && g.dlambda == 1.0f);
  g = qcfsGrad(-1.0f, q);
  CHECK(g.dx == 0.0f && g.dlambda == 0.0f);
  g = qcfsGrad(-3.0f, Qcfs{2.0f, 8, true});
  CHECK(g.dx == 0.0f && g.dlambda == -1.0f);
  g = qcfsGrad(-0.3f, Qcfs{2.0f, 8, true});  // floor(-0.7) / 8 + 0.15
  CHECK(g.dx == 1.0f);
  CHECK_NEAR(g.dlambda, -0.125 + 0.15, 1e-7);
}

// Finite differences of the function the straight-through estimator differentiates: inside the
// range the floor is frozen at its value and the rest varies; in the clipped ranges, of qcfs itself.
TEST(qcfs_gradient_matches_finite_differences) {
  std::mt19937 rng(7);
  std::uniform_real_distribution<double> U(-3.0, 3.0);
  const double h = 1e-4;
  for (bool sgn : {false, true}) {
    const Qcfs q{1.5f, 8, sgn};
    const double lo = sgn ? -1.0 : 0.0;
    int inside = 0, clipped = 0;
    for (int n = 0; n < 400; ++n) {
      const double x = U(rng), lam = q.lambda;
      const double r = x / lam, z = x * q.L / lam + 0.5;
      if (std::fabs(r - 1.0) < 1e-2 || std::fabs(r - lo) < 1e-2) continue;  // range edges
      if (std::fabs(z - std::round(z)) < 1e-2) continue;                    // floor jumps
      const QcfsGrad g = qcfsGrad(float(x), q);
      double dx, dl;
      if (r > lo && r < 1.0) {
        const double k = std::floor(z);
        auto ste = [&](double xx, double ll) { return ll * (k + (xx * q.L / ll + 0.5) - z) / q.L; };
        dx = (ste(x + h, lam) - ste(x - h, lam)) / (2 * h);
        dl = (ste(x, lam + h) - ste(x, lam - h)) / (2 * h);
        ++inside;
      } else {
        auto f = [&](double xx, double ll) { return double(qcfs(float(xx), Qcfs{float(ll), q.L, sgn})); };
        const double hc = 1e-2;  // the function is flat or linear in lambda here: a coarse step is exact
        dx = (f(x + hc, lam) - f(x - hc, lam)) / (2 * hc);
        dl = (f(x, lam + hc) - f(x, lam - hc)) / (2 * hc);
        ++clipped;
      }
      CHECK_NEAR(g.dx, dx, 1e-4);
      CHECK_NEAR(g.dlambda, dl, 1e-4);
    }
    CHECK(inside > 50 && clipped > 50);
  }
}

TEST(qcfs_array_ops_match_the_reference_on_every_thread_count) {
  std::mt19937 rng(3);
  std::uniform_real_distribution<float> U(-4.0f, 4.0f);
  const size_t n = 1000;
  std::vector<float> x(n), dy(n), y(n), dx(n);
  for (size_t i = 0; i < n; ++i) {
    x[i] = U(rng);
    dy[i] = U(rng);
  }
  for (bool sgn : {false, true}) {
    const Qcfs q{1.25f, 8, sgn};
    double expect = 0.0;
    for (size_t i = 0; i < n; ++i) expect += double(dy[i]) * qcfsGrad(x[i], q).dlambda;
    for (int nth : {1, 2, 3}) {
      std::vector<double> partial(nth);
      fas::ThreadPool(nth).run([&](int ith, int nt) {
        qcfsForward(x.data(), y.data(), n, q, ith, nt);
        partial[ith] = qcfsBackward(x.data(), dy.data(), dx.data(), n, q, ith, nt);
      });
      double dlambda = 0.0;
      for (double p : partial) dlambda += p;
      CHECK_NEAR(dlambda, expect, 1e-9 * n);
      for (size_t i = 0; i < n; ++i) {
        CHECK(y[i] == qcfs(x[i], q));
        CHECK(dx[i] == dy[i] * qcfsGrad(x[i], q).dx);
      }
    }
    CHECK_NEAR(qcfsBackward(x.data(), dy.data(), nullptr, n, q), expect, 1e-9 * n);  // dx optional
  }
}

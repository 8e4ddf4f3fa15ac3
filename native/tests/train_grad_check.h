// Helpers shared by the train_*_test.cpp files: random tensors, normalised errors and central finite
// differences in double.
#pragma once
#include <algorithm>
#include <cmath>
#include <cstdint>
#include <functional>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "test.h"

namespace fas::test {

inline std::vector<double> randomVector(int64_t n, std::mt19937& rng, double scale = 1.0) {
  std::normal_distribution<double> normal;
  std::vector<double> v(n);
  for (double& x : v) x = scale * normal(rng);
  return v;
}

// Values exactly representable in float, so a float kernel and a double reference see the same input.
inline std::vector<double> floatExact(std::vector<double> v) {
  for (double& x : v) x = static_cast<float>(x);
  return v;
}

inline std::vector<float> toFloat(const std::vector<double>& v) { return std::vector<float>(v.begin(), v.end()); }

// max |a - b| / max(max |b|, floor): the error relative to the tensor's scale, the floor standing in
// for tensors whose gradient is zero in exact arithmetic.
template <typename A, typename B>
double normalisedError(const std::vector<A>& a, const std::vector<B>& b, double floor = 1e-12) {
  double diff = 0, scale = floor;
  for (size_t i = 0; i < b.size(); ++i) {
    diff = std::max(diff, std::fabs(static_cast<double>(a[i]) - static_cast<double>(b[i])));
    scale = std::max(scale, std::fabs(static_cast<double>(b[i])));
  }
  return diff / scale;
}

// Checks analytic[i] against (loss(x + h e_i) - loss(x - h e_i)) / 2h for the listed indices (all when
// empty): |fd - analytic| <= tol * (1 + |analytic|).
inline void checkFiniteDifferences(const std::string& what, std::vector<double>& x, const std::vector<double>& analytic,
                                   const std::function<double()>& loss, double tol = 1e-6, double h = 1e-6,
                                   std::vector<int64_t> indices = {}) {
  if (indices.empty()) {
    for (int64_t i = 0; i < static_cast<int64_t>(x.size()); ++i) indices.push_back(i);
  }
  for (const int64_t i : indices) {
    const double saved = x[i];
    x[i] = saved + h;
    const double up = loss();
    x[i] = saved - h;
    const double down = loss();
    x[i] = saved;
    const double fd = (up - down) / (2 * h);
    if (!(std::fabs(fd - analytic[i]) <= tol * (1 + std::fabs(analytic[i])))) {
      std::ostringstream os;
      os << what << "[" << i << "]: analytic " << analytic[i] << ", finite difference " << fd;
      throw Failure(os.str());
    }
  }
}

inline double dotProduct(const std::vector<double>& a, const std::vector<double>& b) {
  double s = 0;
  for (size_t i = 0; i < a.size(); ++i) s += a[i] * b[i];
  return s;
}

}  // namespace fas::test

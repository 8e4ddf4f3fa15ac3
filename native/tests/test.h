// A minimal test registry: TEST(name) { CHECK(...); }. main.cpp lists and runs cases by name,
// so test/native.test.ts reports each C++ case as its own vitest test.
#pragma once
#include <cmath>
#include <functional>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace fas::test {

struct Case {
  std::string name;
  std::function<void()> body;
};

inline std::vector<Case>& registry() {
  static std::vector<Case> cases;
  return cases;
}

struct Register {
  Register(const char* name, std::function<void()> body) { registry().push_back({name, std::move(body)}); }
};

struct Failure : std::runtime_error {
  using std::runtime_error::runtime_error;
};

}  // namespace fas::test

#define FAS_CAT2(a, b) a##b
#define FAS_CAT(a, b) FAS_CAT2(a, b)
#define TEST(name)                                                             \
  static void FAS_CAT(test_, name)();                                          \
  static fas::test::Register FAS_CAT(reg_, name)(#name, FAS_CAT(test_, name)); \
  static void FAS_CAT(test_, name)()

#define CHECK(cond)                                                      \
  do {                                                                   \
    if (!(cond)) {                                                       \
      std::ostringstream os_;                                            \
      os_ << __FILE__ << ":" << __LINE__ << ": CHECK(" #cond ") failed"; \
      throw fas::test::Failure(os_.str());                               \
    }                                                                    \
  } while (0)

#define CHECK_NEAR(a, b, tol)                                                                                      \
  do {                                                                                                             \
    const double a_ = (a), b_ = (b);                                                                               \
    if (!(std::fabs(a_ - b_) <= (tol))) {                                                                          \
      std::ostringstream os_;                                                                                      \
      os_ << __FILE__ << ":" << __LINE__ << ": " #a " = " << a_ << ", " #b " = " << b_ << ", tolerance " << (tol); \
      throw fas::test::Failure(os_.str());                                                                         \
    }                                                                                                              \
  } while (0)

// Every backward op of train/ops: the double reference against central finite differences of its
// forward, and the fast float kernel against the reference, on small odd shapes (tails of every loop).
#include <cstdint>
#include <random>
#include <vector>

#include "engine/ops/activation.h"
#include "engine/ops/gemm.h"
#include "engine/ops/norm.h"
#include "engine/ops/rope.h"
#include "engine/threadpool.h"
#include "isas.h"
#include "test.h"
#include "train/ops/activation_backward.h"
#include "train/ops/attention_backward.h"
#include "train/ops/cross_entropy.h"
#include "train/ops/embedding_backward.h"
#include "train/ops/linear.h"
#include "train/ops/norm_backward.h"
#include "train_grad_check.h"

using namespace fas;
using namespace fas::train;
using fas::ops::gemm_accumulate;
using fas::ops::GemmA;
using fas::ops::GemmB;
using fas::test::checkFiniteDifferences;
using fas::test::dotProduct;
using fas::test::floatExact;
using fas::test::normalisedError;
using fas::test::randomVector;
using fas::test::toFloat;

namespace {
constexpr double kFastTol = 2e-5;  // float kernels against the double reference, relative to scale

// The fast attention backward on the float copies of q, k, v and r against the reference's gradients.
void checkFastAttentionBackward(const AttentionDims& d, const std::vector<double>& q, const std::vector<double>& k,
                                const std::vector<double>& v, const std::vector<double>& r,
                                const std::vector<double>& dq, const std::vector<double>& dk,
                                const std::vector<double>& dv) {
  ThreadPool pool(2);
  std::vector<float> fq = toFloat(q), fk = toFloat(k), fv = toFloat(v), fr = toFloat(r);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);  // the softmax on vectors of 4, 8 and 16 floats
    std::vector<float> fdq(dq.size()), fdk(dk.size()), fdv(dv.size());
    attention_backward(pool, d, fq.data(), fk.data(), fv.data(), fr.data(), fdq.data(), fdk.data(), fdv.data());
    CHECK(normalisedError(fdq, dq) < kFastTol);
    CHECK(normalisedError(fdk, dk) < kFastTol);
    CHECK(normalisedError(fdv, dv) < kFastTol);
  }
}
}  // namespace

TEST(train_gemm_matches_plain_sums_and_ignores_thread_count) {
  std::mt19937 rng(1);
  ThreadPool one(1), two(2);
  // k = 300 and 1,601 take several blocks of depth (as the backward's dW over 1,024 tokens does).
  const int64_t shapes[][3] = {{7, 70, 33}, {13, 129, 300}, {1, 5, 1}, {70, 3, 17}, {5, 37, 1601}};
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);  // every register tile: 6 x 8, 6 x 16, 6 x 64
    for (const auto& s : shapes) {
      const int64_t m = s[0], n = s[1], k = s[2];
      // A read transposed (as dW's dY^T), B with a row stride wider than n, C accumulated into.
      const std::vector<float> a = toFloat(randomVector(k * m, rng));
      const std::vector<float> b = toFloat(randomVector(k * (n + 3), rng));
      const std::vector<float> c0 = toFloat(randomVector(m * n, rng));
      std::vector<float> c1 = c0, c2 = c0;
      gemm_accumulate(one, m, n, k, GemmA{a.data(), 1, m}, GemmB{b.data(), n + 3}, c1.data(), n);
      gemm_accumulate(two, m, n, k, GemmA{a.data(), 1, m}, GemmB{b.data(), n + 3}, c2.data(), n);
      CHECK(c1 == c2);
      std::vector<double> expected(c0.begin(), c0.end());
      for (int64_t i = 0; i < m; ++i) {
        for (int64_t j = 0; j < n; ++j) {
          for (int64_t p = 0; p < k; ++p) {
            expected[i * n + j] += static_cast<double>(a[p * m + i]) * b[p * (n + 3) + j];
          }
        }
      }
      CHECK(normalisedError(c1, expected) < 1e-5);
    }
  }
}

TEST(train_linear_forward_and_backward) {
  std::mt19937 rng(2);
  const int64_t n = 5, in = 19, out = 21;
  std::vector<double> x = floatExact(randomVector(n * in, rng)), w = floatExact(randomVector(out * in, rng));
  std::vector<double> b = floatExact(randomVector(out, rng)), r = floatExact(randomVector(n * out, rng));
  std::vector<double> dx(n * in), dw(out * in), db(out), y(n * out);
  linear_backward_ref(x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), n, in, out);
  const auto loss = [&] {
    linear_forward_ref(x.data(), w.data(), b.data(), y.data(), n, in, out);
    return dotProduct(y, r);
  };
  checkFiniteDifferences("dx", x, dx, loss);
  checkFiniteDifferences("dw", w, dw, loss);
  checkFiniteDifferences("db", b, db, loss);

  ThreadPool pool(2);
  std::vector<float> fy(n * out), fb = toFloat(b);
  linear_forward(pool, toFloat(x).data(), toFloat(w).data(), fb.data(), fy.data(), n, in, out);
  linear_forward_ref(x.data(), w.data(), b.data(), y.data(), n, in, out);
  CHECK(normalisedError(fy, y) < kFastTol);

  // The fast backward accumulates: start every gradient from a nonzero value.
  std::vector<float> fx = toFloat(x), fw = toFloat(w), fr = toFloat(r);
  std::vector<float> fdx(n * in, 1.0f), fdw(out * in, 1.0f), fdb(out, 1.0f);
  linear_backward(pool, fx.data(), fw.data(), fr.data(), fdx.data(), fdw.data(), fdb.data(), n, in, out);
  for (double& v : dx) v += 1.0;
  for (double& v : dw) v += 1.0;
  for (double& v : db) v += 1.0;
  CHECK(normalisedError(fdx, dx) < kFastTol);
  CHECK(normalisedError(fdw, dw) < kFastTol);
  CHECK(normalisedError(fdb, db) < kFastTol);
}

TEST(train_layernorm_backward) {
  std::mt19937 rng(3);
  const int64_t n = 6, dim = 37;
  const double eps = 1e-5;
  std::vector<double> x = floatExact(randomVector(n * dim, rng, 2.0)), w = floatExact(randomVector(dim, rng));
  std::vector<double> b = floatExact(randomVector(dim, rng)), r = floatExact(randomVector(n * dim, rng));
  for (double& v : x) v += 3.0;  // a mean far from zero
  std::vector<double> dx(n * dim), dw(dim), db(dim), y(n * dim);
  layernorm_backward_ref(x.data(), w.data(), r.data(), dx.data(), dw.data(), db.data(), n, dim, eps);
  const auto loss = [&] {
    ops::layernorm_ref(x.data(), w.data(), b.data(), y.data(), n, dim, eps);
    return dotProduct(y, r);
  };
  checkFiniteDifferences("dx", x, dx, loss);
  checkFiniteDifferences("dw", w, dw, loss);
  checkFiniteDifferences("db", b, db, loss);

  ThreadPool pool(2);
  std::vector<float> fx = toFloat(x), fw = toFloat(w), fr = toFloat(r);
  std::vector<float> fdx(n * dim), fdw(dim), fdb(dim);
  layernorm_backward(pool, fx.data(), fw.data(), fr.data(), fdx.data(), fdw.data(), fdb.data(), n, dim, 1e-5f);
  CHECK(normalisedError(fdx, dx) < 1e-4);  // the row statistics are float here
  CHECK(normalisedError(fdw, dw) < 1e-4);
  CHECK(normalisedError(fdb, db) < kFastTol);
}

TEST(train_rmsnorm_backward) {
  std::mt19937 rng(4);
  const int64_t n = 5, dim = 35;
  const double eps = 1e-6;
  std::vector<double> x = floatExact(randomVector(n * dim, rng)), w = floatExact(randomVector(dim, rng));
  std::vector<double> r = floatExact(randomVector(n * dim, rng));
  std::vector<double> dx(n * dim), dw(dim), y(n * dim);
  rmsnorm_backward_ref(x.data(), w.data(), r.data(), dx.data(), dw.data(), n, dim, eps);
  const auto loss = [&] {
    ops::rmsnorm_ref(x.data(), w.data(), y.data(), n, dim, eps);
    return dotProduct(y, r);
  };
  checkFiniteDifferences("dx", x, dx, loss);
  checkFiniteDifferences("dw", w, dw, loss);

  ThreadPool pool(2);
  std::vector<float> fx = toFloat(x), fw = toFloat(w), fr = toFloat(r);
  std::vector<float> fdx(n * dim), fdw(dim);
  rmsnorm_backward(pool, fx.data(), fw.data(), fr.data(), fdx.data(), fdw.data(), n, dim, 1e-6f);
  CHECK(normalisedError(fdx, dx) < kFastTol);
  CHECK(normalisedError(fdw, dw) < kFastTol);
}

// An element-wise activation: reference against finite differences and the engine's forward, fast
// backward against the reference.
TEST(train_activation_backward) {
  std::mt19937 rng(5);
  const int64_t n = 4099;  // a whole chunk plus a tail
  ThreadPool pool(2);
  std::vector<double> x = floatExact(randomVector(n, rng, 3.0)), r = floatExact(randomVector(n, rng));
  // Keep ReLU's kink out of reach of the finite differences.
  for (double& v : x) {
    if (std::fabs(v) < 1e-3) v = 0.5;
  }
  std::vector<double> y(n);
  std::vector<float> fx = toFloat(x), fr = toFloat(r), fy(n);
  // Finite differences on a spread of elements (each costs two passes over all of them).
  std::vector<int64_t> some;
  for (int64_t i = 0; i < n; i += 7) some.push_back(i);
  some.push_back(n - 1);

  // A reference backward, checked against finite differences of its forward.
  using Forward = void (*)(const double*, double*, int64_t);
  using Backward = void (*)(const double*, const double*, double*, int64_t);
  const auto checkedReference = [&](const char* name, Forward forwardRef, Backward backwardRef) {
    std::vector<double> dx(n);
    backwardRef(x.data(), r.data(), dx.data(), n);
    const auto loss = [&] {
      forwardRef(x.data(), y.data(), n);
      return dotProduct(y, r);
    };
    checkFiniteDifferences(name, x, dx, loss, 1e-6, 1e-6, some);
    return dx;
  };

  std::vector<double> dx = checkedReference("gelu_new", gelu_new_forward_ref, gelu_new_backward_ref);
  ops::gelu_new_ref(fx.data(), fy.data(), n);
  CHECK(normalisedError(fy, y) < 1e-6);
  std::vector<float> fdx(n);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    std::fill(fdx.begin(), fdx.end(), 0.0f);
    gelu_new_backward(pool, fx.data(), fr.data(), fdx.data(), n);
    CHECK(normalisedError(fdx, dx) < kFastTol);
  }

  dx = checkedReference("relu", relu_forward_ref, relu_backward_ref);
  std::fill(fdx.begin(), fdx.end(), 0.0f);
  relu_backward(pool, fx.data(), fr.data(), fdx.data(), n);
  CHECK(normalisedError(fdx, dx) == 0.0);

  std::vector<double> up = floatExact(randomVector(n, rng)), dgate(n), dup(n);
  silu_mul_backward_ref(x.data(), up.data(), r.data(), dgate.data(), dup.data(), n);
  const auto siluLoss = [&] {
    silu_mul_forward_ref(x.data(), up.data(), y.data(), n);
    return dotProduct(y, r);
  };
  checkFiniteDifferences("silu_mul gate", x, dgate, siluLoss, 1e-6, 1e-6, some);
  checkFiniteDifferences("silu_mul up", up, dup, siluLoss, 1e-6, 1e-6, some);
  std::vector<float> fup = toFloat(up);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);
    std::vector<float> fdgate(n), fdup(n);
    silu_mul_backward(pool, fx.data(), fup.data(), fr.data(), fdgate.data(), fdup.data(), n);
    CHECK(normalisedError(fdgate, dgate) < kFastTol);
    CHECK(normalisedError(fdup, dup) < kFastTol);
  }
}

TEST(train_rope_backward_is_rope_at_negated_positions) {
  std::mt19937 rng(6);
  const int64_t n = 7, heads = 3, headDim = 6;
  const double theta = 10000.0;
  std::vector<int32_t> positions(n), negated(n);
  for (int64_t i = 0; i < n; ++i) positions[i] = static_cast<int32_t>(3 * i + 1), negated[i] = -positions[i];
  std::vector<double> x = floatExact(randomVector(n * heads * headDim, rng));
  const std::vector<double> r = floatExact(randomVector(x.size(), rng));
  std::vector<double> dx = r;
  ops::rope_ref(dx.data(), negated.data(), n, heads, headDim, theta);
  checkFiniteDifferences("rope", x, dx, [&] {
    std::vector<double> y = x;
    ops::rope_ref(y.data(), positions.data(), n, heads, headDim, theta);
    return dotProduct(y, r);
  });
  // The engine's float rope, run on negated positions, is the fast backward.
  ThreadPool pool(2);
  std::vector<float> fdx = toFloat(r);
  ops::rope(pool, fdx.data(), negated.data(), n, heads, headDim, theta);
  CHECK(normalisedError(fdx, dx) < kFastTol);
}

TEST(train_attention_backward_grouped_query) {
  std::mt19937 rng(7);
  const AttentionDims d{2, 19, 4, 2, 5};  // two query heads per key/value head; headDim not a lane multiple
  const int64_t qSize = d.batch * d.seqLen * d.numHeads * d.headDim;
  const int64_t kvSize = d.batch * d.seqLen * d.numKvHeads * d.headDim;
  std::vector<double> q = floatExact(randomVector(qSize, rng)), k = floatExact(randomVector(kvSize, rng));
  std::vector<double> v = floatExact(randomVector(kvSize, rng)), r = floatExact(randomVector(qSize, rng));
  std::vector<double> dq(qSize), dk(kvSize), dv(kvSize), out(qSize);
  attention_backward_ref(d, q.data(), k.data(), v.data(), r.data(), dq.data(), dk.data(), dv.data());
  const auto loss = [&] {
    attention_forward_ref(d, q.data(), k.data(), v.data(), out.data());
    return dotProduct(out, r);
  };
  checkFiniteDifferences("dq", q, dq, loss);
  checkFiniteDifferences("dk", k, dk, loss);
  checkFiniteDifferences("dv", v, dv, loss);

  checkFastAttentionBackward(d, q, k, v, r, dq, dk, dv);
}

// Sequences longer than the fast version's query blocks, four query heads per key/value head.
TEST(train_attention_backward_long_sequences) {
  std::mt19937 rng(17);
  const AttentionDims d{1, 150, 4, 1, 16};
  const int64_t qSize = d.seqLen * d.numHeads * d.headDim, kvSize = d.seqLen * d.headDim;
  const std::vector<double> q = floatExact(randomVector(qSize, rng)), k = floatExact(randomVector(kvSize, rng));
  const std::vector<double> v = floatExact(randomVector(kvSize, rng)), r = floatExact(randomVector(qSize, rng));
  std::vector<double> dq(qSize), dk(kvSize), dv(kvSize);
  attention_backward_ref(d, q.data(), k.data(), v.data(), r.data(), dq.data(), dk.data(), dv.data());
  checkFastAttentionBackward(d, q, k, v, r, dq, dk, dv);
}

TEST(train_embedding_backward_with_repeated_ids) {
  std::mt19937 rng(8);
  const int64_t n = 9, dim = 21, rows = 4;
  const std::vector<int32_t> ids = {3, 0, 3, 1, 3, 2, 0, 0, 1};
  std::vector<double> table = floatExact(randomVector(rows * dim, rng)), r = floatExact(randomVector(n * dim, rng));
  std::vector<double> dtable(rows * dim), out(n * dim);
  embedding_backward_ref(ids.data(), r.data(), dtable.data(), n, dim);
  checkFiniteDifferences("dtable", table, dtable, [&] {
    std::fill(out.begin(), out.end(), 0.0);
    embedding_forward_ref(table.data(), ids.data(), out.data(), n, dim);
    return dotProduct(out, r);
  });
  ThreadPool pool(2);
  std::vector<float> fr = toFloat(r), fdtable(rows * dim);
  embedding_backward(pool, ids.data(), fr.data(), fdtable.data(), n, dim);
  CHECK(normalisedError(fdtable, dtable) < kFastTol);
}

TEST(train_cross_entropy_with_mask) {
  std::mt19937 rng(9);
  const int64_t n = 6, vocab = 53;
  const std::vector<int32_t> targets = {5, 52, 0, 17, 17, 3};
  const std::vector<uint8_t> mask = {1, 0, 1, 1, 0, 1};
  std::vector<double> logits = floatExact(randomVector(n * vocab, rng, 3.0)), dlogits(n * vocab);
  const double scale = 0.25;
  cross_entropy_backward_ref(logits.data(), targets.data(), mask.data(), scale, dlogits.data(), n, vocab);
  checkFiniteDifferences("dlogits", logits, dlogits, [&] {
    return scale * cross_entropy_ref(logits.data(), targets.data(), mask.data(), n, vocab);
  });
  // Masked rows: no loss, no gradient.
  for (int64_t j = 0; j < vocab; ++j) CHECK(dlogits[vocab + j] == 0.0);

  ThreadPool pool(2);
  const double loss = cross_entropy_ref(logits.data(), targets.data(), mask.data(), n, vocab);
  for (const auto isa : fas::test::availableIsas()) {
    fas::simd::IsaLimit limit(isa);  // vocab 53: full vectors of 4, 8 and 16 floats, and a tail
    std::vector<float> flogits = toFloat(logits);
    CHECK_NEAR(cross_entropy(pool, flogits.data(), targets.data(), mask.data(), n, vocab), loss, 1e-5 * loss);
    cross_entropy_backward(pool, flogits.data(), targets.data(), mask.data(), 0.25f, flogits.data(), n, vocab);
    CHECK(normalisedError(flogits, dlogits) < kFastTol);
  }
}

// OpenBLAS anchor for the engine's GEMM (docs/performance.md): the products of a GPT-2-124M layer and its
// vocabulary head at 1,024 rows (4 x 256 tokens), as the forward (y = x W^T), the backward's dX = dY W and
// its dW += dY^T X, timed for the engine (ops::gemm_bias, ops::gemm_accumulate) and for OpenBLAS's
// cblas_sgemm in turn, in one process. OpenBLAS is no dependency of this project: take Debian's build into a
// scratch folder and link this file against it and the engine's static library (built: `npm run build`).
//
//   cd /tmp/fas-anchors && apt-get download libopenblas0-pthread && dpkg -x libopenblas0-pthread_*.deb openblas
//   OPENBLAS=/tmp/fas-anchors/openblas/usr/lib/x86_64-linux-gnu/openblas-pthread
//   g++ -O3 -std=c++20 -Wno-psabi -Inative/src build/scripts/anchor-openblas.cpp native/build/libfas_engine.a \
//     $OPENBLAS/libopenblas.so.0 -Wl,-rpath,$OPENBLAS -pthread -o /tmp/fas-anchors/anchor-openblas
//   /tmp/fas-anchors/anchor-openblas [threads = 2] [rounds = 7]
//
// Prints JSON: the machine's multiply-add peak, then for each product the best GFLOP/s per thread of each
// side and the median over rounds of OpenBLAS's time over the engine's (above 1: the engine is faster). The
// side that goes first alternates between rounds. With more than one thread it runs itself again with
// OPENBLAS_THREAD_TIMEOUT=4: OpenBLAS's idle workers otherwise spin for about 0.1 s after each call and
// take the cores from the engine's next one. (A pause between the calls is no cure: after an idle pause
// of 150 ms, both libraries ran the smaller products 1.2 to 1.7x slower, with one thread too.)
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "engine/fma_peak.h"
#include "engine/ops/gemm.h"
#include "engine/threadpool.h"

extern "C" {
void cblas_sgemm(int order, int transA, int transB, int m, int n, int k, float alpha, const float* a, int lda,
                 const float* b, int ldb, float beta, float* c, int ldc);
void openblas_set_num_threads(int threads);
char* openblas_get_config();
char* openblas_get_corename();
}

namespace {

using namespace fas;

enum : int { kRowMajor = 101, kNoTrans = 111, kTrans = 112 };
enum class Kind { Forward, DX, DW };
constexpr Kind kKinds[] = {Kind::Forward, Kind::DX, Kind::DW};
const char* name(Kind kind) { return kind == Kind::Forward ? "forward" : kind == Kind::DX ? "dX" : "dW"; }

double seconds() { return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count(); }

double median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One layer's operands: x [rows, in], w [out, in] (a weight as stored), dy [rows, out].
struct Operands {
  int rows, in, out;
  std::vector<float> x, w, bias, y, dy, dx, dw;

  Operands(int rows, int in, int out)
      : rows(rows), in(in), out(out), x(size_t(rows) * in), w(size_t(out) * in), bias(out), y(size_t(rows) * out),
        dy(size_t(rows) * out), dx(size_t(rows) * in), dw(size_t(out) * in) {
    std::mt19937 rng(1);
    std::uniform_real_distribution<float> u(-1, 1);
    for (auto* v : {&x, &w, &bias, &dy}) {
      for (float& e : *v) e = u(rng);
    }
  }

  void engine(ThreadPool& pool, Kind kind) {
    if (kind == Kind::Forward) {
      ops::gemm_bias(pool, rows, out, in, {x.data(), in, 1}, {w.data(), 1, in}, bias.data(), y.data(), out);
    } else if (kind == Kind::DX) {
      ops::gemm_accumulate(pool, rows, in, out, {dy.data(), out, 1}, {w.data(), in}, dx.data(), in);
    } else {
      ops::gemm_accumulate(pool, out, in, rows, {dy.data(), 1, out}, {x.data(), in}, dw.data(), in);
    }
  }

  // The same products; the forward's bias is left out (cblas has none), which favours OpenBLAS slightly.
  void openblas(Kind kind) {
    if (kind == Kind::Forward) {
      cblas_sgemm(kRowMajor, kNoTrans, kTrans, rows, out, in, 1, x.data(), in, w.data(), in, 0, y.data(), out);
    } else if (kind == Kind::DX) {
      cblas_sgemm(kRowMajor, kNoTrans, kNoTrans, rows, in, out, 1, dy.data(), out, w.data(), in, 1, dx.data(), in);
    } else {
      cblas_sgemm(kRowMajor, kTrans, kNoTrans, out, in, rows, 1, dy.data(), out, x.data(), in, 1, dw.data(), in);
    }
  }
};

}  // namespace

int main(int argc, char** argv) {
  const int threads = argc > 1 ? std::atoi(argv[1]) : 2, rounds = argc > 2 ? std::atoi(argv[2]) : 7;
  if (threads < 1 || rounds < 1) {
    std::fprintf(stderr, "usage: anchor-openblas [threads >= 1] [rounds >= 1]\n");
    return 2;
  }
  constexpr int kRows = 1024;
  const int shapes[][2] = {{768, 2304}, {768, 768}, {768, 3072}, {3072, 768}, {768, 50257}};  // in, out

  if (threads > 1 && !std::getenv("OPENBLAS_THREAD_TIMEOUT")) {
    setenv("OPENBLAS_THREAD_TIMEOUT", "4", 1);  // read when OpenBLAS loads, so only a new process sees it
    execv("/proc/self/exe", argv);
    std::perror("anchor-openblas: could not run itself again");
    return 1;
  }
  openblas_set_num_threads(threads);
  ThreadPool pool(threads);
  std::printf("{\n  \"openblas\": \"%s (%s)\",\n  \"threads\": %d,\n  \"rows\": %d,\n  \"fmaPeakGflops\": %.1f,\n",
              openblas_get_config(), openblas_get_corename(), threads, kRows, measureFmaPeak(pool) / 1e9);
  std::printf("  \"products\": [");
  const char* separator = "\n";
  for (const auto& shape : shapes) {
    Operands layer(kRows, shape[0], shape[1]);
    const double flops = 2.0 * kRows * shape[0] * shape[1];
    for (Kind kind : kKinds) {
      layer.engine(pool, kind);  // warm-up: pages touched, panels allocated
      layer.openblas(kind);
      std::vector<double> engine, openblas, ratio;
      for (int round = 0; round < rounds; ++round) {
        double times[2];
        for (int turn = 0; turn < 2; ++turn) {
          const int side = (turn + round) % 2;  // 0: the engine
          const double start = seconds();
          if (side == 0) {
            layer.engine(pool, kind);
          } else {
            layer.openblas(kind);
          }
          times[side] = seconds() - start;
        }
        engine.push_back(times[0]);
        openblas.push_back(times[1]);
        ratio.push_back(times[1] / times[0]);
      }
      const double perThread = flops / 1e9 / threads;
      std::printf(
          "%s    {\"in\": %d, \"out\": %d, \"product\": \"%s\", \"engineGflopsPerThread\": %.1f, "
          "\"openblasGflopsPerThread\": %.1f, \"openblasOverEngineTime\": %.3f}",
          separator, shape[0], shape[1], name(kind), perThread / *std::min_element(engine.begin(), engine.end()),
          perThread / *std::min_element(openblas.begin(), openblas.end()), median(ratio));
      separator = ",\n";
      std::fflush(stdout);
    }
  }
  std::printf("\n  ]\n}\n");
}

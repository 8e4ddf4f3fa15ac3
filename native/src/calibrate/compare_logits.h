// The teacher's (QCFS) and the student's (spiking) logits on the same positions: each one's
// negative log-likelihood of the targets (for perplexity) and the logits loss of fas-method.md
// section 4, KL(softmax(teacher) || softmax(student)), summed over positions.
#pragma once
#include <cstdint>

#include "engine/threadpool.h"

namespace fas::calibrate {

struct LogitsComparison {
  double teacherNll = 0.0, studentNll = 0.0, kl = 0.0;
  int64_t tokens = 0;

  void add(const LogitsComparison& o) {
    teacherNll += o.teacherNll;
    studentNll += o.studentNll;
    kl += o.kl;
    tokens += o.tokens;
  }
};

// How the KL summed over a batch's positions becomes the loss that is differentiated.
enum class KlReduction {
  PerPosition,  // the mean over positions (this app's recipe)
  BatchMean,    // summed over each sequence's positions, the mean over sequences (the FAS reference code)
};

// The factor that turns the KL summed over `sequences` x `seqLen` positions into the loss.
float klLossScale(KlReduction reduction, int64_t sequences, int64_t seqLen);

// teacher and student are [rows, vocab]; targets [rows].
LogitsComparison compareLogits(ThreadPool& pool, const float* teacher, const float* student, const int32_t* targets,
                               int64_t rows, int64_t vocab);

// The KL summed over rows, and its gradient w.r.t. the student's logits times scale,
// scale * (softmax(student) - softmax(teacher)), written over `student`.
double klBackward(ThreadPool& pool, const float* teacher, float* student, int64_t rows, int64_t vocab, float scale);

}  // namespace fas::calibrate

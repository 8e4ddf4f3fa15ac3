#include <cstdio>
#include <cstdlib>
#include "calibrate/calibrator.h"
#include "test.h"
#include "train_tiny_models.h"
using namespace fas; using namespace fas::calibrate; using namespace fas::test;
TEST(zz_scratch) {
  ThreadPool pool(2);
  const int T = atoi(getenv("TT") ? getenv("TT") : "4");
  SpikingParams p; p.levels = 8; p.lambdas.assign(2, 1.5f);
  Calibrator cal(tinyModel(Tiny::Gpt2), p, T, pool);
  const int seqs = atoi(getenv("SEQS") ? getenv("SEQS") : "6");
  const int batch = atoi(getenv("BATCH") ? getenv("BATCH") : "2");
  const TinyBatch data = tinyBatch(cal.model().config, seqs, 10, 21);
  cal.setData(CalibrationSet{data.inputs, seqs, 10, batch});
  for (int l = 0; l < 2; ++l) {
    const double before = cal.alignLoss(l);
    CoarseResult c = cal.coarse(l);
    fprintf(stderr, "layer %d before %g coarse %g theta %g v0 %g (lambda 1.5)\n", l, before, c.loss, c.best.theta, c.best.v0);
    AdamHyper h; h.lr = atof(getenv("LR") ? getenv("LR") : "0.003");
    cal.startFine(l, 0, h);
    const int epochs = atoi(getenv("EP") ? getenv("EP") : "20");
    for (int e = 0; e < epochs; ++e) { FineEpoch tr = cal.fineEpoch(l); if (e % 4 == 3 || e == epochs-1) fprintf(stderr, "  epoch %d train %g now %g\n", e, tr.trainLoss, tr.loss); }
  }
}

#include "train/model/kernels.h"
#include "train/model/transformer_impl.h"

namespace fas::train {

template class Transformer<FastKernels>;
template class Transformer<RefKernels>;

}  // namespace fas::train

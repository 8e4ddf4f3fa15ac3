#include "train/model/transformer_impl.h"

#include "train/model/kernels.h"

namespace fas::train {

template class Transformer<FastKernels>;
template class Transformer<RefKernels>;

}  // namespace fas::train

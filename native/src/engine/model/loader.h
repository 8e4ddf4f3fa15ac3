// Loading a model from a NativeModelSpec: tensors referenced inside memory-mapped safetensors files.
#pragma once
#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "engine/model/config.h"
#include "engine/model/dtype.h"
#include "engine/model/model.h"

namespace fas {

// Mirrors NativeTensorRef in native/index.ts.
struct TensorRef {
  std::string file;     // path of the .safetensors file
  uint64_t offset = 0;  // absolute byte offset of the data in the file
  uint64_t byteLength = 0;
  DType dtype = DType::F32;
  std::vector<int64_t> shape;  // as stored
  bool transposed = false;     // stored [in, out]: the canonical tensor is its transpose
  int64_t splitIndex = 0;      // part splitIndex of splitParts along the output dimension,
  int64_t splitParts = 1;      // taken after the transpose
};

struct ModelSpec {
  ModelConfig config;
  std::map<std::string, TensorRef> tensors;  // canonical name -> where it is stored
};

// Maps the files, checks every reference (bounds, sizes, shapes) and builds the model. Matrices keep
// their dtype (F32, F16 or BF16) and vectors are F32 (model.h). A tensor already in that form and a
// contiguous range of the file is used in place; the others are copied into owned buffers
// (transposes, slices of transposed tensors, 16-bit vectors widened) and their file pages released.
// Throws std::invalid_argument / std::runtime_error naming the file and the tensor.
std::unique_ptr<Model> loadModel(const ModelSpec& spec);

}  // namespace fas

#include "engine/model/loader.h"

#include <algorithm>
#include <cstdint>
#include <cstring>
#include <limits>
#include <set>
#include <stdexcept>

#include "engine/model/mapped_file.h"
#include "engine/tiles.h"

namespace fas {

namespace {

// The canonical tensor a reference describes: which elements of the stored array, in which order.
struct Layout {
  std::vector<int64_t> shape;  // canonical, after transpose and split
  int64_t storedCols;          // stored row length (elements) of a 2-D tensor, 1 for 1-D
  int64_t firstOut;            // first canonical output row taken from the fused tensor
};

Layout checkRef(const TensorRef& ref, const std::string& where) {
  const auto fail = [&](const std::string& why) { return std::invalid_argument(where + ": " + why); };
  if (ref.shape.empty() || ref.shape.size() > 2) {
    throw fail("shape " + shapeString(ref.shape) + " has " + std::to_string(ref.shape.size()) +
               " dimensions; only 1-D and 2-D tensors are used");
  }
  int64_t count = 1;
  for (const int64_t d : ref.shape) {
    if (d < 1) throw fail("shape " + shapeString(ref.shape) + " has an empty dimension");
    if (count > std::numeric_limits<int64_t>::max() / 8 / d) {
      throw fail("shape " + shapeString(ref.shape) + " is too large");
    }
    count *= d;
  }
  const uint64_t expectedBytes = static_cast<uint64_t>(count * dtypeSize(ref.dtype));
  if (ref.byteLength != expectedBytes) {
    throw fail("byteLength " + std::to_string(ref.byteLength) + " does not match shape " + shapeString(ref.shape) +
               " (" + std::to_string(expectedBytes) + " bytes)");
  }
  if (ref.transposed && ref.shape.size() != 2) throw fail("only a 2-D tensor can be transposed");
  if (ref.splitParts < 1 || ref.splitIndex < 0 || ref.splitIndex >= ref.splitParts) {
    throw fail("split part " + std::to_string(ref.splitIndex) + " of " + std::to_string(ref.splitParts) +
               " does not exist");
  }
  Layout layout;
  layout.shape = ref.transposed ? std::vector<int64_t>{ref.shape[1], ref.shape[0]} : ref.shape;
  layout.storedCols = ref.shape.size() == 2 ? ref.shape[1] : 1;
  if (layout.shape[0] % ref.splitParts != 0) {
    throw fail("output dimension " + std::to_string(layout.shape[0]) + " does not split into " +
               std::to_string(ref.splitParts) + " equal parts");
  }
  layout.shape[0] /= ref.splitParts;
  layout.firstOut = ref.splitIndex * layout.shape[0];
  return layout;
}

// The dtype the engine keeps a tensor in: a matrix as stored (the kernels widen 16-bit ones as they
// read them), a vector (bias, norm) in F32, which the element-wise ops read; vectors are a tiny share
// of the bytes.
DType keptDType(const TensorRef& ref, const Layout& layout) {
  return layout.shape.size() == 2 ? ref.dtype : DType::F32;
}

// Copies the canonical tensor out of a stored one as `kept` elements: the same bits when the dtype
// is kept, else widened to F32.
ByteVector materialise(const uint8_t* data, const TensorRef& ref, const Layout& layout, DType kept) {
  const int64_t outs = layout.shape[0], ins = layout.shape.size() == 2 ? layout.shape[1] : 1;
  const int64_t size = dtypeSize(kept);
  ByteVector out(static_cast<size_t>(outs * ins * size));
  const auto copy = [&](int64_t to, int64_t from) {
    if (kept == ref.dtype) {
      std::memcpy(out.data() + to * size, data + from * size, size);
    } else {
      const float value = readElement(data, ref.dtype, from);
      std::memcpy(out.data() + to * size, &value, sizeof value);
    }
  };
  if (!ref.transposed) {
    const int64_t first = layout.firstOut * ins;
    for (int64_t i = 0; i < outs * ins; ++i) copy(i, first + i);
    return out;
  }
  // Stored [in, outTotal]: canonical [o][i] is stored [i][firstOut + o].
  forEachInTiles(ins, outs,
                 [&](int64_t i, int64_t o) { copy(o * ins + i, i * layout.storedCols + layout.firstOut + o); });
  return out;
}

}  // namespace

std::unique_ptr<Model> loadModel(const ModelSpec& spec) {
  validateConfig(spec.config);
  std::map<std::string, std::vector<int64_t>> canonical;
  for (const auto& slot : tensorSlots(spec.config)) canonical.emplace(slot.name, slot.shape);

  std::map<std::string, std::shared_ptr<MappedFile>> files;
  std::set<std::shared_ptr<MappedFile>> inPlace;  // files that zero-copy tensors point into
  WeightStore weights;
  for (const auto& [name, ref] : spec.tensors) {
    const std::string where = ref.file + ": tensor " + name;
    const auto expected = canonical.find(name);
    if (expected == canonical.end()) {
      throw std::invalid_argument(where + ": not a tensor this model uses" +
                                  (name == "head.weight" ? " (the config says the head is tied)" : ""));
    }
    const Layout layout = checkRef(ref, where);
    if (layout.shape != expected->second) {
      throw std::invalid_argument(where + ": canonical shape " + shapeString(layout.shape) + ", expected " +
                                  shapeString(expected->second) + " from the model's hyper-parameters");
    }
    auto& file = files[ref.file];
    if (!file) file = MappedFile::open(ref.file);
    if (ref.offset > file->size() || ref.byteLength > file->size() - ref.offset) {
      throw std::invalid_argument(where + ": offset " + std::to_string(ref.offset) + " + byteLength " +
                                  std::to_string(ref.byteLength) + " lies beyond the end of the file (" +
                                  std::to_string(file->size()) + " bytes)");
    }
    const uint8_t* data = file->data() + ref.offset;
    const DType kept = keptDType(ref, layout);
    const bool contiguous = ref.dtype == kept && !ref.transposed;
    if (contiguous && reinterpret_cast<uintptr_t>(data) % dtypeSize(kept) == 0) {
      const int64_t rowLength = layout.shape.size() == 2 ? layout.shape[1] : 1;
      weights.tensors[name] = Tensor{WeightView(data, kept).from(layout.firstOut * rowLength), layout.shape};
      inPlace.insert(file);
      continue;
    }
    ByteVector values = materialise(data, ref, layout, kept);
    file->release(ref.offset, ref.byteLength);
    weights.tensors[name] = Tensor{WeightView(values.data(), kept), layout.shape};
    weights.buffers.push_back(std::move(values));
  }
  weights.files.assign(inPlace.begin(), inPlace.end());  // files no tensor points into are unmapped now
  return buildModel(spec.config, std::move(weights));
}

}  // namespace fas

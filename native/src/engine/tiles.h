// A matrix visited in square tiles, for the transposing copies (the loader's tensors stored [in, out],
// the spiking site's transposed down projection): reading [r][c] and writing [c][r] a tile at a time
// keeps both within a few cache lines.
#pragma once
#include <algorithm>
#include <cstdint>

namespace fas {

// f(r, c) for every r < rows and c < cols, one 32 x 32 tile after another.
template <class F>
void forEachInTiles(int64_t rows, int64_t cols, F f) {
  constexpr int64_t kTile = 32;
  for (int64_t r0 = 0; r0 < rows; r0 += kTile) {
    for (int64_t c0 = 0; c0 < cols; c0 += kTile) {
      const int64_t r1 = std::min(rows, r0 + kTile), c1 = std::min(cols, c0 + kTile);
      for (int64_t r = r0; r < r1; ++r) {
        for (int64_t c = c0; c < c1; ++c) f(r, c);
      }
    }
  }
}

}  // namespace fas

#include "image/tile_grid.h"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

#include "core/error.h"

namespace folio {
namespace {

// CPython's tuplehash for a 2-tuple of small non-negative ints (hash(int) == int).
uint64_t python_tuple_hash(int a, int b) {
  constexpr uint64_t p1 = 11400714785074694791ULL, p2 = 14029467366897019727ULL,
                     p5 = 2870177450012600261ULL;
  uint64_t acc = p5;
  for (uint64_t lane : {static_cast<uint64_t>(a), static_cast<uint64_t>(b)}) {
    acc += lane * p2;
    acc = (acc << 31) | (acc >> 33);
    acc *= p1;
  }
  acc += 2ULL ^ (p5 ^ 3527539ULL);
  if (acc == ~0ULL) return 1546275796;
  return acc;
}

// A model of CPython's set (Objects/setobject.c) for insert-only use: linear probes of 9,
// then perturbed jumps; the table grows to the smallest power of two > 4*used when
// fill*5 >= mask*3.
class PythonSetModel {
 public:
  void add(TileGrid key) {
    const uint64_t hash = python_tuple_hash(key.w, key.h);
    if (find_or_insert(slots_, mask(), key, hash)) return;
    ++used_;
    if (used_ * 5 >= mask() * 3) grow(used_ * 4);
  }
  std::vector<TileGrid> in_slot_order() const {
    std::vector<TileGrid> out;
    for (const Slot& s : slots_)
      if (s.used) out.push_back(s.key);
    return out;
  }

 private:
  struct Slot {
    bool used = false;
    uint64_t hash = 0;
    TileGrid key;
  };
  static constexpr size_t kLinearProbes = 9;
  static constexpr int kPerturbShift = 5;

  size_t mask() const { return slots_.size() - 1; }

  // Returns true when the key was already present.
  static bool find_or_insert(std::vector<Slot>& table, size_t mask, TileGrid key, uint64_t hash) {
    uint64_t perturb = hash;
    size_t i = static_cast<size_t>(hash) & mask;
    while (true) {
      size_t probes = (i + kLinearProbes <= mask) ? kLinearProbes : 0;
      for (size_t j = i;; ++j) {
        Slot& s = table[j];
        if (!s.used) {
          s = Slot{true, hash, key};
          return false;
        }
        if (s.hash == hash && s.key == key) return true;
        if (probes-- == 0) break;
      }
      perturb >>= kPerturbShift;
      i = (i * 5 + 1 + perturb) & mask;
    }
  }

  void grow(size_t min_used) {
    size_t size = 8;
    while (size <= min_used) size <<= 1;
    std::vector<Slot> table(size);
    for (const Slot& s : slots_)
      if (s.used) find_or_insert(table, size - 1, s.key, s.hash);
    slots_.swap(table);
  }

  std::vector<Slot> slots_ = std::vector<Slot>(8);
  size_t used_ = 0;
};

}  // namespace

std::vector<TileGrid> tile_grid_candidates(int min_tiles, int max_tiles) {
  if (min_tiles < 1 || max_tiles < min_tiles || max_tiles > 64)
    throw invalid_input("tile grid: max tiles must be between " + std::to_string(min_tiles) +
                        " and 64, got " + std::to_string(max_tiles));
  // set((i, j) for n in range(min, max+1) for i in range(1, n+1) for j in range(1, n+1)
  //     if min <= i*j <= max), in generator order.
  PythonSetModel set;
  for (int n = min_tiles; n <= max_tiles; ++n)
    for (int i = 1; i <= n; ++i)
      for (int j = 1; j <= n; ++j)
        if (i * j <= max_tiles && i * j >= min_tiles) set.add({i, j});
  std::vector<TileGrid> order = set.in_slot_order();
  std::stable_sort(order.begin(), order.end(),
                   [](TileGrid a, TileGrid b) { return a.w * a.h < b.w * b.h; });
  return order;
}

TileGrid choose_tile_grid(int width, int height, int min_tiles, int max_tiles, int tile_size) {
  if (width < 1 || height < 1) throw invalid_input("tile grid: image has no pixels");
  const std::vector<TileGrid> candidates = tile_grid_candidates(min_tiles, max_tiles);
  if (width <= tile_size && height <= tile_size) return {1, 1};
  const double aspect = static_cast<double>(width) / height;
  const double area = static_cast<double>(width) * height;
  double best_diff = std::numeric_limits<double>::infinity();
  TileGrid best{1, 1};
  for (const TileGrid& g : candidates) {
    const double diff = std::abs(aspect - static_cast<double>(g.w) / g.h);
    if (diff < best_diff) {
      best_diff = diff;
      best = g;
    } else if (diff == best_diff &&
               area > 0.5 * tile_size * tile_size * g.w * g.h) {
      best = g;
    }
  }
  return best;
}

}  // namespace folio

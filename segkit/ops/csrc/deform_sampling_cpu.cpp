// Deformable sampling on the CPU, the core DCNv3 and DCNv4 share: the masked
// bilinear gather-sum and its gradients, without the (N*G, C', H*W, K)
// sampled tensor of the grid_sample formulation.
//
// Wang et al., "InternImage", CVPR 2023, arXiv 2211.05778 (DCNv3); Xiong et
// al., "Efficient Deformable ConvNets", CVPR 2024, arXiv 2401.06197 (DCNv4).
//
// out[n, ho, wo, g, c] = sum_k mask_k * bilinear(value[n, :, :, g, c], x_k, y_k)
//
// The versions differ only in where a sample's position and mask come from
// (a "rule"); the sampling below is written once:
//   Precomputed (DCNv3)  x, y, mask as (N, Ho, Wo, G, K) arrays, computed by
//                        the caller with the original's float32 grid rounding.
//   Packed (DCNv4)       one (N, Ho, Wo, P) array holding, per group, the K
//                        (dx, dy) offset pairs and then the K masks (padded to
//                        P columns); positions are computed here, in the
//                        value's arithmetic type, as DCNv4's kernel does:
//                          x = wo*stride - pad + half*(1 - s) + (i*dil + dx)*s
//                        with half = dil*(k-1)/2, s = offset_scale and point
//                        p = i*kernel_h + j (the x index outer), the centre
//                        skipped when remove_center.
// Layouts are contiguous and channels-last: value (N, H, W, G, C). Corners
// outside the image read as zero; a position that is not finite (NaN, inf)
// makes the output and the gradients of its position and mask NaN, as
// grid_sample does. Threads: forward splits output pixels; backward splits
// (n, g) pairs, each of which owns its slice of grad_value (and its rows of
// the position gradients), so the scatter-add needs no atomics and gives the
// same bits for any thread count.
#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

namespace {

template <typename T>
struct Corners {
  int64_t offset[4];  // element offset of the corner's channel vector, -1 if outside
  T weight[4];        // bilinear weight
  T dweight_dx[4];
  T dweight_dy[4];
};

// Which of the four corners are inside the map.
enum class Inside { none, some, all };

// The four corners of (x, y) in an H x W map whose pixels are `pixel`
// elements apart (offset -1 for a corner outside), and which are inside.
template <typename T>
inline Inside corners(T x, T y, int64_t H, int64_t W, int64_t pixel, Corners<T>& c) {
  if (!(x > T(-1) && x < T(W) && y > T(-1) && y < T(H))) return Inside::none;
  const T xf = std::floor(x), yf = std::floor(y);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const T fx = x - xf, fy = y - yf;
  // the common case: all four inside, no per-corner checks
  const bool all = x0 >= 0 && y0 >= 0 && x0 + 1 < W && y0 + 1 < H;
  const int64_t cx[4] = {x0, x0 + 1, x0, x0 + 1};
  const int64_t cy[4] = {y0, y0, y0 + 1, y0 + 1};
  const T wx[4] = {1 - fx, fx, 1 - fx, fx}, wy[4] = {1 - fy, 1 - fy, fy, fy};
  const T sx[4] = {-1, 1, -1, 1}, sy[4] = {-1, -1, 1, 1};
  for (int i = 0; i < 4; ++i) {
    const bool inside = all || (cx[i] >= 0 && cx[i] < W && cy[i] >= 0 && cy[i] < H);
    c.offset[i] = inside ? (cy[i] * W + cx[i]) * pixel : -1;
    c.weight[i] = wx[i] * wy[i];
    c.dweight_dx[i] = sx[i] * wy[i];
    c.dweight_dy[i] = sy[i] * wx[i];
  }
  return all ? Inside::all : Inside::some;
}

// The sizes every rule shares.
struct Sizes {
  int64_t N, H, W, Ho, Wo, G, C, K;
};

// A rule answers, for output pixel q, group g and kernel point k, where the
// sample sits and its mask, and stores the gradients of those. begin(q)
// computes once per output pixel what all its samples share.

// DCNv3: positions and masks precomputed, (N, Ho, Wo, G, K) each.
template <typename T>
struct Precomputed {
  const T* xs;
  const T* ys;
  const T* mask;
  T* grad_x;
  T* grad_y;
  T* grad_mask;
  int64_t G, K;

  struct Pixel {
    int64_t q;
  };
  inline Pixel begin(int64_t q) const { return {q}; }
  inline void sample(const Pixel& p, int64_t g, int64_t k, T& x, T& y, T& m) const {
    const int64_t s = (p.q * G + g) * K + k;
    x = xs[s];
    y = ys[s];
    m = mask[s];
  }
  // d out / d x, d y (before the mask) and d out / d mask
  inline void put_gradients(const Pixel& p, int64_t g, int64_t k, T m, T dx, T dy,
                            T dm) const {
    const int64_t s = (p.q * G + g) * K + k;
    grad_x[s] = m * dx;
    grad_y[s] = m * dy;
    grad_mask[s] = dm;
  }
};

// DCNv4: offsets and masks packed per group in rows of P columns; positions
// computed in T from the sampling grid (make_packed fills the tables).
template <typename T>
struct Packed {
  const T* offset_mask;
  T* grad_offset_mask;
  int64_t P, K, Ho, Wo, stride_w, stride_h;
  int64_t start_w, start_h;  // half - pad
  T half_w_scaled, half_h_scaled;  // half * scale
  T scale;
  std::vector<T> tap_x, tap_y;  // T(i * dil_w), T(j * dil_h) of kernel point k

  struct Pixel {
    const T* row;  // this pixel's packed row
    T* grad_row;
    T p0_w, p0_h;  // where kernel point (0, 0) sits before its offset
  };
  inline Pixel begin(int64_t q) const {
    const int64_t wo = q % Wo, ho = (q / Wo) % Ho;
    // the original's order of operations: centre, minus the scaled half window
    return {offset_mask + q * P, grad_offset_mask ? grad_offset_mask + q * P : nullptr,
            T(start_w + wo * stride_w) - half_w_scaled,
            T(start_h + ho * stride_h) - half_h_scaled};
  }
  inline void sample(const Pixel& p, int64_t g, int64_t k, T& x, T& y, T& m) const {
    const T* r = p.row + g * K * 3;
    x = p.p0_w + (tap_x[k] + r[2 * k]) * scale;
    y = p.p0_h + (tap_y[k] + r[2 * k + 1]) * scale;
    m = r[2 * K + k];
  }
  inline void put_gradients(const Pixel& p, int64_t g, int64_t k, T m, T dx, T dy,
                            T dm) const {
    T* r = p.grad_row + g * K * 3;
    r[2 * k] = scale * m * dx;
    r[2 * k + 1] = scale * m * dy;
    r[2 * K + k] = dm;
  }
};

// geometry: P, kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w,
// dilation_h, dilation_w, remove_center. Point p = i*kernel_h + j (the x
// index i outer), the centre skipped when removed.
template <typename T>
Packed<T> make_packed(const T* offset_mask, T* grad_offset_mask, const int64_t* a,
                      int64_t Ho, int64_t Wo, int64_t K, double scale) {
  const int64_t kernel_h = a[1], kernel_w = a[2], dilation_h = a[7], dilation_w = a[8];
  const int64_t half_w = (dilation_w * (kernel_w - 1)) >> 1;
  const int64_t half_h = (dilation_h * (kernel_h - 1)) >> 1;
  const T s = T(scale);
  Packed<T> r{offset_mask, grad_offset_mask, a[0], K, Ho, Wo, a[4], a[3],
              half_w - a[6], half_h - a[5], T(half_w) * s, T(half_h) * s, s, {}, {}};
  const int64_t centre = (kernel_w / 2) * kernel_h + kernel_h / 2;
  for (int64_t k = 0; k < K; ++k) {
    const int64_t p = a[9] != 0 && k >= centre ? k + 1 : k;
    r.tap_x.push_back(T((p / kernel_h) * dilation_w));
    r.tap_y.push_back(T((p % kernel_h) * dilation_h));
  }
  return r;
}

// CC > 0: the channels per group known at compile time (a fixed-length,
// register-held accumulator); 0: z.C at run time.
template <typename T, typename Rule, int64_t CC>
void forward(const T* value, const Rule& rule, T* out, const Sizes& z, int threads) {
  const int64_t pixels = z.N * z.Ho * z.Wo, C = CC > 0 ? CC : z.C, pixel = z.G * C;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t q = 0; q < pixels; ++q) {
    const T* image = value + (q / (z.Ho * z.Wo)) * z.H * z.W * pixel;
    const auto px = rule.begin(q);
    for (int64_t g = 0; g < z.G; ++g) {
      T fixed[CC > 0 ? CC : 1];
      T* __restrict o = CC > 0 ? fixed : out + (q * z.G + g) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = 0;
      for (int64_t k = 0; k < z.K; ++k) {
        T x, y, m;
        rule.sample(px, g, k, x, y, m);
        if (!std::isfinite(x) || !std::isfinite(y)) {
          for (int64_t c = 0; c < C; ++c) o[c] = std::numeric_limits<T>::quiet_NaN();
          continue;
        }
        Corners<T> cs;
        const Inside inside = corners(x, y, z.H, z.W, pixel, cs);
        if (inside == Inside::all) {  // one pass over the four corners
          const T w0 = m * cs.weight[0], w1 = m * cs.weight[1];
          const T w2 = m * cs.weight[2], w3 = m * cs.weight[3];
          const T* __restrict v0 = image + cs.offset[0] + g * C;
          const T* __restrict v1 = image + cs.offset[1] + g * C;
          const T* __restrict v2 = image + cs.offset[2] + g * C;
          const T* __restrict v3 = image + cs.offset[3] + g * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) {  // the order of additions of the loop below
            T a = o[c];
            a += w0 * v0[c];
            a += w1 * v1[c];
            a += w2 * v2[c];
            a += w3 * v3[c];
            o[c] = a;
          }
          continue;
        }
        if (inside == Inside::none) continue;
        for (int i = 0; i < 4; ++i) {
          if (cs.offset[i] < 0) continue;
          const T w = m * cs.weight[i];
          const T* __restrict v = image + cs.offset[i] + g * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) o[c] += w * v[c];
        }
      }
      if (CC > 0) {
        T* __restrict dst = out + (q * z.G + g) * C;
        for (int64_t c = 0; c < C; ++c) dst[c] = o[c];
      }
    }
  }
}

// grad_value must be zero on entry; the rule writes the position and mask
// gradients of every sample.
template <typename T, typename Rule, int64_t CC>
void backward(const T* value, const Rule& rule, const T* grad_out, T* grad_value,
              const Sizes& z, int threads) {
  const int64_t C = CC > 0 ? CC : z.C, pixel = z.G * C;
  const T nan = std::numeric_limits<T>::quiet_NaN();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t task = 0; task < z.N * z.G; ++task) {
    const int64_t n = task / z.G, g = task % z.G;
    const T* image = value + n * z.H * z.W * pixel + g * C;
    T* grad_image = grad_value + n * z.H * z.W * pixel + g * C;
    for (int64_t q = n * z.Ho * z.Wo; q < (n + 1) * z.Ho * z.Wo; ++q) {
      const T* __restrict go = grad_out + (q * z.G + g) * C;
      const auto px = rule.begin(q);
      for (int64_t k = 0; k < z.K; ++k) {
        T x, y, m;
        rule.sample(px, g, k, x, y, m);
        if (!std::isfinite(x) || !std::isfinite(y)) {
          rule.put_gradients(px, g, k, T(1), nan, nan, nan);
          continue;
        }
        Corners<T> cs;
        T dm = 0, dx = 0, dy = 0;
        if (corners(x, y, z.H, z.W, pixel, cs) != Inside::none) {
          for (int i = 0; i < 4; ++i) {
            if (cs.offset[i] < 0) continue;
            const T* __restrict v = image + cs.offset[i];
            T* __restrict gv = grad_image + cs.offset[i];
            const T w = m * cs.weight[i];
            T dot = 0;
#pragma omp simd reduction(+ : dot)
            for (int64_t c = 0; c < C; ++c) {
              dot += v[c] * go[c];
              gv[c] += w * go[c];
            }
            dm += cs.weight[i] * dot;
            dx += cs.dweight_dx[i] * dot;
            dy += cs.dweight_dy[i] * dot;
          }
        }
        rule.put_gradients(px, g, k, m, dx, dy, dm);
      }
    }
  }
}

// The usual channels per group (16 in every InternImage and FlashInternImage
// stage) get their own compiled loops; others run the general ones.
template <typename T, typename Rule>
void run_forward(const T* value, const Rule& rule, T* out, const Sizes& z, int threads) {
  switch (z.C) {
    case 8: return forward<T, Rule, 8>(value, rule, out, z, threads);
    case 16: return forward<T, Rule, 16>(value, rule, out, z, threads);
    case 32: return forward<T, Rule, 32>(value, rule, out, z, threads);
    default: return forward<T, Rule, 0>(value, rule, out, z, threads);
  }
}

template <typename T, typename Rule>
void run_backward(const T* value, const Rule& rule, const T* grad_out, T* grad_value,
                  const Sizes& z, int threads) {
  switch (z.C) {
    case 8: return backward<T, Rule, 8>(value, rule, grad_out, grad_value, z, threads);
    case 16: return backward<T, Rule, 16>(value, rule, grad_out, grad_value, z, threads);
    case 32: return backward<T, Rule, 32>(value, rule, grad_out, grad_value, z, threads);
    default: return backward<T, Rule, 0>(value, rule, grad_out, grad_value, z, threads);
  }
}

}  // namespace

extern "C" {

// Sizes: N, H, W, Ho, Wo, G, C, K. Packed geometry: P, kernel_h, kernel_w,
// stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, remove_center.
#define SEGKIT_SAMPLING_EXPORT(T, suffix)                                                      \
  void sample_forward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,        \
                               T* out, int64_t N, int64_t H, int64_t W, int64_t Ho,            \
                               int64_t Wo, int64_t G, int64_t C, int64_t K, int threads) {     \
    const Precomputed<T> rule{xs, ys, mask, nullptr, nullptr, nullptr, G, K};                  \
    run_forward<T>(value, rule, out, Sizes{N, H, W, Ho, Wo, G, C, K}, threads);                \
  }                                                                                            \
  void sample_backward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,       \
                                const T* grad_out, T* grad_value, T* grad_x, T* grad_y,        \
                                T* grad_mask, int64_t N, int64_t H, int64_t W, int64_t Ho,     \
                                int64_t Wo, int64_t G, int64_t C, int64_t K, int threads) {    \
    const Precomputed<T> rule{xs, ys, mask, grad_x, grad_y, grad_mask, G, K};                  \
    run_backward<T>(value, rule, grad_out, grad_value, Sizes{N, H, W, Ho, Wo, G, C, K}, threads); \
  }                                                                                            \
  void packed_forward_##suffix(const T* value, const T* offset_mask, T* out, int64_t N,        \
                               int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t G,        \
                               int64_t C, int64_t K, const int64_t* geometry, double scale,    \
                               int threads) {                                                  \
    const auto rule = make_packed<T>(offset_mask, nullptr, geometry, Ho, Wo, K, scale);        \
    run_forward<T>(value, rule, out, Sizes{N, H, W, Ho, Wo, G, C, K}, threads);                \
  }                                                                                            \
  void packed_backward_##suffix(const T* value, const T* offset_mask, const T* grad_out,       \
                                T* grad_value, T* grad_offset_mask, int64_t N, int64_t H,      \
                                int64_t W, int64_t Ho, int64_t Wo, int64_t G, int64_t C,       \
                                int64_t K, const int64_t* geometry, double scale,              \
                                int threads) {                                                 \
    const auto rule = make_packed<T>(offset_mask, grad_offset_mask, geometry, Ho, Wo, K,       \
                                     scale);                                                   \
    run_backward<T>(value, rule, grad_out, grad_value, Sizes{N, H, W, Ho, Wo, G, C, K}, threads); \
  }

SEGKIT_SAMPLING_EXPORT(float, f32)
SEGKIT_SAMPLING_EXPORT(double, f64)

}  // extern "C"

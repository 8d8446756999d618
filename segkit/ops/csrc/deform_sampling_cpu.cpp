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

namespace {

template <typename T>
struct Corners {
  int64_t offset[4];  // element offset of the corner's channel vector, -1 if outside
  T weight[4];        // bilinear weight
  T dweight_dx[4];
  T dweight_dy[4];
};

// The four corners of (x, y) in an H x W map whose pixels are `pixel`
// elements apart. Returns false when no corner can be inside.
template <typename T>
inline bool corners(T x, T y, int64_t H, int64_t W, int64_t pixel, Corners<T>& c) {
  if (!(x > T(-1) && x < T(W) && y > T(-1) && y < T(H))) return false;
  const T xf = std::floor(x), yf = std::floor(y);
  const int64_t x0 = static_cast<int64_t>(xf), y0 = static_cast<int64_t>(yf);
  const T fx = x - xf, fy = y - yf;
  const int64_t cx[4] = {x0, x0 + 1, x0, x0 + 1};
  const int64_t cy[4] = {y0, y0, y0 + 1, y0 + 1};
  const T wx[4] = {1 - fx, fx, 1 - fx, fx}, wy[4] = {1 - fy, 1 - fy, fy, fy};
  const T sx[4] = {-1, 1, -1, 1}, sy[4] = {-1, -1, 1, 1};
  for (int i = 0; i < 4; ++i) {
    const bool inside = cx[i] >= 0 && cx[i] < W && cy[i] >= 0 && cy[i] < H;
    c.offset[i] = inside ? (cy[i] * W + cx[i]) * pixel : -1;
    c.weight[i] = wx[i] * wy[i];
    c.dweight_dx[i] = sx[i] * wy[i];
    c.dweight_dy[i] = sy[i] * wx[i];
  }
  return true;
}

// The sizes every rule shares.
struct Sizes {
  int64_t N, H, W, Ho, Wo, G, C, K;
};

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

  inline void sample(int64_t q, int64_t g, int64_t k, T& x, T& y, T& m) const {
    const int64_t s = (q * G + g) * K + k;
    x = xs[s];
    y = ys[s];
    m = mask[s];
  }
  // d out / d x, d y (before the mask) and d out / d mask
  inline void put_gradients(int64_t q, int64_t g, int64_t k, T m, T dx, T dy, T dm) const {
    const int64_t s = (q * G + g) * K + k;
    grad_x[s] = m * dx;
    grad_y[s] = m * dy;
    grad_mask[s] = dm;
  }
};

// DCNv4: offsets and masks packed per group in rows of P columns; positions
// computed in T from the sampling grid.
template <typename T>
struct Packed {
  const T* offset_mask;
  T* grad_offset_mask;
  int64_t P, G, K, Ho, Wo;
  int64_t kernel_h, kernel_w, stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w;
  T scale;
  bool remove_center;

  inline const T* row(int64_t q, int64_t g) const { return offset_mask + q * P + g * K * 3; }
  // kernel point k -> (i, j), the x index i outer; the centre skipped if removed
  inline void point(int64_t k, int64_t& i, int64_t& j) const {
    const int64_t centre = (kernel_w / 2) * kernel_h + kernel_h / 2;
    const int64_t p = remove_center && k >= centre ? k + 1 : k;
    i = p / kernel_h;
    j = p % kernel_h;
  }
  inline void sample(int64_t q, int64_t g, int64_t k, T& x, T& y, T& m) const {
    const T* r = row(q, g);
    int64_t i, j;
    point(k, i, j);
    const int64_t wo = q % Wo, ho = (q / Wo) % Ho;
    const int64_t half_w = (dilation_w * (kernel_w - 1)) >> 1;
    const int64_t half_h = (dilation_h * (kernel_h - 1)) >> 1;
    // the original's order of operations: centre, minus the scaled half window
    const T p0_w = T(half_w - pad_w + wo * stride_w) - T(half_w) * scale;
    const T p0_h = T(half_h - pad_h + ho * stride_h) - T(half_h) * scale;
    x = p0_w + (T(i * dilation_w) + r[2 * k]) * scale;
    y = p0_h + (T(j * dilation_h) + r[2 * k + 1]) * scale;
    m = r[2 * K + k];
  }
  inline void put_gradients(int64_t q, int64_t g, int64_t k, T m, T dx, T dy, T dm) const {
    T* r = grad_offset_mask + q * P + g * K * 3;
    r[2 * k] = scale * m * dx;
    r[2 * k + 1] = scale * m * dy;
    r[2 * K + k] = dm;
  }
};

template <typename T, typename Rule>
void forward(const T* value, const Rule& rule, T* out, const Sizes& z, int threads) {
  const int64_t pixels = z.N * z.Ho * z.Wo, pixel = z.G * z.C, C = z.C;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t q = 0; q < pixels; ++q) {
    const T* image = value + (q / (z.Ho * z.Wo)) * z.H * z.W * pixel;
    for (int64_t g = 0; g < z.G; ++g) {
      T* o = out + (q * z.G + g) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = 0;
      for (int64_t k = 0; k < z.K; ++k) {
        T x, y, m;
        rule.sample(q, g, k, x, y, m);
        if (!std::isfinite(x) || !std::isfinite(y)) {
          for (int64_t c = 0; c < C; ++c) o[c] = std::numeric_limits<T>::quiet_NaN();
          continue;
        }
        Corners<T> cs;
        if (!corners(x, y, z.H, z.W, pixel, cs)) continue;
        for (int i = 0; i < 4; ++i) {
          if (cs.offset[i] < 0) continue;
          const T w = m * cs.weight[i];
          const T* v = image + cs.offset[i] + g * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) o[c] += w * v[c];
        }
      }
    }
  }
}

// grad_value must be zero on entry; the rule writes the position and mask
// gradients of every sample.
template <typename T, typename Rule>
void backward(const T* value, const Rule& rule, const T* grad_out, T* grad_value,
              const Sizes& z, int threads) {
  const int64_t pixel = z.G * z.C, C = z.C;
  const T nan = std::numeric_limits<T>::quiet_NaN();
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t task = 0; task < z.N * z.G; ++task) {
    const int64_t n = task / z.G, g = task % z.G;
    const T* image = value + n * z.H * z.W * pixel + g * C;
    T* grad_image = grad_value + n * z.H * z.W * pixel + g * C;
    for (int64_t q = n * z.Ho * z.Wo; q < (n + 1) * z.Ho * z.Wo; ++q) {
      const T* go = grad_out + (q * z.G + g) * C;
      for (int64_t k = 0; k < z.K; ++k) {
        T x, y, m;
        rule.sample(q, g, k, x, y, m);
        if (!std::isfinite(x) || !std::isfinite(y)) {
          rule.put_gradients(q, g, k, T(1), nan, nan, nan);
          continue;
        }
        Corners<T> cs;
        T dm = 0, dx = 0, dy = 0;
        if (corners(x, y, z.H, z.W, pixel, cs)) {
          for (int i = 0; i < 4; ++i) {
            if (cs.offset[i] < 0) continue;
            const T* v = image + cs.offset[i];
            T* gv = grad_image + cs.offset[i];
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
        rule.put_gradients(q, g, k, m, dx, dy, dm);
      }
    }
  }
}

}  // namespace

extern "C" {

// Sizes: N, H, W, Ho, Wo, G, C, K. Packed geometry: P, kernel_h, kernel_w,
// stride_h, stride_w, pad_h, pad_w, dilation_h, dilation_w, remove_center.
#define SEGKIT_SAMPLING_EXPORT(T, suffix)                                                     \
  void sample_forward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,       \
                               T* out, int64_t N, int64_t H, int64_t W, int64_t Ho,           \
                               int64_t Wo, int64_t G, int64_t C, int64_t K, int threads) {    \
    const Precomputed<T> rule{xs, ys, mask, nullptr, nullptr, nullptr, G, K};                 \
    forward<T>(value, rule, out, Sizes{N, H, W, Ho, Wo, G, C, K}, threads);                   \
  }                                                                                           \
  void sample_backward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,      \
                                const T* grad_out, T* grad_value, T* grad_x, T* grad_y,       \
                                T* grad_mask, int64_t N, int64_t H, int64_t W, int64_t Ho,    \
                                int64_t Wo, int64_t G, int64_t C, int64_t K, int threads) {   \
    const Precomputed<T> rule{xs, ys, mask, grad_x, grad_y, grad_mask, G, K};                 \
    backward<T>(value, rule, grad_out, grad_value, Sizes{N, H, W, Ho, Wo, G, C, K}, threads); \
  }                                                                                           \
  void packed_forward_##suffix(const T* value, const T* offset_mask, T* out, int64_t N,       \
                               int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t G,       \
                               int64_t C, int64_t K, const int64_t* geometry, double scale,   \
                               int threads) {                                                 \
    const int64_t* a = geometry;                                                              \
    const Packed<T> rule{offset_mask, nullptr, a[0], G,    K,    Ho,   Wo,  a[1],             \
                         a[2],        a[3],    a[4], a[5], a[6], a[7], a[8], T(scale),        \
                         a[9] != 0};                                                          \
    forward<T>(value, rule, out, Sizes{N, H, W, Ho, Wo, G, C, K}, threads);                   \
  }                                                                                           \
  void packed_backward_##suffix(const T* value, const T* offset_mask, const T* grad_out,      \
                                T* grad_value, T* grad_offset_mask, int64_t N, int64_t H,     \
                                int64_t W, int64_t Ho, int64_t Wo, int64_t G, int64_t C,      \
                                int64_t K, const int64_t* geometry, double scale,             \
                                int threads) {                                                \
    const int64_t* a = geometry;                                                              \
    const Packed<T> rule{offset_mask, grad_offset_mask, a[0], G,    K,    Ho,   Wo,  a[1],    \
                         a[2],        a[3],             a[4], a[5], a[6], a[7], a[8],         \
                         T(scale),    a[9] != 0};                                             \
    backward<T>(value, rule, grad_out, grad_value, Sizes{N, H, W, Ho, Wo, G, C, K}, threads); \
  }

SEGKIT_SAMPLING_EXPORT(float, f32)
SEGKIT_SAMPLING_EXPORT(double, f64)

}  // extern "C"

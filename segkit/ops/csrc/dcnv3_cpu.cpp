// DCNv3 core on the CPU: the masked bilinear gather-sum and its gradients,
// without the (N*G, C', H*W, K) sampled tensor of the grid_sample formulation.
//
// Wang et al., "InternImage: Exploring Large-Scale Vision Foundation Models
// with Deformable Convolutions", CVPR 2023, arXiv 2211.05778.
//
// The caller (segkit/ops/dcnv3.py) computes the sampling positions, so their
// rounding is the original's; this file only samples. Layouts, all
// contiguous and channels-last:
//   value     (N, H, W, G, C)    the projected input
//   x, y      (N, Ho, Wo, G, K)  sample positions in input pixels (centres at integers)
//   mask      (N, Ho, Wo, G, K)
//   out       (N, Ho, Wo, G, C)  out[.., g, c] = sum_k mask * bilinear(value[.., g, c], x, y)
// Corners outside the image read as zero; a position that is not finite
// (NaN, inf) makes the output and the gradients of its position and mask NaN,
// as grid_sample does, so a diverged network is not hidden. Backward recomputes the corners
// and gives the gradients of value, x, y and mask (the caller chains x and y
// to the offsets). Threads: forward splits output pixels; backward splits
// (n, g) pairs, each of which owns its slice of grad_value, so the
// scatter-add needs no atomics.
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

template <typename T>
void forward(const T* value, const T* xs, const T* ys, const T* mask, T* out, int64_t N,
             int64_t H, int64_t W, int64_t Ho, int64_t Wo, int64_t G, int64_t C, int64_t K,
             int threads) {
  const int64_t pixels = N * Ho * Wo, pixel = G * C;
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int64_t q = 0; q < pixels; ++q) {
    const T* image = value + (q / (Ho * Wo)) * H * W * pixel;
    for (int64_t g = 0; g < G; ++g) {
      T* o = out + (q * G + g) * C;
      for (int64_t c = 0; c < C; ++c) o[c] = 0;
      const int64_t s0 = (q * G + g) * K;
      for (int64_t k = 0; k < K; ++k) {
        if (!std::isfinite(xs[s0 + k]) || !std::isfinite(ys[s0 + k])) {
          for (int64_t c = 0; c < C; ++c) o[c] = std::numeric_limits<T>::quiet_NaN();
          continue;
        }
        Corners<T> cs;
        if (!corners(xs[s0 + k], ys[s0 + k], H, W, pixel, cs)) continue;
        for (int i = 0; i < 4; ++i) {
          if (cs.offset[i] < 0) continue;
          const T w = mask[s0 + k] * cs.weight[i];
          const T* v = image + cs.offset[i] + g * C;
#pragma omp simd
          for (int64_t c = 0; c < C; ++c) o[c] += w * v[c];
        }
      }
    }
  }
}

// grad_value must be zero on entry; grad_x, grad_y, grad_mask are written whole.
template <typename T>
void backward(const T* value, const T* xs, const T* ys, const T* mask, const T* grad_out,
              T* grad_value, T* grad_x, T* grad_y, T* grad_mask, int64_t N, int64_t H,
              int64_t W, int64_t Ho, int64_t Wo, int64_t G, int64_t C, int64_t K,
              int threads) {
  const int64_t pixel = G * C;
#pragma omp parallel for num_threads(threads) schedule(dynamic, 1)
  for (int64_t task = 0; task < N * G; ++task) {
    const int64_t n = task / G, g = task % G;
    const T* image = value + n * H * W * pixel + g * C;
    T* grad_image = grad_value + n * H * W * pixel + g * C;
    for (int64_t q = n * Ho * Wo; q < (n + 1) * Ho * Wo; ++q) {
      const T* go = grad_out + (q * G + g) * C;
      const int64_t s0 = (q * G + g) * K;
      for (int64_t k = 0; k < K; ++k) {
        const int64_t s = s0 + k;
        if (!std::isfinite(xs[s]) || !std::isfinite(ys[s])) {
          grad_mask[s] = grad_x[s] = grad_y[s] = std::numeric_limits<T>::quiet_NaN();
          continue;
        }
        Corners<T> cs;
        T dm = 0, dx = 0, dy = 0;
        if (corners(xs[s], ys[s], H, W, pixel, cs)) {
          for (int i = 0; i < 4; ++i) {
            if (cs.offset[i] < 0) continue;
            const T* v = image + cs.offset[i];
            T* gv = grad_image + cs.offset[i];
            const T w = mask[s] * cs.weight[i];
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
        grad_mask[s] = dm;
        grad_x[s] = mask[s] * dx;
        grad_y[s] = mask[s] * dy;
      }
    }
  }
}

}  // namespace

extern "C" {

#define SEGKIT_DCNV3_EXPORT(T, suffix)                                                        \
  void dcnv3_forward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,         \
                              T* out, int64_t N, int64_t H, int64_t W, int64_t Ho, int64_t Wo, \
                              int64_t G, int64_t C, int64_t K, int threads) {                  \
    forward<T>(value, xs, ys, mask, out, N, H, W, Ho, Wo, G, C, K, threads);                   \
  }                                                                                            \
  void dcnv3_backward_##suffix(const T* value, const T* xs, const T* ys, const T* mask,        \
                               const T* grad_out, T* grad_value, T* grad_x, T* grad_y,         \
                               T* grad_mask, int64_t N, int64_t H, int64_t W, int64_t Ho,      \
                               int64_t Wo, int64_t G, int64_t C, int64_t K, int threads) {     \
    backward<T>(value, xs, ys, mask, grad_out, grad_value, grad_x, grad_y, grad_mask, N, H, W, \
                Ho, Wo, G, C, K, threads);                                                     \
  }

SEGKIT_DCNV3_EXPORT(float, f32)
SEGKIT_DCNV3_EXPORT(double, f64)

}  // extern "C"

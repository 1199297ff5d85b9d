/*
 * engram_blas: OpenBLAS sgemm and a few fused elementwise kernels that operate directly on the
 * tfjs wasm backend's heap (an ArrayBuffer) so no tensor data is copied in or out of wasm memory.
 * Every pointer argument is a byte offset into that heap; JS validates shapes, C validates bounds.
 */
#include <node_api.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <stdint.h>
#include <string.h>

typedef enum { CblasRowMajor = 101 } CBLAS_ORDER;
typedef enum { CblasNoTrans = 111, CblasTrans = 112 } CBLAS_TRANSPOSE;
extern void cblas_sgemm(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, int, int, int, float,
                        const float *, int, const float *, int, float, float *, int);
extern void cblas_dgemm(CBLAS_ORDER, CBLAS_TRANSPOSE, CBLAS_TRANSPOSE, int, int, int, double,
                        const double *, int, const double *, int, double, double *, int);
extern void dgeev_(const char *jobvl, const char *jobvr, const int *n, double *a, const int *lda, double *wr,
                   double *wi, double *vl, const int *ldvl, double *vr, const int *ldvr, double *work,
                   const int *lwork, int *info);
extern void dpotrf_(const char *uplo, const int *n, double *a, const int *lda, int *info);
typedef enum { CblasLeft = 141 } CBLAS_SIDE;
typedef enum { CblasUpper = 121 } CBLAS_UPLO;
typedef enum { CblasNonUnit = 131 } CBLAS_DIAG;
extern void cblas_dtrsm(CBLAS_ORDER, CBLAS_SIDE, CBLAS_UPLO, CBLAS_TRANSPOSE, CBLAS_DIAG, int, int, double,
                        const double *, int, double *, int);
extern void cblas_dsyrk(CBLAS_ORDER, CBLAS_UPLO, CBLAS_TRANSPOSE, int, int, double, const double *, int, double,
                        double *, int);
extern int openblas_get_num_threads(void);
extern char *openblas_get_config(void);
extern char *openblas_get_corename(void);

#define CHECK(call)                                                        \
  do {                                                                     \
    if ((call) != napi_ok) {                                               \
      napi_throw_error(env, "E_NATIVE", "engram_blas: N-API call failed"); \
      return NULL;                                                         \
    }                                                                      \
  } while (0)

static int get_f64(napi_env env, napi_value v, double *out) {
  return napi_get_value_double(env, v, out) == napi_ok;
}

/*
 * Reads a call's arguments: the heap (an ArrayBuffer) followed by `count` numbers into d[].
 * Returns 0 with a JS TypeError pending when they are not that.
 */
static int read_args(napi_env env, napi_callback_info info, const char *name, size_t count,
                     uint8_t **heap, size_t *heap_len, double *d) {
  size_t argc = 20;
  napi_value argv[20];
  void *data = NULL;
  int ok = count < 20 && napi_get_cb_info(env, info, &argc, argv, NULL, NULL) == napi_ok &&
           argc >= count + 1 && napi_get_arraybuffer_info(env, argv[0], &data, heap_len) == napi_ok;
  for (size_t i = 0; ok && i < count; i++) ok = get_f64(env, argv[i + 1], &d[i]);
  if (!ok) {
    char msg[128];
    snprintf(msg, sizeof msg, "engram_blas.%s: expected (heap: ArrayBuffer (not shared), %zu numbers)", name, count);
    napi_throw_type_error(env, "E_NATIVE", msg);
    return 0;
  }
  *heap = (uint8_t *)data;
  return 1;
}

/* Resolve the heap and bounds-check a float region of `count` floats starting at byte `off`. */
static float *region(napi_env env, uint8_t *heap, size_t heap_len, double off, double count) {
  const int whole = isfinite(off) && isfinite(count) && off == floor(off) && count == floor(count);
  if (!whole || off < 0 || count < 0 || off + count * 4.0 > (double)heap_len || fmod(off, 4.0) != 0) {
    napi_throw_range_error(env, "E_NATIVE", "engram_blas: region outside the wasm heap (or not a whole, aligned offset)");
    return NULL;
  }
  return (float *)(heap + (size_t)off);
}

/* A dimension or stride: a whole number in [0, INT_MAX]. */
static int dim_ok(double v) { return isfinite(v) && v >= 0 && v <= (double)INT_MAX && v == floor(v); }

/*
 * gemm(heap, batch, M, N, K, transA, transB, aOff, aStride, bOff, bStride, cOff,
 *      biasOff, biasStride, biasMode, act, alpha)
 * C[b] = act(op(A[b]) op(B[b]) + bias); strides in floats (0 = broadcast one matrix);
 * biasMode: 0 none, 1 scalar, 2 per column (length N), 3 full [batch?, M, N] (biasStride = M*N or 0)
 * act: 0 linear, 1 relu, 2 relu6, 3 leakyrelu(alpha), 4 sigmoid, 5 elu
 */
static napi_value Gemm(napi_env env, napi_callback_info info) {
  uint8_t *heap;
  size_t heap_len;
  double d[16];
  if (!read_args(env, info, "gemm", 16, &heap, &heap_len, d)) return NULL;
  for (int i = 0; i < 4; i++) {
    if (!dim_ok(d[i])) {
      napi_throw_range_error(env, "E_NATIVE", "engram_blas.gemm: dimensions must be whole numbers in [0, INT_MAX]");
      return NULL;
    }
  }
  if (!dim_ok(d[7]) || !dim_ok(d[9]) || !dim_ok(d[12])) {
    napi_throw_range_error(env, "E_NATIVE", "engram_blas.gemm: strides must be whole numbers in [0, INT_MAX]");
    return NULL;
  }
  const int batch = (int)d[0], M = (int)d[1], N = (int)d[2], K = (int)d[3];
  const int ta = d[4] != 0, tb = d[5] != 0;
  const double aOff = d[6], aStride = d[7], bOff = d[8], bStride = d[9], cOff = d[10];
  const double biasOff = d[11], biasStride = d[12];
  const int biasMode = (int)d[13], act = (int)d[14];
  const float alpha = (float)d[15];
  if (batch <= 0 || M < 0 || N < 0 || K < 0) {
    napi_throw_range_error(env, "E_NATIVE", "engram_blas.gemm: bad dimensions");
    return NULL;
  }
  float *A = region(env, heap, heap_len, aOff, aStride * (batch - 1) + (double)M * K);
  if (!A) return NULL;
  float *B = region(env, heap, heap_len, bOff, bStride * (batch - 1) + (double)K * N);
  if (!B) return NULL;
  float *C = region(env, heap, heap_len, cOff, (double)batch * M * N);
  if (!C) return NULL;
  float *bias = NULL;
  if (biasMode != 0) {
    double cnt = biasMode == 1 ? 1 : biasMode == 2 ? N : biasStride * (batch - 1) + (double)M * N;
    bias = region(env, heap, heap_len, biasOff, cnt);
    if (!bias) return NULL;
  }
  const int lda = ta ? M : K, ldb = tb ? K : N;
  const size_t mn = (size_t)M * N;
  for (int b = 0; b < batch; b++) {
    float *c = C + (size_t)b * mn;
    float beta = 0.0f;
    if (biasMode == 1) {
      for (size_t i = 0; i < mn; i++) c[i] = bias[0];
      beta = 1.0f;
    } else if (biasMode == 2) {
      for (int i = 0; i < M; i++) memcpy(c + (size_t)i * N, bias, sizeof(float) * N);
      beta = 1.0f;
    } else if (biasMode == 3) {
      memcpy(c, bias + (size_t)(b * biasStride), sizeof(float) * mn);
      beta = 1.0f;
    }
    if (K == 0) {
      if (beta == 0.0f) memset(c, 0, sizeof(float) * mn);
    } else if (M > 0 && N > 0) {
      cblas_sgemm(CblasRowMajor, ta ? CblasTrans : CblasNoTrans, tb ? CblasTrans : CblasNoTrans, M,
                  N, K, 1.0f, A + (size_t)(b * aStride), lda, B + (size_t)(b * bStride), ldb, beta,
                  c, N);
    }
    switch (act) {
      case 1: for (size_t i = 0; i < mn; i++) c[i] = c[i] < 0 ? 0 : c[i]; break; /* NaN stays NaN */
      case 2: for (size_t i = 0; i < mn; i++) c[i] = c[i] < 0 ? 0 : (c[i] > 6 ? 6 : c[i]); break; /* NaN stays NaN */
      case 3: for (size_t i = 0; i < mn; i++) c[i] = c[i] > 0 ? c[i] : alpha * c[i]; break;
      case 4: for (size_t i = 0; i < mn; i++) c[i] = 1.0f / (1.0f + expf(-c[i])); break;
      case 5: for (size_t i = 0; i < mn; i++) c[i] = c[i] > 0 ? c[i] : expf(c[i]) - 1.0f; break;
      default: break;
    }
  }
  return NULL;
}

/*
 * adam(heap, n, pOff, gOff, mOff, vOff, lr, beta1, beta2, eps, t, weightDecay)
 * In-place Adam step on a parameter: m, v updated, bias-corrected as in Kingma & Ba; weightDecay
 * (L2, added to the gradient) may be 0.
 */
static napi_value Adam(napi_env env, napi_callback_info info) {
  uint8_t *data;
  size_t heap_len;
  double d[11];
  if (!read_args(env, info, "adam", 11, &data, &heap_len, d)) return NULL;
  const size_t n = (size_t)d[0];
  float *p = region(env, data, heap_len, d[1], (double)n);
  if (!p) return NULL;
  float *g = region(env, data, heap_len, d[2], (double)n);
  if (!g) return NULL;
  float *m = region(env, data, heap_len, d[3], (double)n);
  if (!m) return NULL;
  float *v = region(env, data, heap_len, d[4], (double)n);
  if (!v) return NULL;
  const float lr = (float)d[5], b1 = (float)d[6], b2 = (float)d[7], eps = (float)d[8];
  const double t = d[9];
  const float wd = (float)d[10];
  const float c1 = (float)(1.0 - pow(d[6], t)), c2 = (float)(1.0 - pow(d[7], t));
  const float step = lr / c1, rc2 = 1.0f / c2;
  for (size_t i = 0; i < n; i++) {
    const float gi = g[i] + wd * p[i];
    const float mi = b1 * m[i] + (1.0f - b1) * gi;
    const float vi = b2 * v[i] + (1.0f - b2) * gi * gi;
    m[i] = mi;
    v[i] = vi;
    p[i] -= step * mi / (sqrtf(vi * rc2) + eps);
  }
  return NULL;
}

/* sumsq(heap, off, n) -> Σ x² in double precision (gradient norms without a wasm reduction). */
static napi_value SumSq(napi_env env, napi_callback_info info) {
  uint8_t *data;
  size_t heap_len;
  double d[2];
  if (!read_args(env, info, "sumsq", 2, &data, &heap_len, d)) return NULL;
  const double off = d[0], n = d[1];
  float *x = region(env, data, heap_len, off, n);
  if (!x) return NULL;
  /* 16 float lanes per 4096-block (vectorizes without -ffast-math), blocks summed in double. */
  double acc = 0;
  const size_t len = (size_t)n;
  for (size_t b = 0; b < len; b += 4096) {
    const size_t e = b + 4096 < len ? b + 4096 : len;
    float lane[16] = {0};
    size_t i = b;
    for (; i + 16 <= e; i += 16)
      for (int j = 0; j < 16; j++) lane[j] += x[i + j] * x[i + j];
    for (; i < e; i++) lane[0] += x[i] * x[i];
    for (int j = 0; j < 16; j++) acc += lane[j];
  }
  napi_value out;
  CHECK(napi_create_double(env, acc, &out));
  return out;
}

/* dgemm(x: Float64Array r×k, y: Float64Array k×c, r, k, c) -> Float64Array r×c (row-major, new). */
static napi_value Dgemm(napi_env env, napi_callback_info info) {
  size_t argc = 5;
  napi_value argv[5];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type tx, ty;
  size_t lx = 0, ly = 0;
  void *x = NULL, *y = NULL;
  int32_t r = 0, k = 0, c = 0;
  if (argc < 5 || napi_get_typedarray_info(env, argv[0], &tx, &lx, &x, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &ty, &ly, &y, NULL, NULL) != napi_ok || tx != napi_float64_array ||
      ty != napi_float64_array || napi_get_value_int32(env, argv[2], &r) != napi_ok ||
      napi_get_value_int32(env, argv[3], &k) != napi_ok || napi_get_value_int32(env, argv[4], &c) != napi_ok ||
      r < 1 || k < 1 || c < 1 || lx != (size_t)r * k || ly != (size_t)k * c) {
    napi_throw_type_error(env, "E_NATIVE", "engram_blas.dgemm: expected (Float64Array r*k, Float64Array k*c, r, k, c)");
    return NULL;
  }
  napi_value buf, out;
  void *z;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * (size_t)r * c, &z, &buf));
  cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, r, c, k, 1.0, x, k, y, c, 0.0, z, c);
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)r * c, buf, 0, &out));
  return out;
}

/*
 * geev(a: Float64Array of n·n, n) -> { re: Float64Array, im: Float64Array }: the eigenvalues of a
 * general real matrix (LAPACK dgeev). Row-major input read as column-major is Aᵀ, which has the same
 * eigenvalues. The input is copied, never modified.
 */
static napi_value Geev(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type type;
  size_t len = 0;
  void *data = NULL;
  int32_t n = 0;
  if (argc < 2 || napi_get_typedarray_info(env, argv[0], &type, &len, &data, NULL, NULL) != napi_ok ||
      type != napi_float64_array || napi_get_value_int32(env, argv[1], &n) != napi_ok || n < 1 ||
      (size_t)n * (size_t)n != len) {
    napi_throw_type_error(env, "E_NATIVE", "engram_blas.geev: expected (Float64Array of n*n values, n >= 1)");
    return NULL;
  }
  const size_t nn = (size_t)n * (size_t)n;
  double *a = malloc(sizeof(double) * nn);
  if (!a) {
    napi_throw_error(env, "E_NATIVE", "engram_blas.geev: out of memory");
    return NULL;
  }
  memcpy(a, data, sizeof(double) * nn);
  napi_value re_buf, im_buf, re, im, out;
  void *wr, *wi;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * n, &wr, &re_buf));
  CHECK(napi_create_arraybuffer(env, sizeof(double) * n, &wi, &im_buf));
  int lwork = -1, info_ = 0, one = 1;
  double query = 0;
  dgeev_("N", "N", &n, a, &n, wr, wi, NULL, &one, NULL, &one, &query, &lwork, &info_);
  lwork = info_ == 0 ? (int)query : 4 * n;
  double *work = malloc(sizeof(double) * (size_t)(lwork > 1 ? lwork : 1));
  if (!work) {
    free(a);
    napi_throw_error(env, "E_NATIVE", "engram_blas.geev: out of memory");
    return NULL;
  }
  dgeev_("N", "N", &n, a, &n, wr, wi, NULL, &one, NULL, &one, work, &lwork, &info_);
  free(work);
  free(a);
  if (info_ != 0) {
    napi_throw_error(env, "E_NATIVE", info_ < 0 ? "engram_blas.geev: bad argument" : "engram_blas.geev: QR algorithm did not converge");
    return NULL;
  }
  CHECK(napi_create_typedarray(env, napi_float64_array, n, re_buf, 0, &re));
  CHECK(napi_create_typedarray(env, napi_float64_array, n, im_buf, 0, &im));
  CHECK(napi_create_object(env, &out));
  CHECK(napi_set_named_property(env, out, "re", re));
  CHECK(napi_set_named_property(env, out, "im", im));
  return out;
}

/*
 * The Cholesky solves of posv and cholL: A (n×n, symmetric positive definite) = Uᵀ U, with U the
 * row-major reading of dpotrf's column-major lower factor (a row-major symmetric matrix read as
 * column-major is itself). Returns Uᵀ⁻¹ B, and with `both` U⁻¹ Uᵀ⁻¹ B = A⁻¹ B; null when A is not
 * positive definite. Inputs are copied, never modified.
 */
static napi_value SpdSolve(napi_env env, napi_callback_info info, const char *name, int both) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type ta, tb;
  size_t la = 0, lb = 0;
  void *a = NULL, *b = NULL;
  int32_t n = 0, m = 0;
  if (argc < 4 || napi_get_typedarray_info(env, argv[0], &ta, &la, &a, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &tb, &lb, &b, NULL, NULL) != napi_ok || ta != napi_float64_array ||
      tb != napi_float64_array || napi_get_value_int32(env, argv[2], &n) != napi_ok ||
      napi_get_value_int32(env, argv[3], &m) != napi_ok || n < 1 || m < 1 || la != (size_t)n * n ||
      lb != (size_t)n * m) {
    char msg[128];
    snprintf(msg, sizeof msg, "engram_blas.%s: expected (Float64Array n*n, Float64Array n*m, n, m)", name);
    napi_throw_type_error(env, "E_NATIVE", msg);
    return NULL;
  }
  double *f = malloc(sizeof(double) * (size_t)n * n);
  if (!f) {
    char msg[128];
    snprintf(msg, sizeof msg, "engram_blas.%s: out of memory", name);
    napi_throw_error(env, "E_NATIVE", msg);
    return NULL;
  }
  memcpy(f, a, sizeof(double) * (size_t)n * n);
  int info_ = 0;
  dpotrf_("L", &n, f, &n, &info_);
  napi_value out;
  if (info_ != 0) {
    free(f);
    CHECK(napi_get_null(env, &out));
    return out;
  }
  napi_value buf;
  void *x;
  CHECK(napi_create_arraybuffer(env, sizeof(double) * (size_t)n * m, &x, &buf));
  memcpy(x, b, sizeof(double) * (size_t)n * m);
  cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasTrans, CblasNonUnit, n, m, 1.0, f, n, x, m);
  if (both) cblas_dtrsm(CblasRowMajor, CblasLeft, CblasUpper, CblasNoTrans, CblasNonUnit, n, m, 1.0, f, n, x, m);
  free(f);
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)n * m, buf, 0, &out));
  return out;
}

/* posv(a: Float64Array n×n symmetric positive definite, b: Float64Array n×m, n, m) -> Float64Array n×m (new): A⁻¹B, or null. */
static napi_value Posv(napi_env env, napi_callback_info info) { return SpdSolve(env, info, "posv", 1); }

/*
 * cholL(g: Float64Array r×r symmetric positive definite, b: Float64Array r×w, r, w) -> Float64Array r×w
 * (new): L⁻¹B with G = L Lᵀ (L = Uᵀ above), so (L⁻¹B)ᵀ(L⁻¹B) = Bᵀ G⁻¹ B; or null.
 */
static napi_value CholL(napi_env env, napi_callback_info info) { return SpdSolve(env, info, "cholL", 0); }

/*
 * jacgram(bp: Float64Array r×w, derivs: Float32Array depth·n·w, ws: Float64Array (depth−1)·w·w, r, w, n, depth)
 *   -> Float64Array w×w (new): C = Σ_i Q_iᵀ Q_i with Q_i = bp·D_0(i)·W_1·D_1(i)⋯W_{depth−1}·D_{depth−1}(i),
 * D_l(i) = diag(derivs[l][i]) — the Jacobian Gram of solve.ts's low-rank path. Points go in chunks
 * stacked into one (m·r)×w matrix, so each layer is one dgemm and each chunk one dsyrk.
 */
static napi_value JacGram(napi_env env, napi_callback_info info) {
  size_t argc = 7;
  napi_value argv[7];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  napi_typedarray_type tb, td, tw;
  size_t lb = 0, ld = 0, lw = 0;
  void *bpv = NULL, *dv = NULL, *wv = NULL;
  int32_t r = 0, w = 0, n = 0, depth = 0;
  if (argc < 7 || napi_get_typedarray_info(env, argv[0], &tb, &lb, &bpv, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[1], &td, &ld, &dv, NULL, NULL) != napi_ok ||
      napi_get_typedarray_info(env, argv[2], &tw, &lw, &wv, NULL, NULL) != napi_ok || tb != napi_float64_array ||
      td != napi_float32_array || tw != napi_float64_array || napi_get_value_int32(env, argv[3], &r) != napi_ok ||
      napi_get_value_int32(env, argv[4], &w) != napi_ok || napi_get_value_int32(env, argv[5], &n) != napi_ok ||
      napi_get_value_int32(env, argv[6], &depth) != napi_ok || r < 1 || w < 1 || n < 1 || depth < 1 ||
      lb != (size_t)r * w || ld != (size_t)depth * n * w || lw != (size_t)(depth - 1) * w * w) {
    napi_throw_type_error(env, "E_NATIVE",
                          "engram_blas.jacgram: expected (Float64Array r*w, Float32Array depth*n*w, Float64Array (depth-1)*w*w, r, w, n, depth)");
    return NULL;
  }
  const double *bp = bpv, *ws = wv;
  const float *derivs = dv;
  const size_t rw = (size_t)r * w;
  int chunk = 4096 / r;
  if (chunk < 1) chunk = 1;
  if (chunk > n) chunk = n;
  double *q = malloc(sizeof(double) * rw * chunk), *q2 = depth > 1 ? malloc(sizeof(double) * rw * chunk) : NULL;
  napi_value buf, out;
  void *cv;
  if (!q || (depth > 1 && !q2)) {
    free(q);
    free(q2);
    napi_throw_error(env, "E_NATIVE", "engram_blas.jacgram: out of memory");
    return NULL;
  }
  CHECK(napi_create_arraybuffer(env, sizeof(double) * (size_t)w * w, &cv, &buf));
  double *c = cv;
  memset(c, 0, sizeof(double) * (size_t)w * w);
  for (int i0 = 0; i0 < n; i0 += chunk) {
    const int m = i0 + chunk <= n ? chunk : n - i0;
    for (int j = 0; j < m; j++) {
      const float *d0 = derivs + (size_t)(i0 + j) * w;
      double *blk = q + j * rw;
      for (int a = 0; a < r; a++)
        for (int t = 0; t < w; t++) blk[(size_t)a * w + t] = bp[(size_t)a * w + t] * d0[t];
    }
    for (int l = 1; l < depth; l++) {
      cblas_dgemm(CblasRowMajor, CblasNoTrans, CblasNoTrans, m * r, w, w, 1.0, q, w, ws + (size_t)(l - 1) * w * w, w,
                  0.0, q2, w);
      for (int j = 0; j < m; j++) {
        const float *dl = derivs + ((size_t)l * n + i0 + j) * w;
        double *blk = q2 + j * rw;
        for (int a = 0; a < r; a++)
          for (int t = 0; t < w; t++) blk[(size_t)a * w + t] *= dl[t];
      }
      double *tmp = q;
      q = q2;
      q2 = tmp;
    }
    cblas_dsyrk(CblasRowMajor, CblasUpper, CblasTrans, w, m * r, 1.0, q, w, 1.0, c, w);
  }
  free(q);
  free(q2);
  for (int a = 0; a < w; a++)
    for (int t = 0; t < a; t++) c[(size_t)a * w + t] = c[(size_t)t * w + a];
  CHECK(napi_create_typedarray(env, napi_float64_array, (size_t)w * w, buf, 0, &out));
  return out;
}

static napi_value Info(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value obj, v;
  CHECK(napi_create_object(env, &obj));
  CHECK(napi_create_string_utf8(env, openblas_get_config(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "config", v));
  CHECK(napi_create_string_utf8(env, openblas_get_corename(), NAPI_AUTO_LENGTH, &v));
  CHECK(napi_set_named_property(env, obj, "corename", v));
  CHECK(napi_create_int32(env, openblas_get_num_threads(), &v));
  CHECK(napi_set_named_property(env, obj, "threads", v));
  return obj;
}

static napi_value Init(napi_env env, napi_value exports) {
  napi_property_descriptor props[] = {
      {"gemm", NULL, Gemm, NULL, NULL, NULL, napi_default, NULL},
      {"adam", NULL, Adam, NULL, NULL, NULL, napi_default, NULL},
      {"sumsq", NULL, SumSq, NULL, NULL, NULL, napi_default, NULL},
      {"dgemm", NULL, Dgemm, NULL, NULL, NULL, napi_default, NULL},
      {"posv", NULL, Posv, NULL, NULL, NULL, napi_default, NULL},
      {"cholL", NULL, CholL, NULL, NULL, NULL, napi_default, NULL},
      {"jacgram", NULL, JacGram, NULL, NULL, NULL, napi_default, NULL},
      {"geev", NULL, Geev, NULL, NULL, NULL, napi_default, NULL},
      {"info", NULL, Info, NULL, NULL, NULL, napi_default, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof(props) / sizeof(props[0]), props));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, Init)

/**
 * A plain float64 integrator of the associative-memory model of docs/math.md §8, for tests only: scores,
 * loss, gradient, one GD step, margins and the dense Hessian, written as direct loops from the
 * formulas so the tfjs (float32) engine can be checked against it.
 *
 *   s(x, y) = u_yᵀ W e_x,  L = Σ_x p(x)·(−log softmax_y s(x, ·)[f*(x)])
 *   ∇L = Σ_x p(x) Σ_y (p_W(y|x) − 1[y = f*(x)]) u_y e_xᵀ
 *   ∇²L = Σ_x p(x)·(e_x e_xᵀ) ⊗ C_x,  C_x = Σ_y p_W(y|x) u_y u_yᵀ − ū_x ū_xᵀ
 */
export interface AssocProblem {
  n: number;
  m: number;
  d: number;
  /** n×d row-major: row x is e_x. */
  e: Float64Array;
  /** m×d row-major: row y is u_y. */
  u: Float64Array;
  p: Float64Array;
  targets: Int32Array;
}

/** n×m scores s(x, y) = u_yᵀ W e_x for W (d×d row-major). */
export function scores64(a: AssocProblem, w: Float64Array): Float64Array {
  const { n, m, d } = a;
  const s = new Float64Array(n * m);
  for (let x = 0; x < n; x++) {
    const we = new Float64Array(d); // W e_x
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) we[i] += w[i * d + j] * a.e[x * d + j];
    for (let y = 0; y < m; y++) {
      let v = 0;
      for (let i = 0; i < d; i++) v += a.u[y * d + i] * we[i];
      s[x * m + y] = v;
    }
  }
  return s;
}

export function softmaxRows64(s: Float64Array, n: number, m: number): Float64Array {
  const out = new Float64Array(n * m);
  for (let x = 0; x < n; x++) {
    let mx = -Infinity;
    for (let y = 0; y < m; y++) mx = Math.max(mx, s[x * m + y]);
    let z = 0;
    for (let y = 0; y < m; y++) z += (out[x * m + y] = Math.exp(s[x * m + y] - mx));
    for (let y = 0; y < m; y++) out[x * m + y] /= z;
  }
  return out;
}

export function loss64(a: AssocProblem, w: Float64Array): { loss: number; loss01: number } {
  const { n, m } = a;
  const s = scores64(a, w);
  let loss = 0, loss01 = 0;
  for (let x = 0; x < n; x++) {
    let mx = -Infinity, arg = 0;
    for (let y = 0; y < m; y++) if (s[x * m + y] > mx) [mx, arg] = [s[x * m + y], y];
    let z = 0;
    for (let y = 0; y < m; y++) z += Math.exp(s[x * m + y] - mx);
    loss += a.p[x] * (mx + Math.log(z) - s[x * m + a.targets[x]]);
    if (arg !== a.targets[x]) loss01 += a.p[x];
  }
  return { loss, loss01 };
}

/** ∇_W L (d×d row-major) with per-token weights (default p). */
export function grad64(a: AssocProblem, w: Float64Array, weights: Float64Array = a.p): Float64Array {
  const { n, m, d } = a;
  const pw = softmaxRows64(scores64(a, w), n, m);
  const g = new Float64Array(d * d);
  for (let x = 0; x < n; x++) {
    const r = new Float64Array(d); // Σ_y (p_W − 1[y = f*]) u_y
    for (let y = 0; y < m; y++) {
      const c = weights[x] * (pw[x * m + y] - (y === a.targets[x] ? 1 : 0));
      for (let i = 0; i < d; i++) r[i] += c * a.u[y * d + i];
    }
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) g[i * d + j] += r[i] * a.e[x * d + j];
  }
  return g;
}

export function gdStep64(a: AssocProblem, w: Float64Array, lr: number): Float64Array {
  const g = grad64(a, w);
  return w.map((v, i) => v - lr * g[i]);
}

/** m_x = s(x, f*(x)) − max_{y≠f*(x)} s(x, y). */
export function margins64(a: AssocProblem, w: Float64Array): Float64Array {
  const { n, m } = a;
  const s = scores64(a, w);
  return Float64Array.from({ length: n }, (_, x) => {
    let other = -Infinity;
    for (let y = 0; y < m; y++) if (y !== a.targets[x]) other = Math.max(other, s[x * m + y]);
    return s[x * m + a.targets[x]] - other;
  });
}

/**
 * The dense Hessian (d²×d², row-major vec(W): index i·d + j for W[i][j]) from the closed form
 * H[(i,j),(k,l)] = Σ_x p(x)·C_x[i][k]·e_x[j]·e_x[l].
 */
export function hessianDense64(a: AssocProblem, w: Float64Array): Float64Array {
  const { n, m, d } = a;
  const pw = softmaxRows64(scores64(a, w), n, m);
  const D = d * d;
  const h = new Float64Array(D * D);
  for (let x = 0; x < n; x++) {
    const ub = new Float64Array(d);
    for (let y = 0; y < m; y++) for (let i = 0; i < d; i++) ub[i] += pw[x * m + y] * a.u[y * d + i];
    const c = new Float64Array(d * d);
    for (let i = 0; i < d; i++) {
      for (let k = 0; k < d; k++) {
        let v = -ub[i] * ub[k];
        for (let y = 0; y < m; y++) v += pw[x * m + y] * a.u[y * d + i] * a.u[y * d + k];
        c[i * d + k] = v;
      }
    }
    const ex = a.e.subarray(x * d, (x + 1) * d);
    for (let i = 0; i < d; i++) for (let j = 0; j < d; j++) for (let k = 0; k < d; k++) for (let l = 0; l < d; l++) {
      h[(i * d + j) * D + k * d + l] += a.p[x] * c[i * d + k] * ex[j] * ex[l];
    }
  }
  return h;
}

/* Gram-Schmidt rows in the correlation domain, shared by the greedy and the
 * homotopy kernels; included by a kernel template with TYPE defined.
 *
 * For a support of atoms selected in order, row t of W holds
 * <q_t, d_i> for every atom i, q_t being the t-th Gram-Schmidt vector of the
 * support.  A new atom j gets the row (G[j, :] - sum_t W[t, j] W[t, :]) /
 * sqrt(d), d = ||P d_j||^2; the rows restricted to the support form the
 * Cholesky factor of the support's Gram matrix: L[u][t] = W[t, support[u]].
 */
#ifndef CAT
#error "include from a kernel template"
#endif

#ifndef ST_GS_IVDEP
/* w and the rows of W never overlap, and src is either distinct from w or
 * w itself, read before written element by element: no runtime aliasing
 * checks (whose failure, src == w, would fall back to scalar code). */
#if defined(__GNUC__) && !defined(__clang__)
#define ST_GS_IVDEP _Pragma("GCC ivdep")
#else
#define ST_GS_IVDEP
#endif
#endif

/* w = src - sum_{t0 <= t < t0 + r} W[t, j] W[t, :] for r in 0..4 (src may
 * be w itself). */
ST_INLINE void CAT(st_gs_rows_, TYPE)(TYPE *w, const TYPE *src, const TYPE *W,
                                   ptrdiff_t n, ptrdiff_t j, ptrdiff_t t0,
                                   ptrdiff_t r)
{
    ptrdiff_t i;
    const TYPE *w0 = W + t0 * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
    switch (r) {
    case 0:
        ST_GS_IVDEP
        for (i = 0; i < n; ++i) {
            w[i] = src[i];
        }
        break;
    case 1: {
        const TYPE c0 = w0[j];
        ST_GS_IVDEP
        for (i = 0; i < n; ++i) {
            w[i] = src[i] - c0 * w0[i];
        }
        break;
    }
    case 2: {
        const TYPE c0 = w0[j], c1 = w1[j];
        ST_GS_IVDEP
        for (i = 0; i < n; ++i) {
            w[i] = src[i] - (c0 * w0[i] + c1 * w1[i]);
        }
        break;
    }
    case 3: {
        const TYPE c0 = w0[j], c1 = w1[j], c2 = w2[j];
        ST_GS_IVDEP
        for (i = 0; i < n; ++i) {
            w[i] = src[i] - (c0 * w0[i] + c1 * w1[i] + c2 * w2[i]);
        }
        break;
    }
    default: {
        const TYPE c0 = w0[j], c1 = w1[j], c2 = w2[j], c3 = w3[j];
        ST_GS_IVDEP
        for (i = 0; i < n; ++i) {
            w[i] = src[i] - ((c0 * w0[i] + c1 * w1[i]) + (c2 * w2[i] + c3 * w3[i]));
        }
        break;
    }
    }
}


/* Batch-OMP / Batch-ORMP kernel, written once for TYPE in {float, double}.
 * Included by batch_omp.c with TYPE, ITYPE (a signed integer as wide as TYPE),
 * SQRT and EPSILON defined; see batch_omp.h for the algorithm and its contract.
 *
 * Per selected atom j the kernel computes the new Gram-Schmidt row
 * w_s[i] = (G[j, i] - sum_t w_t[j] w_t[i]) / sqrt(d) for all atoms i, then
 * makes one pass that updates the residual correlations
 * alpha[i] -= z_s w_s[i] and the projected norms nrm2[i] -= w_s[i]^2 and
 * finds the next atom.  Scores: |alpha_i| (OMP) or alpha_i^2 / nrm2_i (ORMP,
 * compared by cross-multiplication, no division).  Ties go to the smallest
 * index, as numpy.argmax does.  Every loop is written so that the compiler
 * vectorises it for each target clone. */

/* Lanes of the update-and-select pass: independent running maxima, so the
 * pass has no loop-carried latency chain and the compiler vectorises it. */
#define ST_LANES 16

/* When UPDATE is 1, scale the new Gram-Schmidt row w by `scale`
 * (1 / sqrt(d)) and update the residual correlations and projected norms
 * with it; in any case return the next
 * atom: the first index of the largest score among atoms whose projected
 * norm exceeds thresh[i], or -1 when none has a positive score.  The loop
 * bodies are branch-free so they vectorise; each lane keeps its first
 * maximum (strict >) and lanes are merged by smallest index on ties, which
 * is numpy.argmax's rule. */
#define ST_UPDATE_SELECT(NAME, SCORE_NUM, SCORE_DEN, RATIO, UPDATE)           \
    ST_INLINE ptrdiff_t CAT(NAME, TYPE)(                                      \
        TYPE *restrict alpha, TYPE *restrict nrm2,                            \
        const TYPE *restrict thresh, TYPE *restrict w, TYPE scale, TYPE zs,   \
        ptrdiff_t n)                                                          \
    {                                                                         \
        TYPE num[ST_LANES], den[ST_LANES];                                    \
        ITYPE idx[ST_LANES];                                                  \
        ptrdiff_t i, l;                                                       \
        const ptrdiff_t n_full = n - n % ST_LANES;                            \
        for (l = 0; l < ST_LANES; ++l) {                                      \
            num[l] = 0;                                                       \
            den[l] = 1;                                                       \
            idx[l] = -1;                                                      \
        }                                                                     \
        for (i = 0; i < n_full; i += ST_LANES) {                              \
            for (l = 0; l < ST_LANES; ++l) {                                  \
                TYPE a = alpha[i + l], q = nrm2[i + l];                       \
                if (UPDATE) {                                                 \
                    const TYPE v = w[i + l] * scale;                          \
                    a -= zs * v;                                              \
                    q -= v * v;                                               \
                    w[i + l] = v;                                             \
                    alpha[i + l] = a;                                         \
                    nrm2[i + l] = q;                                          \
                }                                                             \
                const TYPE sn = SCORE_NUM;                                    \
                const TYPE sd = SCORE_DEN;                                    \
                const int take = (q > thresh[i + l]) &                        \
                                 (RATIO ? sn * den[l] > num[l] * sd           \
                                        : sn > num[l]);                       \
                num[l] = take ? sn : num[l];                                  \
                if (RATIO) {                                                  \
                    den[l] = take ? sd : den[l];                              \
                }                                                             \
                idx[l] = take ? (ITYPE)(i + l) : idx[l];                      \
            }                                                                 \
        }                                                                     \
        for (i = n_full; i < n; ++i) {                                        \
            TYPE a = alpha[i], q = nrm2[i];                                   \
            if (UPDATE) {                                                     \
                const TYPE v = w[i] * scale;                                  \
                a -= zs * v;                                                  \
                q -= v * v;                                                   \
                w[i] = v;                                                     \
                alpha[i] = a;                                                 \
                nrm2[i] = q;                                                  \
            }                                                                 \
            const TYPE sn = SCORE_NUM;                                        \
            const TYPE sd = SCORE_DEN;                                        \
            l = i - n_full;                                                   \
            if (q > thresh[i] &&                                              \
                (RATIO ? sn * den[l] > num[l] * sd : sn > num[l])) {          \
                num[l] = sn;                                                  \
                den[l] = sd;                                                  \
                idx[l] = (ITYPE)i;                                            \
            }                                                                 \
        }                                                                     \
        return CAT(omp_merge_lanes_, TYPE)(num, den, idx);                    \
    }

ST_INLINE ptrdiff_t CAT(omp_merge_lanes_, TYPE)(const TYPE *num,
                                               const TYPE *den,
                                               const ITYPE *idx)
{
    ptrdiff_t l;
    ITYPE best_i = -1;
    TYPE best_num = 0, best_den = 1;
    for (l = 0; l < ST_LANES; ++l) {
        if (idx[l] < 0) {
            continue;
        }
        const TYPE lhs = num[l] * best_den, rhs = best_num * den[l];
        if (best_i < 0 || lhs > rhs || (lhs == rhs && idx[l] < best_i)) {
            best_num = num[l];
            best_den = den[l];
            best_i = idx[l];
        }
    }
    return (ptrdiff_t)best_i;
}

/* OMP scores |alpha_i| directly (its lanes' den stays 1); ORMP compares
 * alpha_i^2 / nrm2_i by cross-multiplication. */
ST_UPDATE_SELECT(omp_update_select_omp_, (a < 0 ? -a : a), (TYPE)1, 0, 1)
ST_UPDATE_SELECT(omp_update_select_ormp_, a * a, q, 1, 1)
/* First selection: nothing to update (w and scale are not read). */
ST_UPDATE_SELECT(omp_select_omp_, (a < 0 ? -a : a), (TYPE)1, 0, 0)
ST_UPDATE_SELECT(omp_select_ormp_, a * a, q, 1, 0)
#undef ST_UPDATE_SELECT
#undef ST_LANES

#include "gram_schmidt.template.h"

ST_HOT_CLONES
int CAT(st_omp_, TYPE)(const TYPE *gram, const TYPE *gdiag,
                       const TYPE *thresh, ptrdiff_t n_atoms, TYPE *corr,
                       TYPE norm2, ptrdiff_t max_k, TYPE tol, int method,
                       TYPE *work, ptrdiff_t *support, TYPE *coef,
                       ptrdiff_t *n_selected)
{
    const ptrdiff_t n = n_atoms;
    ptrdiff_t i, s, t, u, j;

    if (n <= 0 || max_k < 0 || max_k > n ||
        (method != ST_OMP && method != ST_ORMP)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_selected = 0;

    TYPE *restrict alpha = corr;       /* <r, d_i>: residual correlations */
    TYPE *restrict nrm2 = work;        /* ||P d_i||^2, < 0 once selected */
    TYPE *restrict W = work + n;       /* row t: <q_t, d_i> for all i */
    TYPE *restrict z = W + max_k * n;  /* <q_t, x> */
    const int ormp = method == ST_ORMP;

    /* Selection stops when the best atom removes no more than rounding noise
     * of the signal's energy: the residual is zero to working precision. */
    const TYPE negligible = (TYPE)100 * EPSILON * EPSILON * norm2;
    TYPE r2 = norm2;

    if (!(norm2 > 0)) {
        return ST_OK; /* zero signal: zero code */
    }
    for (i = 0; i < n; ++i) {
        nrm2[i] = gdiag[i];
    }
    j = ormp ? CAT(omp_select_ormp_, TYPE)(alpha, nrm2, thresh, NULL, 0, 0, n)
             : CAT(omp_select_omp_, TYPE)(alpha, nrm2, thresh, NULL, 0, 0, n);

    for (s = 0; s < max_k; ++s) {
        if (r2 <= tol || j < 0) {
            break; /* j < 0: no atom can reduce the residual */
        }
        const TYPE d = nrm2[j];
        if (alpha[j] * alpha[j] / d <= negligible) {
            break;
        }
        const TYPE sd = SQRT(d);
        const TYPE inv = (TYPE)1 / sd;
        const TYPE zs = alpha[j] * inv;
        const TYPE *restrict g = gram + j * n;
        TYPE *restrict w = W + s * n;
        z[s] = zs;
        support[s] = j;
        if (s + 1 == max_k) {
            /* Last atom: the back-substitution needs only the diagonal of
             * its row, and no further selection is made. */
            w[j] = sd;
            ++s;
            break;
        }
        /* w = G[j, :] - sum_t <q_t, d_j> W[t, :], up to four rows of W per
         * pass; the division by sqrt(d) happens in the update pass. */
        CAT(st_gs_rows_, TYPE)(w, g, W, n, j, 0, s < 3 ? s : 3);
        for (t = s < 3 ? s : 3; t < s; t += 4) {
            CAT(st_gs_rows_, TYPE)(w, w, W, n, j, t, s - t < 4 ? s - t : 4);
        }
        r2 -= zs * zs;
        if (r2 < 0) {
            r2 = 0;
        }
        nrm2[j] = -1; /* selected: its projected norm stays negative */
        j = ormp ? CAT(omp_update_select_ormp_, TYPE)(alpha, nrm2, thresh, w, inv, zs, n)
                 : CAT(omp_update_select_omp_, TYPE)(alpha, nrm2, thresh, w, inv, zs, n);
    }
    *n_selected = s;

    /* Back-substitution L^T coef = z, with L[u][t] = W[t, support[u]]. */
    for (t = s - 1; t >= 0; --t) {
        TYPE v = z[t];
        for (u = t + 1; u < s; ++u) {
            v -= W[t * n + support[u]] * coef[u];
        }
        coef[t] = v / W[t * n + support[t]];
    }
    return ST_OK;
}

/* Batch-OMP / Batch-ORMP kernel, written once for TYPE in {float, double}.
 * Included by omp.c with TYPE, ITYPE (a signed integer as wide as TYPE),
 * SQRT and EPSILON defined; see omp.h for the algorithm and its contract. */

/* Lanes of the fused update-and-select pass: independent running maxima, so
 * the pass has no loop-carried latency chain and vectorises. */
#define ST_LANES 16

/* Update the residual correlations and projected norms with the new
 * Gram-Schmidt row w (skipped when w is NULL, for the first selection) and
 * return the next atom: the first index of the largest score among atoms
 * whose projected norm exceeds dep * ||d_i||^2, or -1 when none has a
 * positive score.  Scores: |alpha_i| (OMP) or alpha_i^2 / nrm2_i (ORMP),
 * compared by cross-multiplication so no division is needed. */
static inline ptrdiff_t CAT(omp_update_select_, TYPE)(
    TYPE *restrict alpha, TYPE *restrict nrm2, const TYPE *restrict gdiag,
    const TYPE *restrict w, TYPE zs, ptrdiff_t n, int method, TYPE dep)
{
    TYPE num[ST_LANES], den[ST_LANES];
    ITYPE idx[ST_LANES];
    ptrdiff_t i, i0, l;
    ITYPE best_i = -1;
    TYPE best_num = 0, best_den = 1;
    const int ormp = method == ST_ORMP;

    for (l = 0; l < ST_LANES; ++l) {
        num[l] = 0;
        den[l] = 1;
        idx[l] = -1;
    }
    for (i0 = 0; i0 < n; i0 += ST_LANES) {
        const ptrdiff_t len = n - i0 < ST_LANES ? n - i0 : ST_LANES;
        for (l = 0; l < len; ++l) {
            i = i0 + l;
            TYPE a = alpha[i];
            TYPE q = nrm2[i];
            if (w) {
                const TYPE v = w[i];
                a -= zs * v;
                q -= v * v;
                alpha[i] = a;
                nrm2[i] = q;
            }
            const int ok = q > dep * gdiag[i];
            const TYPE absa = a < 0 ? -a : a;
            const TYPE sn = ormp ? a * a : absa;
            const TYPE sd = ormp ? q : (TYPE)1;
            const int take = ok & (sn * den[l] > num[l] * sd);
            num[l] = take ? sn : num[l];
            den[l] = take ? sd : den[l];
            idx[l] = take ? (ITYPE)i : idx[l];
        }
    }
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
#undef ST_LANES

ST_HOT_CLONES
int CAT(st_omp_, TYPE)(const TYPE *gram, const TYPE *gdiag, ptrdiff_t n_atoms,
                       TYPE *corr, TYPE norm2, ptrdiff_t max_k, TYPE tol,
                       int method, TYPE *work, ptrdiff_t *support, TYPE *coef,
                       ptrdiff_t *n_selected)
{
    enum { BLOCK = 64 };
    const ptrdiff_t n = n_atoms;
    ptrdiff_t i, i0, s, t, u, j;

    if (n <= 0 || max_k < 0 || max_k > n ||
        (method != ST_OMP && method != ST_ORMP)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_selected = 0;

    TYPE *restrict alpha = corr;         /* <r, d_i>: residual correlations */
    TYPE *restrict nrm2 = work;          /* ||P d_i||^2, < 0 once selected */
    TYPE *restrict W = work + n;         /* row t: <q_t, d_i> for all i */
    TYPE *restrict z = W + max_k * n;    /* <q_t, x> */

    /* An atom stays selectable while the squared norm of its component
     * orthogonal to the support is well above the rounding error of the
     * downdates (this excludes duplicated and zero atoms, and atoms beyond
     * the rank of the dictionary). */
    const TYPE dep = (TYPE)1000 * EPSILON;
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
    j = CAT(omp_update_select_, TYPE)(alpha, nrm2, gdiag, NULL, 0, n, method, dep);

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

        /* w = (G[j, :] - sum_t <q_t, d_j> W[t, :]) / sqrt(d), blocked so the
         * partial sums stay in registers while the rows of W stream past. */
        if (s == 0) {
            for (i = 0; i < n; ++i) {
                w[i] = g[i] * inv;
            }
        } else {
            for (i0 = 0; i0 < n; i0 += BLOCK) {
                const ptrdiff_t len = n - i0 < BLOCK ? n - i0 : BLOCK;
                TYPE acc[BLOCK];
                const TYPE c0 = W[j];
                for (i = 0; i < len; ++i) {
                    acc[i] = g[i0 + i] - c0 * W[i0 + i];
                }
                for (t = 1; t < s; ++t) {
                    const TYPE c = W[t * n + j];
                    const TYPE *restrict wt = W + t * n + i0;
                    for (i = 0; i < len; ++i) {
                        acc[i] -= c * wt[i];
                    }
                }
                for (i = 0; i < len; ++i) {
                    w[i0 + i] = acc[i] * inv;
                }
            }
        }
        z[s] = zs;
        support[s] = j;
        r2 -= zs * zs;
        if (r2 < 0) {
            r2 = 0;
        }
        nrm2[j] = -1; /* selected: its projected norm stays negative */
        j = CAT(omp_update_select_, TYPE)(alpha, nrm2, gdiag, w, zs, n, method, dep);
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

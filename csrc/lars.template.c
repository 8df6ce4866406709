/* LARS-homotopy kernel, written once for TYPE in {float, double}.  Included
 * by lars.c with TYPE, ITYPE (a signed integer as wide as TYPE), SQRT and
 * HUGE_VALUE defined; see lars.h for the algorithm and its contract. */

#include "gram_schmidt.template.h"

/* Make atom j, with sign sg, the s-th active atom: its Gram-Schmidt row, its
 * components of z = L^{-1} c_A and v = L^{-1} s_A, and the updates
 * e -= z_s w, d += v_s w, nrm2 -= w^2 over all atoms. */
ST_INLINE void CAT(lars_add_, TYPE)(const TYPE *gram, ptrdiff_t n, TYPE *W,
                                    ptrdiff_t s, ptrdiff_t j, TYPE sg,
                                    TYPE *restrict e, TYPE *restrict d,
                                    TYPE *restrict nrm2, TYPE *z, TYPE *v,
                                    TYPE *sgn, ptrdiff_t *support)
{
    ptrdiff_t i, t;
    const TYPE inv = (TYPE)1 / SQRT(nrm2[j]);
    TYPE *restrict w = W + s * n;
    TYPE vs = sg;

    /* w = G[j, :] - sum_t W[t, j] W[t, :], four rows of W per pass */
    t = 0;
    do {
        const ptrdiff_t r = s - t < 4 ? s - t : 4;
        CAT(st_gs_rows_, TYPE)(w, t == 0 ? gram + j * n : w, W, n, j, t, r);
        t += r;
    } while (t < s);
    /* v_s = (s_j - sum_t L[s][t] v_t) / L[s][s], with L[s][t] = W[t, j] */
    for (t = 0; t < s; ++t) {
        vs -= W[t * n + j] * v[t];
    }
    vs *= inv;
    {
        const TYPE zs = e[j] * inv;
        for (i = 0; i < n; ++i) {
            const TYPE wi = w[i] * inv;
            w[i] = wi;
            e[i] -= zs * wi;
            d[i] += vs * wi;
            nrm2[i] -= wi * wi;
        }
        z[s] = zs;
    }
    nrm2[j] = -1; /* active: never a join candidate */
    v[s] = vs;
    sgn[s] = sg;
    support[s] = j;
}

/* Lanes of the join search: independent running maxima, so the pass has no
 * loop-carried latency chain and vectorises. */
#define ST_LANES 16

/* The largest lambda' <= lam at which an inactive atom's residual
 * correlation e_i + lambda' d_i reaches +-lambda' (only + when positive), as
 * the ratio *num / *den; returns the atom, or -1 when none.  The crossing of
 * atom i is |e_i| / (1 - sign(e_i) d_i); an atom whose crossing is not below
 * lam (tied with the atom that just joined, or past lam by rounding) joins
 * at lam.  Candidates are compared by cross-multiplication, ties going to
 * the smallest index.  Atom `exclude` (or -1) may not join with sign
 * `exclude_sign`: it has just left with that sign, at lam. */
ST_INLINE ptrdiff_t CAT(lars_join_, TYPE)(const TYPE *restrict e,
                                          const TYPE *restrict d,
                                          const TYPE *restrict nrm2,
                                          const TYPE *restrict thresh,
                                          ptrdiff_t n, TYPE lam, int positive,
                                          ptrdiff_t exclude, TYPE exclude_sign,
                                          TYPE *best_num, TYPE *best_den)
{
    TYPE num[ST_LANES], den[ST_LANES];
    ITYPE idx[ST_LANES];
    ptrdiff_t i, l;
    const ptrdiff_t n_full = n - n % ST_LANES;
    ITYPE bi = -1;
    TYPE bn = 0, bd = 1;

    for (l = 0; l < ST_LANES; ++l) {
        num[l] = 0;
        den[l] = 1;
        idx[l] = -1;
    }
#define ST_JOIN_ONE(I, L)                                                     \
    do {                                                                      \
        const TYPE ei = e[I], di = d[I];                                      \
        const TYPE nu0 = ei < 0 ? -ei : ei;                                   \
        const TYPE de0 = ei < 0 ? (TYPE)1 + di : (TYPE)1 - di;                \
        /* a crossing at or above lam (a tie, or rounding; or none, de0 <= 0, \
         * which rounding alone allows) counts as lam: join now */            \
        const TYPE de = de0 > TINY_VALUE ? de0 : TINY_VALUE;                  \
        const TYPE nu = nu0 < lam * de ? nu0 : lam * de;                      \
        const int ok = (nrm2[I] > thresh[I]) & (nu0 > 0) &                    \
                       ((!positive) | (ei > 0)) &                             \
                       (((ptrdiff_t)(I) != exclude) |                         \
                        ((ei > 0) != (exclude_sign > 0)));                    \
        const int take = ok & (nu * den[L] > num[L] * de);                    \
        num[L] = take ? nu : num[L];                                          \
        den[L] = take ? de : den[L];                                          \
        idx[L] = take ? (ITYPE)(I) : idx[L];                                  \
    } while (0)
    for (i = 0; i < n_full; i += ST_LANES) {
        for (l = 0; l < ST_LANES; ++l) {
            ST_JOIN_ONE(i + l, l);
        }
    }
    for (i = n_full; i < n; ++i) {
        ST_JOIN_ONE(i, i - n_full);
    }
#undef ST_JOIN_ONE
    for (l = 0; l < ST_LANES; ++l) {
        if (idx[l] < 0) {
            continue;
        }
        const TYPE lhs = num[l] * bd, rhs = bn * den[l];
        if (bi < 0 || lhs > rhs || (lhs == rhs && idx[l] < bi)) {
            bn = num[l];
            bd = den[l];
            bi = idx[l];
        }
    }
    *best_num = bn;
    *best_den = bd;
    return (ptrdiff_t)bi;
}
#undef ST_LANES

/* x = L^{-T} b for the active set's Cholesky factor, L[u][t] = W[t, support[u]]. */
ST_INLINE void CAT(lars_backsub_, TYPE)(const TYPE *W, ptrdiff_t n,
                                        const ptrdiff_t *support, ptrdiff_t s,
                                        const TYPE *b, TYPE *x)
{
    ptrdiff_t t, u;
    for (t = s - 1; t >= 0; --t) {
        TYPE acc = b[t];
        for (u = t + 1; u < s; ++u) {
            acc -= W[t * n + support[u]] * x[u];
        }
        x[t] = acc / W[t * n + support[t]];
    }
}

ST_HOT_CLONES
int CAT(st_lars_, TYPE)(const TYPE *gram, const TYPE *gdiag,
                        const TYPE *thresh, ptrdiff_t n_atoms, TYPE *corr,
                        TYPE lambda, int positive, ptrdiff_t max_active,
                        ptrdiff_t max_steps, TYPE *work, ptrdiff_t *support,
                        TYPE *coef, ptrdiff_t *n_selected, int *converged)
{
    const ptrdiff_t n = n_atoms, m = max_active;
    ptrdiff_t i, t, s = 0, steps = 0, j;
    ptrdiff_t just_left = -1;   /* atom: cannot rejoin at once with ... */
    TYPE left_sign = 0;         /* ... the sign it left with */
    TYPE lam, bn, bd;

    if (n <= 0 || m < 0 || m > n || max_steps < 1 || !(lambda >= 0)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_selected = 0;
    *converged = 1;

    TYPE *restrict e = corr;       /* residual correlations at lambda = 0 */
    TYPE *restrict c0 = work;      /* the correlations, for rebuilds */
    TYPE *restrict d = c0 + n;     /* d(residual correlation) / d lambda */
    TYPE *restrict nrm2 = d + n;   /* ||P d_i||^2, < 0 once active */
    TYPE *W = nrm2 + n;            /* Gram-Schmidt rows of the active atoms */
    TYPE *z = W + m * n;           /* L^{-1} c_A */
    TYPE *v = z + m;               /* L^{-1} s_A */
    TYPE *sgn = v + m;             /* s_A */
    TYPE *u0 = sgn + m;            /* L^{-T} z: a_A(l) = u0 - l u */
    TYPE *u = u0 + m;              /* L^{-T} v */

    for (i = 0; i < n; ++i) {
        c0[i] = e[i];
        d[i] = 0;
        nrm2[i] = gdiag[i];
    }
    if (m == 0) {
        return ST_OK;
    }
    /* lambda_max: the first atom to join */
    j = CAT(lars_join_, TYPE)(e, d, nrm2, thresh, n, HUGE_VALUE, positive, -1,
                              0, &bn, &bd);
    if (j < 0 || bn / bd <= lambda) {
        return ST_OK; /* the zero code is optimal */
    }
    lam = bn / bd;
    CAT(lars_add_, TYPE)(gram, n, W, 0, j, e[j] > 0 ? 1 : -1, e, d, nrm2, z, v,
                         sgn, support);
    s = 1;
    steps = 1; /* the first join is a step */

    for (;;) {
        TYPE lam_join = -1, lam_drop = -1;
        ptrdiff_t t_drop = -1, j_join = -1;

        /* a_t(l) = u0_t - l u_t; as l decreases it moves by sign(u_t).  An
         * atom leaves where its coefficient reaches zero moving against its
         * sign: at u0_t / u_t below lam, or at lam itself when it is already
         * at (or, by rounding, past) zero and not moving the right way (an
         * atom that joined on a tie it cannot keep). */
        CAT(lars_backsub_, TYPE)(W, n, support, s, z, u0);
        CAT(lars_backsub_, TYPE)(W, n, support, s, v, u);
        for (t = 0; t < s; ++t) {
            const TYPE at = (u0[t] - lam * u[t]) * sgn[t];
            const TYPE ut = u[t] * sgn[t];
            TYPE lt = -1;
            if (at <= 0) {
                if (ut <= 0) {
                    lt = lam;
                }
            } else if (ut < 0) {
                lt = u0[t] / u[t];
            }
            if (lt > lam_drop) {
                lam_drop = lt;
                t_drop = t;
            }
        }
        if (s < m) {
            j_join = CAT(lars_join_, TYPE)(e, d, nrm2, thresh, n, lam, positive,
                                           just_left, left_sign, &bn, &bd);
            if (j_join >= 0) {
                lam_join = bn / bd;
            }
        }
        just_left = -1;
        if (lambda >= lam_join && lambda >= lam_drop) {
            break; /* the path reaches lambda on this segment */
        }
        if (steps >= max_steps) {
            *converged = 0;
            break;
        }
        ++steps;
        if (lam_join >= lam_drop) {
            lam = lam_join;
            CAT(lars_add_, TYPE)(gram, n, W, s, j_join, e[j_join] > 0 ? 1 : -1,
                                 e, d, nrm2, z, v, sgn, support);
            ++s;
        } else {
            /* atom support[t_drop] leaves: rebuild the remaining rows */
            lam = lam_drop;
            just_left = support[t_drop];
            left_sign = sgn[t_drop];
            for (t = t_drop; t + 1 < s; ++t) {
                support[t] = support[t + 1];
                sgn[t] = sgn[t + 1];
            }
            --s;
            for (i = 0; i < n; ++i) {
                e[i] = c0[i];
                d[i] = 0;
                nrm2[i] = gdiag[i];
            }
            for (t = 0; t < s; ++t) {
                CAT(lars_add_, TYPE)(gram, n, W, t, support[t], sgn[t], e, d,
                                     nrm2, z, v, sgn, support);
            }
        }
    }
    /* a_A = L^{-T} (z - lambda v) */
    for (t = 0; t < s; ++t) {
        u[t] = z[t] - lambda * v[t];
    }
    CAT(lars_backsub_, TYPE)(W, n, support, s, u, coef);
    for (t = 0; t < s; ++t) {
        /* a coefficient against its sign is zero up to rounding (a leave
         * exactly at lambda): keep the sign constraint exact */
        if (coef[t] * sgn[t] < 0) {
            coef[t] = 0;
        }
    }
    *n_selected = s;
    return ST_OK;
}

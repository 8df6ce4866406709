/* LARS-homotopy kernel, written once for TYPE in {float, double}.  Included
 * by lars.c with TYPE, ITYPE (a signed integer as wide as TYPE), SQRT and
 * HUGE_VALUE defined; see lars.h for the algorithm and its contract.
 *
 * Per step the work is one pass over the atoms (lars_pass_): the last rows of
 * the new atom's Gram-Schmidt sum, its scaling, the updates of e, d and nrm2,
 * and the join search of the next step, fused, so the arrays are read and
 * written once; earlier Gram-Schmidt rows go four at a time
 * (gram_schmidt.template.h).  The Cholesky factor of the active set is also
 * kept compactly (LT, row t holding W[t, support[u]] for u >= t), so the
 * back-substitutions read contiguous rows. */

#include "gram_schmidt.template.h"

#ifndef ST_IVDEP
/* The arrays of a pass never overlap (disjoint parts of the workspace, or an
 * element read and then written in place): no runtime aliasing checks, no
 * scalar fallback. */
#if defined(__GNUC__) && !defined(__clang__)
#define ST_IVDEP _Pragma("GCC ivdep")
#else
#define ST_IVDEP
#endif
#endif

/* Lanes of the join search: independent running maxima, so the pass has no
 * loop-carried latency chain and vectorises. */
#define ST_LANES 16

/* The join test of atom I in lane L, given its residual correlation
 * EI + lambda' DI and squared distance NI to the active span: the largest
 * lambda' <= lam at which the correlation reaches +-lambda' (only + when
 * positive) is the ratio nu / de, with the crossing |e_i| / (1 - sign(e_i)
 * d_i); an atom whose crossing is not below lam (tied with the atom that just
 * joined, or past lam by rounding) joins at lam.  Candidates are compared by
 * cross-multiplication, per lane (arrays num, den, idx in scope).  Atom
 * `exclude` (or -1) may not join with sign `exclude_sign` (exclude_pos:
 * exclude_sign > 0): it has just left with that sign, at lam; atom `self` (or
 * -1) has just joined. */
#define ST_JOIN_ONE(I, L, EI, DI, NI)                                         \
    do {                                                                      \
        const TYPE ei_ = (EI), di_ = (DI);                                    \
        const TYPE nu0 = ei_ < 0 ? -ei_ : ei_;                                \
        const TYPE de0 = ei_ < 0 ? (TYPE)1 + di_ : (TYPE)1 - di_;             \
        /* a crossing at or above lam (a tie, or rounding; or none, de0 <= 0, \
         * which rounding alone allows) counts as lam: join now */            \
        const TYPE de = de0 > TINY_VALUE ? de0 : TINY_VALUE;                  \
        const TYPE nu = nu0 < lam * de ? nu0 : lam * de;                      \
        const int ok = ((NI) > thresh[I]) & (nu0 > 0) &                       \
                       ((!positive) | (ei_ > 0)) &                            \
                       (((ptrdiff_t)(I) != exclude) |                         \
                        ((ei_ > 0) != exclude_pos)) &                         \
                       ((ptrdiff_t)(I) != self);                              \
        const int take = ok & (nu * den[L] > num[L] * de);                    \
        num[L] = take ? nu : num[L];                                          \
        den[L] = take ? de : den[L];                                          \
        idx[L] = take ? (ITYPE)(I) : idx[L];                                  \
    } while (0)

#define ST_JOIN_INIT                                                          \
    TYPE num[ST_LANES], den[ST_LANES];                                        \
    ITYPE idx[ST_LANES];                                                      \
    do {                                                                      \
        ptrdiff_t l_;                                                         \
        for (l_ = 0; l_ < ST_LANES; ++l_) {                                   \
            num[l_] = 0;                                                      \
            den[l_] = 1;                                                      \
            idx[l_] = -1;                                                     \
        }                                                                     \
    } while (0)

/* The best candidate over the lanes, ties going to the smallest index:
 * returns the atom, or -1 when none, and its crossing as *best_num /
 * *best_den. */
ST_INLINE ptrdiff_t CAT(lars_lanes_best_, TYPE)(const TYPE *num,
                                                const TYPE *den,
                                                const ITYPE *idx,
                                                TYPE *best_num, TYPE *best_den)
{
    ptrdiff_t l;
    ITYPE bi = -1;
    TYPE bn = 0, bd = 1;
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

/* The join search at lam over residual correlations e + lambda' d (d NULL:
 * zero) of the atoms with squared distances nrm2 to the active span; as
 * lars_lanes_best_. */
ST_INLINE ptrdiff_t CAT(lars_join_, TYPE)(const TYPE *restrict e,
                                          const TYPE *restrict d,
                                          const TYPE *restrict nrm2,
                                          const TYPE *restrict thresh,
                                          ptrdiff_t n, TYPE lam, int positive,
                                          ptrdiff_t exclude, TYPE exclude_sign,
                                          TYPE *best_num, TYPE *best_den)
{
    const ptrdiff_t n_full = n - n % ST_LANES;
    const int exclude_pos = exclude_sign > 0;
    const ptrdiff_t self = -1;
    ptrdiff_t i, l;
    ST_JOIN_INIT;
    for (i = 0; i < n_full; i += ST_LANES) {
        ST_IVDEP
        for (l = 0; l < ST_LANES; ++l) {
            ST_JOIN_ONE(i + l, l, e[i + l], d ? d[i + l] : (TYPE)0,
                        nrm2[i + l]);
        }
    }
    for (i = n_full; i < n; ++i) {
        ST_JOIN_ONE(i, i - n_full, e[i], d ? d[i] : (TYPE)0, nrm2[i]);
    }
    return CAT(lars_lanes_best_, TYPE)(num, den, idx, best_num, best_den);
}

/* The fused pass of one join (see the top of this file), for atom j:
 *   w_i = (src_i - sum_{q < R} k_q wq_i) * inv        (the new row of W)
 *   e_i = eb_i - zs w_i,  d_i = db_i + vs w_i,  nrm2_i = nb_i - w_i^2
 * with the bases eb, db, nb = e, d, nrm2, or c0, 0, gdiag when `first`; then
 * the join search at lam (j excluded).  R and `first` are constants where it
 * is inlined.  Returns the search's result as lars_lanes_best_. */
ST_INLINE ptrdiff_t CAT(lars_pass_, TYPE)(
    const int R, const int first, const int excl, ptrdiff_t n, const TYPE *restrict src,
    const TYPE *restrict w0, const TYPE *restrict w1, const TYPE *restrict w2,
    const TYPE *restrict w3, TYPE k0, TYPE k1, TYPE k2, TYPE k3, TYPE inv,
    TYPE zs, TYPE vs, TYPE *restrict w, TYPE *restrict e, TYPE *restrict d,
    TYPE *restrict nrm2, const TYPE *restrict c0, const TYPE *restrict gdiag,
    const TYPE *restrict thresh, TYPE lam, int positive, ptrdiff_t exclude_,
    TYPE exclude_sign, ptrdiff_t self, TYPE *best_num, TYPE *best_den)
{
    const ptrdiff_t n_full = n - n % ST_LANES;
    const int exclude_pos = exclude_sign > 0;
    /* without `excl` (a constant), no atom is excluded: the test folds away */
    const ptrdiff_t exclude = excl ? exclude_ : -1;
    ptrdiff_t i, l;
    ST_JOIN_INIT;
    /* the Gram-Schmidt sums of st_gs_rows_, in the same order */
#define ST_PASS_ONE(I, L)                                                     \
    do {                                                                      \
        const ptrdiff_t i_ = (I);                                             \
        TYPE wi;                                                              \
        if (R == 0) {                                                         \
            wi = src[i_];                                                     \
        } else if (R == 1) {                                                  \
            wi = src[i_] - k0 * w0[i_];                                       \
        } else if (R == 2) {                                                  \
            wi = src[i_] - (k0 * w0[i_] + k1 * w1[i_]);                       \
        } else if (R == 3) {                                                  \
            wi = src[i_] - (k0 * w0[i_] + k1 * w1[i_] + k2 * w2[i_]);         \
        } else {                                                              \
            wi = src[i_] - ((k0 * w0[i_] + k1 * w1[i_]) +                     \
                            (k2 * w2[i_] + k3 * w3[i_]));                     \
        }                                                                     \
        wi *= inv;                                                            \
        {                                                                     \
            const TYPE ei = (first ? c0[i_] : e[i_]) - zs * wi;               \
            const TYPE di = (first ? (TYPE)0 : d[i_]) + vs * wi;              \
            const TYPE ni = (first ? gdiag[i_] : nrm2[i_]) - wi * wi;         \
            w[i_] = wi;                                                       \
            e[i_] = ei;                                                       \
            d[i_] = di;                                                       \
            nrm2[i_] = ni;                                                    \
            ST_JOIN_ONE(i_, (L), ei, di, ni);                                 \
        }                                                                     \
    } while (0)
    for (i = 0; i < n_full; i += ST_LANES) {
        ST_IVDEP
        for (l = 0; l < ST_LANES; ++l) {
            ST_PASS_ONE(i + l, l);
        }
    }
    for (i = n_full; i < n; ++i) {
        ST_PASS_ONE(i, i - n_full);
    }
#undef ST_PASS_ONE
    return CAT(lars_lanes_best_, TYPE)(num, den, idx, best_num, best_den);
}

/* Make atom j, with sign sg, the s-th active atom: its Gram-Schmidt row w
 * (W[s, :]), its column of LT, its components of z = L^{-1} c_A and
 * v = L^{-1} s_A, and the updates e -= z_s w, d += v_s w, nrm2 -= w^2 over
 * all atoms; with s == 0 they start from e = c0, d = 0, nrm2 = gdiag (the
 * arrays' contents are ignored), so a rebuild needs no reset pass.  The join
 * search at lam that follows is fused in: returns its atom (or -1) and
 * crossing *best_num / *best_den, as lars_join_. */
ST_INLINE ptrdiff_t CAT(lars_add_, TYPE)(
    const TYPE *gram, const TYPE *gdiag, const TYPE *c0, const TYPE *thresh,
    ptrdiff_t n, ptrdiff_t m, TYPE *W, TYPE *LT, TYPE *tmp, ptrdiff_t s,
    ptrdiff_t j, TYPE sg, TYPE *e, TYPE *d, TYPE *nrm2, TYPE *z, TYPE *v,
    TYPE *sgn, TYPE *sqg, ptrdiff_t *support, TYPE lam, int positive,
    ptrdiff_t exclude, TYPE exclude_sign, TYPE *best_num, TYPE *best_den)
{
    ptrdiff_t t, bi;
    const TYPE inv = (TYPE)1 / SQRT(s == 0 ? gdiag[j] : nrm2[j]);
    TYPE *w = W + s * n;
    TYPE vs = sg;
    const TYPE zs = (s == 0 ? c0[j] : e[j]) * inv;
    /* rows t0 .. s-1 of W (at most 4) are folded into the pass; the earlier
     * ones are subtracted four at a time into tmp */
    const ptrdiff_t t0 = s <= 4 ? 0 : s - 1 - (s - 1) % 4;
    const ptrdiff_t r = s - t0;
    const TYPE *src = t0 == 0 ? gram + j * n : tmp;
    const TYPE *w0 = W + t0 * n, *w1 = w0 + n, *w2 = w1 + n, *w3 = w2 + n;
    const TYPE k0 = r > 0 ? w0[j] : 0, k1 = r > 1 ? w1[j] : 0;
    const TYPE k2 = r > 2 ? w2[j] : 0, k3 = r > 3 ? w3[j] : 0;

    for (t = 0; t < t0; t += 4) {
        CAT(st_gs_rows_, TYPE)(tmp, t == 0 ? gram + j * n : tmp, W, n, j, t, 4);
    }
    /* v_s = (s_j - sum_t L[s][t] v_t) / L[s][s], with L[s][t] = W[t, j] */
    for (t = 0; t < s; ++t) {
        LT[t * m + s] = W[t * n + j];
        vs -= W[t * n + j] * v[t];
    }
    vs *= inv;

#define ST_PASS(R, FIRST)                                                     \
    (exclude >= 0 ? ST_PASS_X(R, FIRST, 1) : ST_PASS_X(R, FIRST, 0))
#define ST_PASS_X(R, FIRST, X)                                                \
    CAT(lars_pass_, TYPE)(R, FIRST, X, n, src, w0, w1, w2, w3, k0, k1, k2, k3,   \
                          inv, zs, vs, w, e, d, nrm2, c0, gdiag, thresh, lam, \
                          positive, exclude, exclude_sign, j, best_num,       \
                          best_den)
    switch (r) {
    case 0:
        bi = ST_PASS(0, 1);
        break;
    case 1:
        bi = ST_PASS(1, 0);
        break;
    case 2:
        bi = ST_PASS(2, 0);
        break;
    case 3:
        bi = ST_PASS(3, 0);
        break;
    default:
        bi = ST_PASS(4, 0);
        break;
    }
#undef ST_PASS
#undef ST_PASS_X
    LT[s * m + s] = w[j];
    z[s] = zs;
    nrm2[j] = -1; /* active: never a join candidate */
    v[s] = vs;
    sgn[s] = sg;
    sqg[s] = SQRT(gdiag[j]);
    support[s] = j;
    return bi;
}
#undef ST_LANES
#undef ST_JOIN_ONE
#undef ST_JOIN_INIT

/* x0 = L^{-T} b0 and x1 = L^{-T} b1 for the active set's Cholesky factor,
 * L[u][t] = LT[t * m + u]; b1 and x1 may be NULL. */
ST_INLINE void CAT(lars_backsub_, TYPE)(const TYPE *LT, ptrdiff_t m,
                                        ptrdiff_t s, const TYPE *b0,
                                        TYPE *x0, const TYPE *b1, TYPE *x1)
{
    ptrdiff_t t, u;
    for (t = s - 1; t >= 0; --t) {
        const TYPE *row = LT + t * m;
        TYPE a0 = b0[t];
        if (x1) {
            TYPE a1 = b1[t];
            for (u = t + 1; u < s; ++u) {
                a0 -= row[u] * x0[u];
                a1 -= row[u] * x1[u];
            }
            x1[t] = a1 / row[t];
        } else {
            for (u = t + 1; u < s; ++u) {
                a0 -= row[u] * x0[u];
            }
        }
        x0[t] = a0 / row[t];
    }
}

/* lars_backsub_ with a third right-hand side: x2 = L^{-T} b2 (b2 and x2
 * may be the same array), each solution computed with the same operations
 * in the same order as alone; the three independent recurrences overlap, so
 * the third costs little latency. */
ST_INLINE void CAT(lars_backsub3_, TYPE)(const TYPE *LT, ptrdiff_t m,
                                         ptrdiff_t s, const TYPE *b0,
                                         TYPE *x0, const TYPE *b1, TYPE *x1,
                                         const TYPE *b2, TYPE *x2)
{
    ptrdiff_t t, u;
    for (t = s - 1; t >= 0; --t) {
        const TYPE *row = LT + t * m;
        TYPE a0 = b0[t], a1 = b1[t], a2 = b2[t];
        for (u = t + 1; u < s; ++u) {
            a0 -= row[u] * x0[u];
            a1 -= row[u] * x1[u];
            a2 -= row[u] * x2[u];
        }
        x2[t] = a2 / row[t];
        x1[t] = a1 / row[t];
        x0[t] = a0 / row[t];
    }
}

/* The test of lars_dependent_ given b = L^{-T} L^{-1} g_Aj in b. */
ST_INLINE int CAT(lars_dependent_test_, TYPE)(const TYPE *b_,
                                              const TYPE *gdiag,
                                              const TYPE *nrm2,
                                              const TYPE *sqg,
                                              ptrdiff_t s, ptrdiff_t j)
{
    ptrdiff_t t;
    TYPE scale = SQRT(gdiag[j]);
    for (t = 0; t < s; ++t) {
        const TYPE b = b_[t] < 0 ? -b_[t] : b_[t];
        scale += b * sqg[t];
    }
    return !(nrm2[j] > ST_LARS_DEPENDENCE * EPS_VALUE * scale * scale);
}

/* Whether atom j, the winner of a join search, is numerically in the span of
 * the s active atoms although its squared distance nrm2[j] passed the plain
 * threshold.  nrm2[j] is the Schur complement G_jj - |L^{-1} g_Aj|^2, and the
 * Gram-Schmidt rows it comes from are a backward-stable Cholesky
 * factorisation: its rounding error is of the order of
 * eps (||d_j|| + sum_t |b_t| ||d_t||)^2, b = L^{-T} L^{-1} g_Aj the
 * coefficients of atom j's projection on the active atoms.  With a small
 * pivot among the active atoms these coefficients are large, the error can
 * pass the plain threshold (1000 eps ||d_j||^2), and an atom in the active
 * span would join on a pivot and a residual correlation that are both
 * rounding noise: the codes became garbage (found by the fuzz test: atoms
 * 1e16 apart in scale, repeated and near-parallel, alpha = 0).  Costs one
 * back-substitution per join; buf holds s scalars.  The main loop runs the
 * first test of a join inside the back-substitution of u0 and u
 * (lars_backsub3_, the same operations: the same answer), where its
 * dependency chain overlaps theirs and it costs little; sqg caches
 * sqrt(G_tt) of the active atoms. */
ST_INLINE int CAT(lars_dependent_, TYPE)(const TYPE *W, const TYPE *LT,
                                         const TYPE *gdiag, const TYPE *nrm2,
                                         const TYPE *sqg, ptrdiff_t n,
                                         ptrdiff_t m, ptrdiff_t s, ptrdiff_t j,
                                         TYPE *buf)
{
    ptrdiff_t t;
    for (t = 0; t < s; ++t) {
        buf[t] = W[t * n + j]; /* L^{-1} g_Aj */
    }
    CAT(lars_backsub_, TYPE)(LT, m, s, buf, buf, NULL, NULL);
    return CAT(lars_dependent_test_, TYPE)(buf, gdiag, nrm2, sqg, s, j);
}

ST_HOT_CLONES
int CAT(st_lars_, TYPE)(const TYPE *gram, const TYPE *gdiag,
                        const TYPE *thresh, ptrdiff_t n_atoms, TYPE *corr,
                        TYPE lambda, int positive, ptrdiff_t max_active,
                        ptrdiff_t max_steps, TYPE *work, ptrdiff_t *support,
                        TYPE *coef, ptrdiff_t *n_selected, int *converged)
{
    const ptrdiff_t n = n_atoms, m = max_active;
    ptrdiff_t t, s = 0, steps = 0, j;
    ptrdiff_t just_left = -1;   /* atom: cannot rejoin at once with ... */
    TYPE left_sign = 0;         /* ... the sign it left with */
    TYPE lam, bn, bd;
    ptrdiff_t j_join;           /* the next atom to join at lam, or -1 */

    if (n <= 0 || m < 0 || m > n || max_steps < 1 || !(lambda >= 0)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_selected = 0;
    *converged = 1;

    const TYPE *c0 = corr;         /* the correlations (left unchanged) */
    TYPE *e = work;                /* residual correlations at lambda = 0 */
    TYPE *d = e + n;               /* d(residual correlation) / d lambda */
    TYPE *nrm2 = d + n;            /* ||P d_i||^2, < 0 once active */
    TYPE *tmp = nrm2 + n;          /* a partial Gram-Schmidt row */
    TYPE *W = tmp + n;             /* Gram-Schmidt rows of the active atoms */
    TYPE *LT = W + m * n;          /* L^T, m x m: LT[t, u] = W[t, support[u]] */
    TYPE *z = LT + m * m;          /* L^{-1} c_A */
    TYPE *v = z + m;               /* L^{-1} s_A */
    TYPE *sgn = v + m;             /* s_A */
    TYPE *u0 = sgn + m;            /* L^{-T} z: a_A(l) = u0 - l u */
    TYPE *u = u0 + m;              /* L^{-T} v */
    TYPE *sqg = u + m;             /* sqrt(G_tt) of the active atoms */

    if (m == 0) {
        return ST_OK;
    }
    /* lambda_max: the first atom to join */
    j = CAT(lars_join_, TYPE)(c0, NULL, gdiag, thresh, n, HUGE_VALUE, positive,
                              -1, 0, &bn, &bd);
    if (j < 0 || bn / bd <= lambda) {
        return ST_OK; /* the zero code is optimal */
    }
    lam = bn / bd;
    j_join = CAT(lars_add_, TYPE)(gram, gdiag, c0, thresh, n, m, W, LT, tmp, 0,
                                  j, c0[j] > 0 ? 1 : -1, e, d, nrm2, z, v, sgn,
                                  sqg, support, lam, positive, -1, 0, &bn, &bd);
    s = 1;
    steps = 1; /* the first join is a step */

    for (;;) {
        TYPE lam_join = -1, lam_drop = -1;
        ptrdiff_t t_drop = -1;
        int dependent;

        /* a_t(l) = u0_t - l u_t; as l decreases it moves by sign(u_t).  An
         * atom leaves where its coefficient reaches zero moving against its
         * sign: at u0_t / u_t below lam, or at lam itself when it is already
         * at (or, by rounding, past) zero and not moving the right way (an
         * atom that joined on a tie it cannot keep). */
        if (s < m && j_join >= 0) {
            /* with the first dependence test's back-substitution (see
             * below), whose recurrence overlaps these two */
            for (t = 0; t < s; ++t) {
                tmp[t] = W[t * n + j_join]; /* L^{-1} g_Aj */
            }
            CAT(lars_backsub3_, TYPE)(LT, m, s, z, u0, v, u, tmp, tmp);
            dependent = CAT(lars_dependent_test_, TYPE)(tmp, gdiag, nrm2,
                                                        sqg, s, j_join);
        } else {
            CAT(lars_backsub_, TYPE)(LT, m, s, z, u0, v, u);
            dependent = 0;
        }
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
        /* the join search at lam ran with the last update (lars_add_); an
         * atom it found that is numerically in the active span is barred
         * (nrm2 0, which only a leave, rebuilding nrm2, undoes) and the
         * search runs again */
        while (dependent) {
            nrm2[j_join] = 0;
            j_join = CAT(lars_join_, TYPE)(e, d, nrm2, thresh, n, lam,
                                           positive, just_left, left_sign,
                                           &bn, &bd);
            dependent = s < m && j_join >= 0 &&
                        CAT(lars_dependent_, TYPE)(W, LT, gdiag, nrm2, sqg,
                                                   n, m, s, j_join, tmp);
        }
        if (s < m && j_join >= 0) {
            lam_join = bn / bd;
        } else {
            j_join = -1;
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
            j_join = CAT(lars_add_, TYPE)(gram, gdiag, c0, thresh, n, m, W, LT,
                                          tmp, s, j_join,
                                          e[j_join] > 0 ? 1 : -1, e, d, nrm2,
                                          z, v, sgn, sqg, support, lam,
                                          positive, -1, 0, &bn, &bd);
            ++s;
        } else {
            /* atom support[t_drop] leaves: rebuild the remaining rows, from
             * e = c0, d = 0, nrm2 = gdiag (the first add starts there) */
            lam = lam_drop;
            just_left = support[t_drop];
            left_sign = sgn[t_drop];
            for (t = t_drop; t + 1 < s; ++t) {
                support[t] = support[t + 1];
                sgn[t] = sgn[t + 1];
            }
            --s;
            if (s == 0) {
                /* nothing left active: the search over the correlations */
                j_join = CAT(lars_join_, TYPE)(c0, NULL, gdiag, thresh, n, lam,
                                               positive, just_left, left_sign,
                                               &bn, &bd);
            }
            for (t = 0; t < s; ++t) {
                j_join = CAT(lars_add_, TYPE)(
                    gram, gdiag, c0, thresh, n, m, W, LT, tmp, t, support[t],
                    sgn[t], e, d, nrm2, z, v, sgn, sqg, support, lam, positive,
                    just_left, left_sign, &bn, &bd);
            }
        }
    }
    /* a_A = L^{-T} (z - lambda v) */
    for (t = 0; t < s; ++t) {
        u[t] = z[t] - lambda * v[t];
    }
    CAT(lars_backsub_, TYPE)(LT, m, s, u, coef, NULL, NULL);
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

/* Coordinate-descent lasso kernel, written once for TYPE in {float, double}.
 * Included by lasso_cd.c with TYPE, SQRT, EPSILON and TINY_VALUE defined; see
 * lasso_cd.h. */

/* The smallest squared atom norm used: below it the Gram entries of the atom
 * lose precision to underflow (see lasso_cd.h). */
#define CD_GDIAG_MIN (TINY_VALUE / EPSILON)

/* The minimiser of the lasso objective along coordinate j. */
ST_INLINE TYPE CAT(cd_coordinate_, TYPE)(TYPE r, TYPE gjj, TYPE lambda,
                                         int positive)
{
    if (r > lambda) {
        return (r - lambda) / gjj;
    }
    if (!positive && r < -lambda) {
        return (r + lambda) / gjj;
    }
    return 0;
}

/* Duality gap of the current a (with q = G a exact for every atom); the
 * primal objective goes to *primal. */
ST_INLINE TYPE CAT(cd_gap_, TYPE)(const TYPE *corr, const TYPE *a,
                                  const TYPE *q, const TYPE *gdiag,
                                  ptrdiff_t n, TYPE norm2, TYPE lambda,
                                  int positive, TYPE *primal)
{
    ptrdiff_t i;
    TYPE ca = 0, aq = 0, l1 = 0, dmax = 0, gmax = 0;
    for (i = 0; i < n; ++i) {
        const TYPE g = corr[i] - q[i]; /* (D r)_i */
        const TYPE m = positive ? g : (g < 0 ? -g : g);
        ca += corr[i] * a[i];
        aq += a[i] * q[i];
        l1 += a[i] < 0 ? -a[i] : a[i];
        if (gdiag[i] >= CD_GDIAG_MIN && m > dmax) {
            dmax = m;
        }
        gmax = gdiag[i] > gmax ? gdiag[i] : gmax;
    }
    {
        TYPE r2 = norm2 - 2 * ca + aq; /* ||r||^2 */
        const TYPE xr = norm2 - ca;    /* x^T r */
        /* The residual is dual feasible when max |(D r)_i| <= lambda, up to
         * the rounding error of those correlations (which matters at
         * lambda = 0, where the optimal D r is zero). */
        const TYPE slack = (TYPE)100 * EPSILON * SQRT(gmax * norm2);
        const TYPE s = dmax > lambda + slack ? lambda / dmax : (TYPE)1;
        TYPE gap;
        if (r2 < 0) {
            r2 = 0;
        }
        *primal = (TYPE)0.5 * r2 + lambda * l1;
        gap = *primal - s * xr + (TYPE)0.5 * s * s * r2;
        return gap < 0 ? 0 : gap;
    }
}

ST_HOT_CLONES
int CAT(st_lasso_cd_, TYPE)(const TYPE *gram, const TYPE *gdiag,
                            const TYPE *corr, TYPE norm2, ptrdiff_t n_atoms,
                            TYPE lambda, int positive, TYPE tol,
                            ptrdiff_t max_iter, TYPE *work,
                            ptrdiff_t *support, TYPE *coef,
                            ptrdiff_t *n_selected, int *converged, TYPE *gap)
{
    const ptrdiff_t n = n_atoms;
    ptrdiff_t i, j, t, u, v, it, n_active = 0;
    TYPE *restrict a = work;
    TYPE *restrict q = work + n;
    /* Active-set sweeps stop when no coefficient moves the residual by more
     * than a small fraction of the gap's scale. */
    const TYPE settle = (TYPE)0.1 * SQRT(tol * norm2);

    if (n <= 0 || max_iter < 1 || !(lambda >= 0) || !(tol >= 0)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_selected = 0;
    *converged = 1;
    *gap = 0;
    for (i = 0; i < n; ++i) {
        a[i] = 0;
        q[i] = 0;
    }
    if (!(norm2 > 0)) {
        return ST_OK;
    }
    *converged = 0;
    for (it = 0; it < max_iter; ++it) {
        /* 1. every atom, q exact everywhere: atoms may enter */
        for (j = 0; j < n; ++j) {
            const TYPE gjj = gdiag[j];
            if (gjj >= CD_GDIAG_MIN) {
                const TYPE r = corr[j] - q[j] + gjj * a[j];
                const TYPE delta =
                    CAT(cd_coordinate_, TYPE)(r, gjj, lambda, positive) - a[j];
                if (delta != 0) {
                    const TYPE *restrict g = gram + j * n;
                    a[j] += delta;
                    for (i = 0; i < n; ++i) {
                        q[i] += delta * g[i];
                    }
                }
            }
        }
        n_active = 0;
        for (j = 0; j < n; ++j) {
            if (a[j] != 0) {
                support[n_active++] = j;
            }
        }
        /* 2. the active atoms only, q kept exact on them alone */
        for (t = 0; t < 100 * n + 100; ++t) {
            TYPE moved = 0;
            for (u = 0; u < n_active; ++u) {
                const ptrdiff_t k = support[u];
                const TYPE gjj = gdiag[k];
                const TYPE r = corr[k] - q[k] + gjj * a[k];
                const TYPE delta =
                    CAT(cd_coordinate_, TYPE)(r, gjj, lambda, positive) - a[k];
                if (delta != 0) {
                    const TYPE *g = gram + k * n;
                    const TYPE step = (delta < 0 ? -delta : delta) * SQRT(gjj);
                    a[k] += delta;
                    for (v = 0; v < n_active; ++v) {
                        q[support[v]] += delta * g[support[v]];
                    }
                    if (step > moved) {
                        moved = step;
                    }
                }
            }
            if (moved <= settle) {
                break;
            }
        }
        /* 3. q exact everywhere again, then the duality gap */
        for (i = 0; i < n; ++i) {
            q[i] = 0;
        }
        for (u = 0; u < n_active; ++u) {
            const ptrdiff_t k = support[u];
            const TYPE ak = a[k];
            if (ak != 0) {
                const TYPE *restrict g = gram + k * n;
                for (i = 0; i < n; ++i) {
                    q[i] += ak * g[i];
                }
            }
        }
        {
            TYPE primal;
            const TYPE g = CAT(cd_gap_, TYPE)(corr, a, q, gdiag, n, norm2, lambda,
                                              positive, &primal);
            /* relative to the objective, with a floor at the rounding error
             * of ||x||^2 (an exact fit has a zero objective) */
            const TYPE floor_ = (TYPE)10 * EPSILON * (TYPE)0.5 * norm2;
            *gap = g / (primal > floor_ ? primal : floor_);
            if (g <= tol * primal + floor_) {
                *converged = 1;
                break;
            }
        }
    }
    n_active = 0;
    for (j = 0; j < n; ++j) {
        if (a[j] != 0) {
            support[n_active] = j;
            coef[n_active] = a[j];
            ++n_active;
        }
    }
    *n_selected = n_active;
    return ST_OK;
}
#undef CD_GDIAG_MIN

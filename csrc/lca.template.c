/* LCA kernel, written once for TYPE in {float, double}.
 * Included by lca.c with TYPE and SQRT defined; see lca.h.
 *
 * The transfer function is a compile-time constant inside the step loops:
 * CAT(lca_run_, TYPE) is forced inline and called with a literal mode from a
 * switch, so each of the four transfer functions gets its own vectorised
 * loops. */

/* mode = 2 * hard + positive. Written as selects (no nested branches), so
 * that the dense passes vectorise. */
ST_INLINE TYPE CAT(lca_transfer_, TYPE)(TYPE u, TYPE c, int mode)
{
    TYPE t, m;
    switch (mode) {
    case 0: /* soft, two-sided: u minus u clamped to [-c, c] */
        t = u < c ? u : c;
        t = t > -c ? t : -c;
        return u - t;
    case 1: /* soft, positive */
        return u > c ? u - c : (TYPE)0;
    case 2: /* hard, two-sided */
        m = u < 0 ? -u : u;
        return m > c ? u : (TYPE)0;
    default: /* hard, positive */
        return u > c ? u : (TYPE)0;
    }
}

/* Block of independent partial sums: the reductions vectorise without
 * reassociating a single sum. */
enum { CAT(LCA_ACC_, TYPE) = 16 };
#define ACC CAT(LCA_ACC_, TYPE)

/* sum_j x_j y_j */
ST_INLINE TYPE CAT(lca_dot_, TYPE)(const TYPE *restrict x,
                                   const TYPE *restrict y, ptrdiff_t n)
{
    TYPE acc[ACC];
    TYPE total = 0;
    ptrdiff_t j, l;
    const ptrdiff_t n_full = n - n % ACC;
    for (l = 0; l < ACC; ++l) {
        acc[l] = 0;
    }
    for (j = 0; j < n_full; j += ACC) {
        for (l = 0; l < ACC; ++l) {
            acc[l] += x[j + l] * y[j + l];
        }
    }
    for (j = n_full; j < n; ++j) {
        total += x[j] * y[j];
    }
    for (l = 0; l < ACC; ++l) {
        total += acc[l];
    }
    return total;
}

/* Applies the coefficient changes dl of this step to q = G a and refreshes
 * the active list S (ns entries); nnz is the number of non-zero codes now.
 * The atoms of S are visited first (every changed atom was in S unless it
 * has just become active); when fewer than nnz of them are still active,
 * some atom became active, and one scan over all atoms applies the rest. */
ST_INLINE void CAT(lca_update_q_, TYPE)(const TYPE *restrict gram,
                                        ptrdiff_t n, const TYPE *restrict a,
                                        TYPE *restrict dl, TYPE *restrict q,
                                        ptrdiff_t *restrict S, ptrdiff_t *ns,
                                        ptrdiff_t nnz)
{
    ptrdiff_t i, j, t, m = 0;
    for (t = 0; t < *ns; ++t) {
        const ptrdiff_t k = S[t];
        const TYPE d = dl[k];
        if (d != 0) {
            const TYPE *restrict g = gram + k * n;
            for (i = 0; i < n; ++i) {
                q[i] += d * g[i];
            }
            dl[k] = 0; /* applied */
        }
        if (a[k] != 0) {
            S[m++] = k;
        }
    }
    if (m < nnz) {
        m = 0;
        for (j = 0; j < n; ++j) {
            const TYPE d = dl[j];
            if (d != 0) {
                const TYPE *restrict g = gram + j * n;
                for (i = 0; i < n; ++i) {
                    q[i] += d * g[i];
                }
            }
            if (a[j] != 0) {
                S[m++] = j;
            }
        }
    }
    *ns = m;
}

/* q = G a recomputed from the active list: the incremental updates round
 * every entry of q at each step, so their errors are cleared this often. */
enum { CAT(LCA_REFRESH_, TYPE) = 64 };

ST_INLINE void CAT(lca_refresh_q_, TYPE)(const TYPE *restrict gram,
                                         ptrdiff_t n, const TYPE *restrict a,
                                         TYPE *restrict q,
                                         const ptrdiff_t *restrict S,
                                         ptrdiff_t ns)
{
    ptrdiff_t i, t;
    for (i = 0; i < n; ++i) {
        q[i] = 0;
    }
    for (t = 0; t < ns; ++t) {
        const TYPE d = a[S[t]];
        const TYPE *restrict g = gram + S[t] * n;
        for (i = 0; i < n; ++i) {
            q[i] += d * g[i];
        }
    }
}

/* One Euler step over every atom: r = eta (b - u - q + a), u += r,
 * a = T(u), dl the change of a. Returns the number of non-zero codes. */
ST_INLINE ptrdiff_t CAT(lca_euler_pass_, TYPE)(ptrdiff_t n,
                                               const TYPE *restrict b,
                                               TYPE *restrict u,
                                               TYPE *restrict a,
                                               const TYPE *restrict q,
                                               TYPE *restrict dl,
                                               TYPE *restrict r, TYPE eta,
                                               TYPE c, int mode)
{
    ptrdiff_t j, nnz = 0;
    for (j = 0; j < n; ++j) {
        const TYPE du = eta * (b[j] - u[j] - q[j] + a[j]);
        const TYPE un = u[j] + du;
        const TYPE an = CAT(lca_transfer_, TYPE)(un, c, mode);
        r[j] = du;
        u[j] = un;
        dl[j] = an - a[j];
        a[j] = an;
        nnz += an != 0;
    }
    return nnz;
}

/* First half of a Nesterov step, from the extrapolated point v:
 * r = b - v - q + av (the LCA velocity at v), w = v + eta r, s = w - u. */
ST_INLINE void CAT(lca_nesterov_step_, TYPE)(
    ptrdiff_t n, const TYPE *restrict b, const TYPE *restrict u,
    const TYPE *restrict v, const TYPE *restrict av, const TYPE *restrict q,
    TYPE *restrict w, TYPE *restrict r, TYPE *restrict s, TYPE eta)
{
    ptrdiff_t j;
    for (j = 0; j < n; ++j) {
        const TYPE vel = b[j] - v[j] - q[j] + av[j];
        const TYPE wn = v[j] + eta * vel;
        r[j] = vel;
        w[j] = wn;
        s[j] = wn - u[j];
    }
}

/* Second half: the next extrapolated point v = w + beta s (s = w - u), its
 * codes av = T(v) and their change dl. Returns the number of non-zero
 * codes. */
ST_INLINE ptrdiff_t CAT(lca_extrapolate_, TYPE)(ptrdiff_t n,
                                                const TYPE *restrict w,
                                                const TYPE *restrict s,
                                                TYPE *restrict v,
                                                TYPE *restrict av,
                                                TYPE *restrict dl, TYPE beta,
                                                TYPE c, int mode)
{
    ptrdiff_t j, nnz = 0;
    for (j = 0; j < n; ++j) {
        const TYPE vn = w[j] + beta * s[j];
        const TYPE an = CAT(lca_transfer_, TYPE)(vn, c, mode);
        v[j] = vn;
        dl[j] = an - av[j];
        av[j] = an;
        nnz += an != 0;
    }
    return nnz;
}

/* ||du|| / (eta ||u||) from the squared norms; 0 when nothing moved. */
ST_INLINE TYPE CAT(lca_relative_change_, TYPE)(TYPE du2, TYPE u2, TYPE eta)
{
    if (!(du2 > 0)) {
        return 0;
    }
    return SQRT(du2 / u2) / eta; /* +inf when u is zero and moved */
}

ST_INLINE void CAT(lca_run_, TYPE)(const TYPE *restrict gram, ptrdiff_t n,
                                   const TYPE *restrict b, TYPE c, int mode,
                                   int integrator, TYPE eta,
                                   ptrdiff_t max_iter, TYPE tol,
                                   TYPE *work, ptrdiff_t *S, TYPE *u_out,
                                   TYPE *a_out, ptrdiff_t *n_iter,
                                   TYPE *change, int *converged)
{
    /* not restrict: u and w trade places every Nesterov step (the passes
     * they are handed to take restrict parameters) */
    TYPE *q = work;
    TYPE *dl = work + n;
    TYPE *r = work + 2 * n;
    TYPE *u = work + 3 * n;
    TYPE *a = work + 4 * n; /* Euler: T(u); Nesterov: T(v) */
    TYPE *v = work + 5 * n; /* Nesterov only */
    TYPE *w = work + 6 * n; /* Nesterov only */
    TYPE *s = work + 7 * n; /* Nesterov only */
    ptrdiff_t j, it, ns = 0, nnz;
    TYPE rel = 0;

    for (j = 0; j < n; ++j) {
        q[j] = 0;
        u[j] = 0;
        a[j] = 0;
    }
    *converged = 0;
    if (integrator == ST_LCA_EULER) {
        for (it = 1; it <= max_iter; ++it) {
            nnz = CAT(lca_euler_pass_, TYPE)(n, b, u, a, q, dl, r, eta, c,
                                             mode);
            CAT(lca_update_q_, TYPE)(gram, n, a, dl, q, S, &ns, nnz);
            if (it % CAT(LCA_REFRESH_, TYPE) == 0) {
                CAT(lca_refresh_q_, TYPE)(gram, n, a, q, S, ns);
            }
            rel = CAT(lca_relative_change_, TYPE)(
                CAT(lca_dot_, TYPE)(r, r, n), CAT(lca_dot_, TYPE)(u, u, n), eta);
            if (rel <= tol) {
                *converged = 1;
                break;
            }
        }
    } else {
        TYPE t = 1;
        for (j = 0; j < n; ++j) {
            v[j] = 0;
        }
        for (it = 1; it <= max_iter; ++it) {
            TYPE beta, t_next;
            TYPE *swap;
            CAT(lca_nesterov_step_, TYPE)(n, b, u, v, a, q, w, r, s, eta);
            /* w is u_{k+1}, s = u_{k+1} - u_k */
            rel = CAT(lca_relative_change_, TYPE)(
                CAT(lca_dot_, TYPE)(s, s, n), CAT(lca_dot_, TYPE)(w, w, n), eta);
            swap = u;
            u = w;
            w = swap;
            if (rel <= tol) {
                *converged = 1;
                break;
            }
            t_next = (1 + SQRT(1 + 4 * t * t)) / 2;
            if (CAT(lca_dot_, TYPE)(r, s, n) < 0) {
                /* the step opposes the momentum: restart */
                beta = 0;
                t = 1;
            } else {
                beta = (t - 1) / t_next;
                t = t_next;
            }
            nnz = CAT(lca_extrapolate_, TYPE)(n, u, s, v, a, dl, beta, c, mode);
            CAT(lca_update_q_, TYPE)(gram, n, a, dl, q, S, &ns, nnz);
            if (it % CAT(LCA_REFRESH_, TYPE) == 0) {
                CAT(lca_refresh_q_, TYPE)(gram, n, a, q, S, ns);
            }
        }
    }
    *n_iter = it > max_iter ? max_iter : it;
    *change = rel;
    for (j = 0; j < n; ++j) {
        u_out[j] = u[j];
        a_out[j] = CAT(lca_transfer_, TYPE)(u[j], c, mode);
    }
}

#undef ACC

ST_HOT_CLONES
int CAT(st_lca_, TYPE)(const TYPE *gram, ptrdiff_t n_atoms, const TYPE *corr,
                       TYPE threshold, int transfer, int positive,
                       int integrator, TYPE eta, ptrdiff_t max_iter, TYPE tol,
                       TYPE *work, ptrdiff_t *iwork, TYPE *u, TYPE *a,
                       ptrdiff_t *n_iter, TYPE *change, int *converged)
{
    const ptrdiff_t n = n_atoms;
    int mode;
    if (n <= 0 || max_iter < 1 || !(threshold >= 0) || !(tol >= 0) ||
        !(eta > 0) || !(eta <= 1) ||
        (transfer != ST_LCA_SOFT && transfer != ST_LCA_HARD) ||
        (positive != 0 && positive != 1) ||
        (integrator != ST_LCA_EULER && integrator != ST_LCA_NESTEROV)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    mode = 2 * (transfer == ST_LCA_HARD) + positive;
    /* literal modes: one specialised copy of the loops per transfer */
    switch (mode) {
    case 0:
        CAT(lca_run_, TYPE)(gram, n, corr, threshold, 0, integrator, eta,
                            max_iter, tol, work, iwork, u, a, n_iter, change,
                            converged);
        break;
    case 1:
        CAT(lca_run_, TYPE)(gram, n, corr, threshold, 1, integrator, eta,
                            max_iter, tol, work, iwork, u, a, n_iter, change,
                            converged);
        break;
    case 2:
        CAT(lca_run_, TYPE)(gram, n, corr, threshold, 2, integrator, eta,
                            max_iter, tol, work, iwork, u, a, n_iter, change,
                            converged);
        break;
    default:
        CAT(lca_run_, TYPE)(gram, n, corr, threshold, 3, integrator, eta,
                            max_iter, tol, work, iwork, u, a, n_iter, change,
                            converged);
        break;
    }
    return ST_OK;
}

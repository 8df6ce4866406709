/* Block-coordinate dictionary update of online dictionary learning; see
 * dict_update.h. */
#include <math.h>
#include <stddef.h>

#include "dict_update.h"
#include "st_config.h"
#include "st_status.h"

ST_HOT_CLONES
int st_dict_update_block_double(double *D, const double *A, const double *B,
                                const double *AD, ptrdiff_t n_atoms,
                                ptrdiff_t n_features, ptrdiff_t j0, ptrdiff_t j1,
                                double unused_tol, double *D_old, double *work,
                                ptrdiff_t *unused, ptrdiff_t *n_unused)
{
    const ptrdiff_t k = n_atoms, f = n_features;
    ptrdiff_t i, j, l;
    double *restrict g = work;

    if (k <= 0 || f <= 0 || j0 < 0 || j1 > k || j0 > j1) {
        return ST_ERR_BAD_ARGUMENT;
    }
    for (i = 0; i < (j1 - j0) * f; ++i) {
        D_old[i] = D[j0 * f + i];
    }
    for (j = j0; j < j1; ++j) {
        const double *restrict aj = A + j * k;
        const double ajj = aj[j];
        double *restrict dj = D + j * f;
        double norm2 = 0, inv;
        if (!(ajj > unused_tol)) {
            unused[(*n_unused)++] = j;
            continue;
        }
        /* g = A_j D with the current atoms: the GEMM's row, plus the changes
         * of the atoms of this block updated before j */
        for (i = 0; i < f; ++i) {
            g[i] = AD[(j - j0) * f + i];
        }
        for (l = j0; l < j; ++l) {
            const double c = aj[l];
            if (c != 0) {
                const double *restrict dl = D + l * f;
                const double *restrict ol = D_old + (l - j0) * f;
                for (i = 0; i < f; ++i) {
                    g[i] += c * (dl[i] - ol[i]);
                }
            }
        }
        inv = 1.0 / ajj;
        for (i = 0; i < f; ++i) {
            dj[i] += (B[j * f + i] - g[i]) * inv;
            norm2 += dj[i] * dj[i];
        }
        if (norm2 > 1) {
            const double s = 1.0 / sqrt(norm2);
            for (i = 0; i < f; ++i) {
                dj[i] *= s;
            }
        }
    }
    return ST_OK;
}

ST_HOT_CLONES
ptrdiff_t st_count_nonzero_double(const double *a, ptrdiff_t n_atoms)
{
    ptrdiff_t j, nnz = 0;
    for (j = 0; j < n_atoms; ++j) {
        nnz += a[j] != 0;
    }
    return nnz;
}

ST_HOT_CLONES
ptrdiff_t st_code_support_double(const double *a, const double *x,
                                 const double *D, ptrdiff_t n_atoms,
                                 ptrdiff_t n_features, ptrdiff_t *support,
                                 double *work, double *half_sqerr, double *l1)
{
    const ptrdiff_t k = n_atoms, f = n_features;
    ptrdiff_t j, u, nnz = 0;
    for (j = 0; j < k; ++j) {
        if (a[j] != 0) {
            support[nnz++] = j;
        }
    }
    if (D != NULL) {
        double *restrict r = work;
        double sq = 0, l1_sum = 0;
        for (j = 0; j < f; ++j) {
            r[j] = x[j];
        }
        for (u = 0; u < nnz; ++u) {
            const double c = a[support[u]];
            const double *restrict d = D + support[u] * f;
            l1_sum += fabs(c);
            for (j = 0; j < f; ++j) {
                r[j] -= c * d[j];
            }
        }
        for (j = 0; j < f; ++j) {
            sq += r[j] * r[j];
        }
        *half_sqerr = 0.5 * sq;
        *l1 = l1_sum;
    }
    return nnz;
}

ST_HOT_CLONES
int st_accumulate_rows_double(double *A, double *B, const double *codes,
                              const double *rows, ptrdiff_t m,
                              ptrdiff_t n_atoms, ptrdiff_t n_features,
                              const ptrdiff_t *supports,
                              const ptrdiff_t *offsets, ptrdiff_t p0,
                              ptrdiff_t p1, double beta, double scale)
{
    const ptrdiff_t k = n_atoms, f = n_features;
    ptrdiff_t i, j, u, v;

    if (k <= 0 || f <= 0 || m < 0 || p0 < 0 || p1 > k || p0 > p1) {
        return ST_ERR_BAD_ARGUMENT;
    }
    if (beta != 1) {
        for (j = p0 * k; j < p1 * k; ++j) {
            A[j] *= beta;
        }
        for (j = p0 * f; j < p1 * f; ++j) {
            B[j] *= beta;
        }
    }
    for (i = 0; i < m; ++i) {
        const double *restrict a = codes + i * k;
        const double *restrict x = rows + i * f;
        const ptrdiff_t *restrict sup = supports + offsets[i];
        const ptrdiff_t n = offsets[i + 1] - offsets[i];
        for (u = 0; u < n && sup[u] < p1; ++u) {
            const ptrdiff_t p = sup[u];
            if (p < p0) {
                continue;
            }
            {
                const double ap = scale * a[p];
                double *restrict arow = A + p * k;
                double *restrict brow = B + p * f;
                for (v = 0; v < n; ++v) {
                    arow[sup[v]] += ap * a[sup[v]];
                }
                for (j = 0; j < f; ++j) {
                    brow[j] += ap * x[j];
                }
            }
        }
    }
    return ST_OK;
}

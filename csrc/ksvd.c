/* Approximate K-SVD atom update; see ksvd.h. */
#include <math.h>
#include <stddef.h>

#include "ksvd.h"
#include "st_config.h"
#include "st_status.h"

ptrdiff_t st_ksvd_workspace_size(ptrdiff_t n_atoms, ptrdiff_t n_features)
{
    return 2 * n_atoms + n_features;
}

/* Entries of the CSR / CSC index arrays all in range. */
static int indices_ok(ptrdiff_t n_atoms, ptrdiff_t n_samples,
                      const ptrdiff_t *row_ptr, const ptrdiff_t *atoms,
                      const ptrdiff_t *col_ptr, const ptrdiff_t *col_rows,
                      const ptrdiff_t *col_pos)
{
    const ptrdiff_t nnz = row_ptr[n_samples];
    ptrdiff_t i, p;
    if (row_ptr[0] != 0 || col_ptr[0] != 0 || col_ptr[n_atoms] != nnz) {
        return 0;
    }
    for (i = 0; i < n_samples; ++i) {
        if (row_ptr[i + 1] < row_ptr[i]) {
            return 0;
        }
    }
    for (i = 0; i < n_atoms; ++i) {
        if (col_ptr[i + 1] < col_ptr[i]) {
            return 0;
        }
    }
    for (p = 0; p < nnz; ++p) {
        const ptrdiff_t i_row = col_rows[p], q = col_pos[p];
        if (atoms[p] < 0 || atoms[p] >= n_atoms || i_row < 0 || i_row >= n_samples
            || q < row_ptr[i_row] || q >= row_ptr[i_row + 1]) {
            return 0;
        }
    }
    return 1;
}

ST_HOT_CLONES
int st_ksvd_update_double(double *D, ptrdiff_t n_atoms, ptrdiff_t n_features,
                          const double *X, ptrdiff_t n_samples,
                          const ptrdiff_t *row_ptr, const ptrdiff_t *atoms,
                          double *coefs, const ptrdiff_t *col_ptr,
                          const ptrdiff_t *col_rows, const ptrdiff_t *col_pos,
                          double *work, ptrdiff_t *unused, ptrdiff_t *n_unused)
{
    const ptrdiff_t k = n_atoms, f = n_features;
    double *restrict w = work;          /* k: weights of the other atoms */
    double *restrict h = work + k;      /* k: D d */
    double *restrict d = work + 2 * k;  /* f: the new atom */
    ptrdiff_t j, l, p, q, t;

    if (k <= 0 || f <= 0 || n_samples < 0
        || !indices_ok(k, n_samples, row_ptr, atoms, col_ptr, col_rows, col_pos)) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_unused = 0;
    for (l = 0; l < k; ++l) {
        w[l] = 0;
    }
    for (j = 0; j < k; ++j) {
        const ptrdiff_t start = col_ptr[j], stop = col_ptr[j + 1];
        double norm2 = 0;
        if (start == stop) {
            unused[(*n_unused)++] = j;
            continue;
        }
        /* d = E^T g = sum_i g_i x_i - sum_{l != j} (sum_i g_i c_il) d_l */
        for (t = 0; t < f; ++t) {
            d[t] = 0;
        }
        for (p = start; p < stop; ++p) {
            const ptrdiff_t i = col_rows[p];
            const double g = coefs[col_pos[p]];
            const double *restrict x = X + i * f;
            for (t = 0; t < f; ++t) {
                d[t] += g * x[t];
            }
            for (q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
                w[atoms[q]] += g * coefs[q];
            }
        }
        w[j] = 0;
        for (l = 0; l < k; ++l) {
            const double c = w[l];
            if (c != 0) {
                const double *restrict dl = D + l * f;
                for (t = 0; t < f; ++t) {
                    d[t] -= c * dl[t];
                }
                w[l] = 0;
            }
        }
        for (t = 0; t < f; ++t) {
            norm2 += d[t] * d[t];
        }
        if (!(norm2 > 0) || !isfinite(norm2)) {
            unused[(*n_unused)++] = j;
            continue;
        }
        {
            const double s = 1.0 / sqrt(norm2);
            for (t = 0; t < f; ++t) {
                d[t] *= s;
            }
        }
        /* h = D d, then g_i = x_i . d - sum_{l != j} c_il h_l */
        for (l = 0; l < k; ++l) {
            const double *restrict dl = D + l * f;
            double s = 0;
            for (t = 0; t < f; ++t) {
                s += dl[t] * d[t];
            }
            h[l] = s;
        }
        h[j] = 0;
        for (p = start; p < stop; ++p) {
            const ptrdiff_t i = col_rows[p];
            const double *restrict x = X + i * f;
            double g = 0;
            for (t = 0; t < f; ++t) {
                g += x[t] * d[t];
            }
            for (q = row_ptr[i]; q < row_ptr[i + 1]; ++q) {
                g -= coefs[q] * h[atoms[q]];
            }
            coefs[col_pos[p]] = g;
        }
        for (t = 0; t < f; ++t) {
            D[j * f + t] = d[t];
        }
    }
    return ST_OK;
}

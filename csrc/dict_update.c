/* Block-coordinate dictionary update of online dictionary learning; see
 * dict_update.h. */
#include <math.h>
#include <stddef.h>

#include "dict_update.h"
#include "st_config.h"
#include "st_status.h"

ST_HOT_CLONES
int st_dict_update_double(double *D, const double *A, const double *B,
                          ptrdiff_t n_atoms, ptrdiff_t n_features,
                          double unused_tol, double *work, ptrdiff_t *unused,
                          ptrdiff_t *n_unused)
{
    const ptrdiff_t k = n_atoms, f = n_features;
    ptrdiff_t i, j, l;
    double *restrict g = work;

    if (k <= 0 || f <= 0) {
        return ST_ERR_BAD_ARGUMENT;
    }
    *n_unused = 0;
    for (j = 0; j < k; ++j) {
        const double *restrict aj = A + j * k;
        const double ajj = aj[j];
        double *restrict dj = D + j * f;
        double norm2 = 0, inv;
        if (!(ajj > unused_tol)) {
            unused[(*n_unused)++] = j;
            continue;
        }
        /* g = A_j D, the atoms weighted by row j of A */
        for (i = 0; i < f; ++i) {
            g[i] = 0;
        }
        for (l = 0; l < k; ++l) {
            const double c = aj[l];
            if (c != 0) {
                const double *restrict dl = D + l * f;
                for (i = 0; i < f; ++i) {
                    g[i] += c * dl[i];
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

/* Helpers shared by the kernels, written once for TYPE in {float, double};
 * included by gram_common.c. */

void CAT(st_dependence_thresholds_, TYPE)(const TYPE *gram,
                                          ptrdiff_t n_atoms, TYPE *thresh)
{
    ptrdiff_t i;
    for (i = 0; i < n_atoms; ++i) {
        thresh[i] = (TYPE)1000 * EPSILON * gram[i * n_atoms + i];
    }
}

TYPE CAT(st_sqnorm_, TYPE)(const TYPE *x, ptrdiff_t n)
{
    enum { ACC = 16 }; /* independent partial sums: vectorises, no latency chain */
    TYPE acc[ACC];
    TYPE total = 0;
    ptrdiff_t i, l;
    const ptrdiff_t n_full = n - n % ACC;
    for (l = 0; l < ACC; ++l) {
        acc[l] = 0;
    }
    for (i = 0; i < n_full; i += ACC) {
        for (l = 0; l < ACC; ++l) {
            acc[l] += x[i + l] * x[i + l];
        }
    }
    for (; i < n; ++i) {
        total += x[i] * x[i];
    }
    for (l = 0; l < ACC; ++l) {
        total += acc[l];
    }
    return total;
}

/* Token pasting for per-dtype instantiation of the kernel templates.
 *
 * A template file is included once per scalar type with TYPE set to `float`
 * or `double`; CAT(st_omp_, TYPE) then names the instance `st_omp_float` or
 * `st_omp_double` (the scheme of PyWavelets' templating.h).
 */
#ifndef SPARSETOOLS_TEMPLATING_H
#define SPARSETOOLS_TEMPLATING_H

#define CAT_HELPER(A, B) A##B
#define CAT(A, B) CAT_HELPER(A, B)

#endif

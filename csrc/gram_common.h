/* Helpers shared by the kernels that work on a precomputed Gram matrix. */
#ifndef SPARSETOOLS_GRAM_COMMON_H
#define SPARSETOOLS_GRAM_COMMON_H

#include <stddef.h>

/* Per-atom dependence thresholds, once per dictionary:
 * thresh[i] = 1000 * epsilon * G[i, i].  An atom can enter a support while
 * the squared norm of its component orthogonal to the support exceeds its
 * threshold, i.e. stays well above the rounding error of the downdates
 * (duplicated atoms, zero atoms and atoms beyond the rank never enter). */
void st_dependence_thresholds_double(const double *gram, ptrdiff_t n_atoms,
                                     double *thresh);
void st_dependence_thresholds_float(const float *gram, ptrdiff_t n_atoms,
                                    float *thresh);

/* Squared Euclidean norm of x (n values). */
double st_sqnorm_double(const double *x, ptrdiff_t n);
float st_sqnorm_float(const float *x, ptrdiff_t n);

#endif

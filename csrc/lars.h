/* LARS-homotopy for the lasso on a precomputed Gram matrix, one signal per
 * call.
 *
 * Solves  min_a  1/2 ||x - a D||^2 + lambda ||a||_1  (optionally a >= 0)
 * for one signal x, given the Gram matrix G = D D^T of the dictionary
 * (atoms as rows), the correlations c = D x and lambda >= 0.  The solution
 * path is followed from lambda_max = max_i |c_i| down to lambda (Osborne,
 * Presnell & Turlach 2000; Efron, Hastie, Johnstone & Tibshirani 2004):
 * on each segment the active coefficients are affine in lambda,
 *   a_A(l) = G_AA^{-1} (c_A - l s_A),
 * and the segment ends when an inactive atom's correlation reaches the
 * threshold (the atom joins with the sign of its correlation) or an active
 * coefficient reaches zero (it leaves: the lasso modification of LARS).
 *
 * Nothing drifts along the path: with the Gram-Schmidt rows W of the active
 * atoms (see gram_schmidt.template.h) the residual correlation of every atom
 * is  c_i(l) = e_i + l d_i,  where e = c - W^T z, d = W^T v, z = L^{-1} c_A
 * and v = L^{-1} s_A (L the Cholesky factor of G_AA); e, d, z and v change
 * only when the active set does, by one row of W.  A join costs one new row
 * (O(n_atoms |A|)); a leave rebuilds the rows of the remaining atoms.
 * Atoms numerically in the span of the active set never join: their squared
 * distance to it must pass st_dependence_thresholds_* and, for the atom about
 * to join, its own rounding error, which grows with the coefficients of its
 * projection on the active atoms (lars_dependent_ in lars.template.c).
 * The final coefficients come from the Cholesky factor:
 * a_A = L^{-T} (z - lambda v).
 */
#ifndef SPARSETOOLS_LARS_H
#define SPARSETOOLS_LARS_H

#include <stddef.h>

/* Number of scalars of workspace that one call needs. */
ptrdiff_t st_lars_workspace_size(ptrdiff_t n_atoms, ptrdiff_t max_active);

/* gram:       n_atoms x n_atoms, row-major (symmetric)
 * gdiag:      the diagonal of gram
 * thresh:     dependence thresholds (st_dependence_thresholds_*)
 * corr:       the correlations D x (left unchanged)
 * lambda:     the l1 weight, >= 0
 * positive:   non-zero to constrain the code to be >= 0
 * max_active: most atoms in the active set (at most n_atoms; the rank of
 *             the dictionary bounds it anyway)
 * max_steps:  most joins and leaves, >= 1 (the first join counts); when
 *             reached, the coefficients are those of the last active set at
 *             lambda and *converged is 0
 * work:       st_lars_workspace_size(n_atoms, max_active) scalars
 * support:    out, max_active atom indices (the first *n_selected are set)
 * coef:       out, their coefficients
 * Returns ST_OK, or ST_ERR_BAD_ARGUMENT for sizes out of range. */
int st_lars_double(const double *gram, const double *gdiag,
                   const double *thresh, ptrdiff_t n_atoms, double *corr,
                   double lambda, int positive, ptrdiff_t max_active,
                   ptrdiff_t max_steps, double *work, ptrdiff_t *support,
                   double *coef, ptrdiff_t *n_selected, int *converged);

int st_lars_float(const float *gram, const float *gdiag, const float *thresh,
                  ptrdiff_t n_atoms, float *corr, float lambda, int positive,
                  ptrdiff_t max_active, ptrdiff_t max_steps, float *work,
                  ptrdiff_t *support, float *coef, ptrdiff_t *n_selected,
                  int *converged);

#endif

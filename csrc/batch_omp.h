/* Batch-OMP and Batch-ORMP on a precomputed Gram matrix, one signal per call.
 *
 * Given the Gram matrix G = D D^T of a dictionary D (n_atoms x n_features,
 * atoms as rows), the correlations c = D x of one signal x and its squared
 * norm ||x||^2, select at most max_k atoms greedily and return their
 * least-squares coefficients.  The signal itself is never needed: every
 * quantity is updated in the n_atoms-dimensional correlation domain
 * (Rubinstein, Zibulevsky & Elad, "Efficient implementation of the K-SVD
 * algorithm using Batch Orthogonal Matching Pursuit", 2008).
 *
 * The selected atoms are orthogonalised progressively: after s selections
 * the kernel holds, for every atom j, w_t[j] = <q_t, d_j> (t < s) where q_t
 * is the t-th Gram-Schmidt vector of the selected atoms.  The rows
 * w_t[support] form the Cholesky factor of G restricted to the support, so
 * the coefficients come out of one triangular solve at the end.  Updating
 * the residual correlations and the projected atom norms costs
 * O(n_atoms * s) per step.
 *
 * Selection rules
 *   ST_OMP  (0): argmax_j |<r, d_j>|               (classic OMP, the rule of
 *                 scikit-learn's orthogonal_mp_gram)
 *   ST_ORMP (1): argmax_j <r, d_j>^2 / ||P d_j||^2 (order-recursive OMP /
 *                 orthogonal least squares, the rule of SPAMS's omp), where P
 *                 projects onto the orthogonal complement of the support.
 * Atoms whose projected norm is no longer significant (numerically in the
 * span of the support: duplicated atoms, zero atoms, atoms beyond the rank of
 * the dictionary) are never selected.
 *
 * Stopping: after max_k atoms, when the squared residual is <= tol (tol < 0
 * disables the test), or when no atom can reduce the residual any more (the
 * residual is zero to working precision).
 */
#ifndef SPARSETOOLS_BATCH_OMP_H
#define SPARSETOOLS_BATCH_OMP_H

#include <stddef.h>

#define ST_OMP 0
#define ST_ORMP 1

/* Number of scalars of workspace that one call needs. */
ptrdiff_t st_omp_workspace_size(ptrdiff_t n_atoms, ptrdiff_t max_k);

/* gram:    n_atoms x n_atoms, row-major (symmetric)
 * gdiag:   n_atoms squared atom norms, the diagonal of gram
 * thresh:  n_atoms dependence thresholds (st_dependence_thresholds_*)
 * corr:    in: the n_atoms correlations D x; overwritten (residual
 *          correlations)
 * norm2:   ||x||^2
 * tol:     stop once the squared residual is <= tol; tol < 0 disables
 * method:  ST_OMP or ST_ORMP
 * work:    st_omp_workspace_size(n_atoms, max_k) scalars
 * support: out, max_k atom indices (the first *n_selected are set)
 * coef:    out, max_k coefficients, in the order of support
 * Returns ST_OK, or ST_ERR_BAD_ARGUMENT for sizes or a method out of range. */
int st_omp_double(const double *gram, const double *gdiag,
                  const double *thresh, ptrdiff_t n_atoms, double *corr,
                  double norm2, ptrdiff_t max_k, double tol, int method,
                  double *work, ptrdiff_t *support, double *coef,
                  ptrdiff_t *n_selected);

int st_omp_float(const float *gram, const float *gdiag, const float *thresh,
                 ptrdiff_t n_atoms, float *corr, float norm2,
                 ptrdiff_t max_k, float tol, int method, float *work,
                 ptrdiff_t *support, float *coef, ptrdiff_t *n_selected);

#endif

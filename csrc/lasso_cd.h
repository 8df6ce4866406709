/* Coordinate descent for the lasso on a precomputed Gram matrix, one signal
 * per call.
 *
 * Solves  min_a  1/2 ||x - a D||^2 + lambda ||a||_1  (optionally a >= 0),
 * i.e. min_a 1/2 a^T G a - c^T a + lambda ||a||_1 with G = D D^T and
 * c = D x, by cyclic coordinate descent with an active set: a sweep over
 * every atom (which lets atoms enter), then sweeps over the non-zero atoms
 * only, updating the gradient q = G a on that set alone, until they settle;
 * then q is recomputed for every atom and the duality gap is evaluated.
 * The loop stops when the duality gap is at most tol times the objective
 * (so the objective is within a factor 1 + tol of the optimum) plus the
 * rounding error of ||x||^2 / 2, or after max_iter rounds (then *converged
 * is 0).  Atoms whose squared norm is below DBL_MIN / DBL_EPSILON
 * (FLT_MIN / FLT_EPSILON) are never used: their Gram entries are zero or
 * subnormal, with too few bits left to be consistent (the 2 x 2 block of two
 * parallel such atoms can come out indefinite, and the sweeps then diverge
 * to inf and NaN).  The callers scale the dictionary so that its largest
 * entry is in [0.5, 1): these are atoms some 1e146 (1e16 in float) times
 * smaller than the largest one.
 *
 * The duality gap uses the dual point nu = s r, r = x - a D the residual and
 * s = min(1, lambda / max_i |(D r)_i|) (max_i (D r)_i when positive), all in
 * the correlation domain: ||r||^2 = ||x||^2 - 2 c^T a + a^T q, D r = c - q.
 */
#ifndef SPARSETOOLS_LASSO_CD_H
#define SPARSETOOLS_LASSO_CD_H

#include <stddef.h>

/* Number of scalars of workspace that one call needs. */
ptrdiff_t st_lasso_cd_workspace_size(ptrdiff_t n_atoms);

/* gram, gdiag: as for st_omp_*; corr: the correlations D x (read only);
 * norm2: ||x||^2; lambda >= 0; tol >= 0 (relative duality gap);
 * max_iter >= 1 (rounds of full sweep + active-set sweeps);
 * work: st_lasso_cd_workspace_size(n_atoms) scalars;
 * support, coef: out, n_atoms wide (the first *n_selected are set);
 * gap: out, the last duality gap relative to the objective.
 * Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
int st_lasso_cd_double(const double *gram, const double *gdiag,
                       const double *corr, double norm2, ptrdiff_t n_atoms,
                       double lambda, int positive, double tol,
                       ptrdiff_t max_iter, double *work, ptrdiff_t *support,
                       double *coef, ptrdiff_t *n_selected, int *converged,
                       double *gap);

int st_lasso_cd_float(const float *gram, const float *gdiag,
                      const float *corr, float norm2, ptrdiff_t n_atoms,
                      float lambda, int positive, float tol,
                      ptrdiff_t max_iter, float *work, ptrdiff_t *support,
                      float *coef, ptrdiff_t *n_selected, int *converged,
                      float *gap);

#endif

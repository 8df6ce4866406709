/* The Locally Competitive Algorithm (LCA, Rozell et al. 2008) on a
 * precomputed Gram matrix, one signal per call.
 *
 * The potentials u of the n atoms follow
 *
 *     tau du/dt = b - u - (G - I) a,    a = T(u),
 *
 * with b = D x the correlations of the signal with the atoms (rows of D),
 * G = D D^T and T a threshold at c applied to every potential:
 *
 *     soft:             a = u - c (u > c), u + c (u < -c), else 0
 *     soft, positive:   a = u - c (u > c), else 0      (Rozell's rectified LCA)
 *     hard:             a = u (|u| > c), else 0
 *     hard, positive:   a = u (u > c), else 0
 *
 * With the soft threshold a fixed point is a lasso solution,
 * min_a 1/2 ||x - a D||^2 + c ||a||_1 (a >= 0 when positive): on the
 * support u = a + c sign(a) gives G a = b - c sign(a), and off it
 * |u| = |b - G a| <= c.
 *
 * Integrators, from u = 0 (a = 0), eta = dt / tau:
 *
 *   ST_LCA_EULER     u <- u + eta (b - u - (G - I) a), a = T(u): the
 *                    literature's fixed step (stable for eta < 2 / ||G||_2
 *                    and eta <= 1).
 *   ST_LCA_NESTEROV  the same step taken from an extrapolated point,
 *                    v = u_k + beta_k (u_k - u_{k-1}),
 *                    u_{k+1} = v + eta (b - v - (G - I) T(v)),
 *                    with FISTA's momentum beta_k = (t_k - 1) / t_{k+1}, and
 *                    the momentum dropped (t = 1) whenever the step opposes
 *                    it (gradient restart, O'Donoghue and Candes 2015).  The
 *                    caller picks eta (sparsetools: 1 / max(1, ||G||_2));
 *                    a fixed point of these steps is an LCA fixed point.
 *
 * (G - I) a is kept as q = G a, updated only by the atoms whose coefficient
 * changed in a step (q += delta_j G_j): a sweep over the active set, plus
 * a scan of every atom on the steps where one becomes active. Every 64
 * steps q is recomputed from the active atoms, which clears the rounding
 * errors that the updates accumulate.
 *
 * Stop after max_iter steps, or once the relative change of the potentials
 * per unit of time, ||u_{k+1} - u_k|| / (eta ||u_{k+1}||), is at most tol.
 */
#ifndef SPARSETOOLS_LCA_H
#define SPARSETOOLS_LCA_H

#include <stddef.h>

#define ST_LCA_EULER 0
#define ST_LCA_NESTEROV 1

#define ST_LCA_SOFT 0
#define ST_LCA_HARD 1

/* Scalars of workspace that one call needs. */
ptrdiff_t st_lca_workspace_size(ptrdiff_t n_atoms);
/* Indices (ptrdiff_t) of workspace that one call needs. */
ptrdiff_t st_lca_index_workspace_size(ptrdiff_t n_atoms);

/* gram: G (n_atoms x n_atoms, row-major, symmetric); corr: b = D x (read
 * only); threshold c >= 0; transfer: ST_LCA_SOFT or ST_LCA_HARD; positive:
 * 0 or 1; integrator: ST_LCA_EULER or ST_LCA_NESTEROV; eta in (0, 1];
 * max_iter >= 1; tol >= 0;
 * work: st_lca_workspace_size(n_atoms) scalars;
 * iwork: st_lca_index_workspace_size(n_atoms) indices;
 * u, a: out, n_atoms each: the final potentials and codes a = T(u);
 * n_iter: out, steps taken; change: out, the last relative change;
 * converged: out, 1 when it stopped on tol.
 * Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
int st_lca_double(const double *gram, ptrdiff_t n_atoms, const double *corr,
                  double threshold, int transfer, int positive,
                  int integrator, double eta, ptrdiff_t max_iter, double tol,
                  double *work, ptrdiff_t *iwork, double *u, double *a,
                  ptrdiff_t *n_iter, double *change, int *converged);

int st_lca_float(const float *gram, ptrdiff_t n_atoms, const float *corr,
                 float threshold, int transfer, int positive, int integrator,
                 float eta, ptrdiff_t max_iter, float tol, float *work,
                 ptrdiff_t *iwork, float *u, float *a, ptrdiff_t *n_iter,
                 float *change, int *converged);

#endif

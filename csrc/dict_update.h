/* The dictionary update of online dictionary learning (Mairal, Bach, Ponce &
 * Sapiro, JMLR 2010, Algorithm 2): one pass of block-coordinate descent over
 * the atoms, given the sufficient statistics A = sum a^T a (n_atoms x
 * n_atoms) and B = sum a^T x (n_atoms x n_features), atoms as rows of D:
 *
 *   d_j <- d_j + (B_j - A_j D) / A_jj,  then  d_j <- d_j / max(||d_j||, 1).
 *
 * Atoms with A_jj <= unused_tol are not updated; their indices go to
 * unused[] (the caller resamples them).  Sequential over the atoms, as the
 * method requires; float64. */
#ifndef SPARSETOOLS_DICT_UPDATE_H
#define SPARSETOOLS_DICT_UPDATE_H

#include <stddef.h>

/* D: n_atoms x n_features, updated in place; work: n_features scalars;
 * unused: n_atoms indices out, *n_unused their count.
 * Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
int st_dict_update_double(double *D, const double *A, const double *B,
                          ptrdiff_t n_atoms, ptrdiff_t n_features,
                          double unused_tol, double *work, ptrdiff_t *unused,
                          ptrdiff_t *n_unused);

/* The sufficient statistics of online dictionary learning, updated with a
 * mini-batch of codes (m x n_atoms, dense rows, mostly zero) and signals
 * (m x n_features):
 *
 *   A <- beta A + scale sum_i a_i^T a_i,   B <- beta B + scale sum_i a_i^T x_i,
 *
 * touching only the non-zeros of each code: O(m (nnz^2 + nnz n_features))
 * instead of the dense products' O(m n_atoms (n_atoms + n_features)).
 * support: n_atoms scratch indices. */
int st_accumulate_stats_double(double *A, double *B, const double *codes,
                               const double *rows, ptrdiff_t m,
                               ptrdiff_t n_atoms, ptrdiff_t n_features,
                               double beta, double scale, ptrdiff_t *support);

#endif

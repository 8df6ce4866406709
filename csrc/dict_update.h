/* The dictionary update of online dictionary learning (Mairal, Bach, Ponce &
 * Sapiro, JMLR 2010, Algorithm 2): one pass of block-coordinate descent over
 * the atoms, given the sufficient statistics A = sum a^T a (n_atoms x
 * n_atoms) and B = sum a^T x (n_atoms x n_features), atoms as rows of D:
 *
 *   d_j <- d_j + (B_j - A_j D) / A_jj,  then  d_j <- d_j / max(||d_j||, 1).
 *
 * Atoms with A_jj <= unused_tol are not updated; their indices go to
 * unused[] (the caller resamples them).  Sequential over the atoms, as the
 * method requires, in blocks whose products A_j D come from one GEMM;
 * float64. */
#ifndef SPARSETOOLS_DICT_UPDATE_H
#define SPARSETOOLS_DICT_UPDATE_H

#include <stddef.h>

/* The update of the atoms j0 <= j < j1 of that pass, given AD = A[j0:j1] D
 * ((j1 - j0) x n_features) computed from the atoms as they were before the
 * block (one GEMM by the caller): the changes of the block's earlier atoms
 * are added to A_j D as the pass goes, so the result is the sequential
 * pass's.  Running the blocks j0 = 0, b, 2b, ... in order, each with its
 * GEMM, is one pass.  D: n_atoms x n_features, updated in place; D_old:
 * (j1 - j0) x n_features scratch; work: n_features scalars; unused: indices
 * out, *n_unused incremented for each.
 * Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
int st_dict_update_block_double(double *D, const double *A, const double *B,
                                const double *AD, ptrdiff_t n_atoms,
                                ptrdiff_t n_features, ptrdiff_t j0, ptrdiff_t j1,
                                double unused_tol, double *D_old, double *work,
                                ptrdiff_t *unused, ptrdiff_t *n_unused);

/* The sufficient statistics of online dictionary learning, updated with a
 * mini-batch of codes (m x n_atoms, dense rows, mostly zero) and signals
 * (m x n_features):
 *
 *   A <- beta A + scale sum_i a_i^T a_i,   B <- beta B + scale sum_i a_i^T x_i,
 *
 * touching only the non-zeros of each code: O(m (nnz^2 + nnz n_features))
 * instead of the dense products' O(m n_atoms (n_atoms + n_features)).
 * When D (n_atoms x n_features) is not NULL, the same pass also measures the
 * batch: *half_sqerr = sum_i 0.5 ||x_i - a_i D||^2 and *l1 = sum_i ||a_i||_1
 * (work: n_features scalars).  support: n_atoms scratch indices. */
int st_accumulate_stats_double(double *A, double *B, const double *codes,
                               const double *rows, const double *D, ptrdiff_t m,
                               ptrdiff_t n_atoms, ptrdiff_t n_features,
                               double beta, double scale, ptrdiff_t *support,
                               double *work, double *half_sqerr, double *l1);

#endif

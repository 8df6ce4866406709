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
 * instead of the dense products' O(m n_atoms (n_atoms + n_features)).  Two
 * steps, each parallel: first each code's support (st_code_support_double,
 * one code at a time), then the rows of A and B (st_accumulate_rows_double,
 * one range of atoms at a time). */

/* The number of non-zeros of code a (n_atoms values). */
ptrdiff_t st_count_nonzero_double(const double *a, ptrdiff_t n_atoms);

/* The indices of the non-zeros of code a (n_atoms values) into support, in
 * increasing order; returns their count.  When D (n_atoms x n_features) is
 * not NULL, also the code's terms of the batch's objective:
 * *half_sqerr = 0.5 ||x - a D||^2 and *l1 = ||a||_1 (work: n_features
 * scalars); x is then a signal of n_features values. */
ptrdiff_t st_code_support_double(const double *a, const double *x,
                                 const double *D, ptrdiff_t n_atoms,
                                 ptrdiff_t n_features, ptrdiff_t *support,
                                 double *work, double *half_sqerr, double *l1);

/* Rows p0 <= p < p1 of A and B updated with the batch, given the supports of
 * the codes (code i's in supports[offsets[i]] to supports[offsets[i + 1] - 1],
 * increasing).  Each row gets the codes' terms in the order of the codes, so
 * the result does not depend on how the rows are split; ranges that do not
 * overlap can run at once.  Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
int st_accumulate_rows_double(double *A, double *B, const double *codes,
                              const double *rows, ptrdiff_t m,
                              ptrdiff_t n_atoms, ptrdiff_t n_features,
                              const ptrdiff_t *supports,
                              const ptrdiff_t *offsets, ptrdiff_t p0,
                              ptrdiff_t p1, double beta, double scale);

#endif

/* The atom update of approximate K-SVD (Rubinstein, Zibulevsky & Elad,
 * "Efficient implementation of the K-SVD algorithm using Batch Orthogonal
 * Matching Pursuit", Technion CS-2008-08, Algorithm 5), atoms as rows of D
 * and signals as rows of X.
 *
 * For each atom j in turn, with I the signals whose codes use it, g their
 * coefficients on it and E = X_I - C_I D + g d_j the residual without it:
 *
 *   d <- E^T g,  d <- d / ||d||,  g <- E d,
 *
 * then d_j <- d and the codes' coefficients on j <- g.  One step of the
 * power method on E instead of its full SVD; sequential over the atoms, each
 * update seeing the ones before it, as K-SVD requires.  The codes never
 * change support.
 *
 * The codes are given twice: by rows (CSR: row_ptr, atoms, coefs) and by
 * atoms (col_ptr, and per entry the signal col_rows and the position
 * col_pos of that entry in the CSR arrays, so the updated coefficients are
 * written back into coefs).  float64. */
#ifndef SPARSETOOLS_KSVD_H
#define SPARSETOOLS_KSVD_H

#include <stddef.h>

/* Scalars of workspace: 2 n_atoms + n_features. */
ptrdiff_t st_ksvd_workspace_size(ptrdiff_t n_atoms, ptrdiff_t n_features);

/* D: n_atoms x n_features, updated in place; X: n_samples x n_features;
 * coefs (row_ptr[n_samples] entries) updated in place; work: see
 * st_ksvd_workspace_size; unused: n_atoms indices out (atoms no code uses, or
 * whose residual vanishes; left as they are), *n_unused their count.
 * Returns ST_OK, or ST_ERR_BAD_ARGUMENT for sizes or indices out of range. */
int st_ksvd_update_double(double *D, ptrdiff_t n_atoms, ptrdiff_t n_features,
                          const double *X, ptrdiff_t n_samples,
                          const ptrdiff_t *row_ptr, const ptrdiff_t *atoms,
                          double *coefs, const ptrdiff_t *col_ptr,
                          const ptrdiff_t *col_rows, const ptrdiff_t *col_pos,
                          double *work, ptrdiff_t *unused, ptrdiff_t *n_unused);

#endif

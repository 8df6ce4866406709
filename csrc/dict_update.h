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

#endif

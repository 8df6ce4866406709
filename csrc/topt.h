/* Top-T selection and sign activation of the sparse-coding front end of
 * paper 003 (section 3.2, eq. 3), per patch:
 *
 *   keep the n_top correlations x_l of largest |x_l| (ties: lower atom index
 *   first), then  out_l = sign(x_l) * l1[l]  where  |x_l| >= beta * eps * l1[l],
 *   and 0 otherwise  (l1[l] = ||d_l||_1).
 *
 * corr holds n_patches rows of n_atoms correlations.  For patch p the
 * surviving (atom, value) pairs, in increasing atom order, go to
 * idx[p * n_top ...] and val[p * n_top ...], and their number to count[p].
 * work: n_top atom indices of scratch.  Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
#ifndef SPARSETOOLS_TOPT_H
#define SPARSETOOLS_TOPT_H

#include <stddef.h>

int st_topt_double(const double *corr, ptrdiff_t n_patches, ptrdiff_t n_atoms,
                   ptrdiff_t n_top, const double *l1, double thresh_scale,
                   ptrdiff_t *idx, double *val, ptrdiff_t *count, ptrdiff_t *work);
int st_topt_float(const float *corr, ptrdiff_t n_patches, ptrdiff_t n_atoms,
                  ptrdiff_t n_top, const float *l1, float thresh_scale,
                  ptrdiff_t *idx, float *val, ptrdiff_t *count, ptrdiff_t *work);

#endif

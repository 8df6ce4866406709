/* The per-frequency linear algebra of the filter update of convolutional
 * dictionary learning (sparsetools/convolutional/_learning.py): ADMM for
 *   min_d sum_f d_f^H A_f d_f / 2 - Re(d_f^H b_f)
 * over filters d in a constraint set, with A_f = sum_k Z_kf^H Z_kf (m x m,
 * Hermitian) and b_f = sum_k Z_kf^H S_kf (m x c) accumulated over the tiles
 * seen (m filters, c channels, Z_kf the codes' and S_kf the tile's spectra).
 *
 * st_conv_dict_accumulate_*: A_f <- w A_f + Z_f^H Z_f, b_f <- w b_f + Z_f^H S_f
 *   (a rank-k Hermitian update of the lower triangle, k tiles).
 * st_conv_dict_factor_*: the Cholesky factor L_f L_f^H = A_f + sigma I.
 * st_conv_dict_solve_*: x_f = (A_f + sigma I)^-1 (b_f + sigma r_f) by the two
 *   triangular solves with L_f, c right-hand sides.
 *
 * Each works on frequency blocks [blk0, blk1) of ST_CONV_DICT_BLOCK
 * frequencies (the last block is padded with zero frequencies), so that the
 * caller's threads can split the blocks.  Inside a block the frequencies are
 * the innermost (vectorised) axis.  Layouts, TYPE values, P = m (m + 1) / 2,
 * B = ST_CONV_DICT_BLOCK, n_blocks = ceil(n_freq / B):
 *   a, l  (n_blocks, P, 2, B)      lower triangles packed by rows (entry
 *                                  (r, k), k <= r, at r (r + 1) / 2 + k), real
 *                                  then imaginary parts; in l the diagonal
 *                                  holds 1 / L_rr (real)
 *   b     (n_blocks, m, c, 2, B)
 * and, interleaved (re, im) complex as the FFTs give them:
 *   zf    (k, m, n_freq)  codes' spectra      sf (k, c, n_freq)  tiles' spectra
 *   rhs, x (m, c, n_freq)  (x may be rhs: each block is read before written)
 * Scratch, per call: accumulate 2 B k (m + c) TYPE values, solve 2 B m c.
 *
 * Return ST_OK, or ST_ERR_BAD_ARGUMENT for sizes or options out of range
 * (nothing is written then).  The factor stores in *n_bad the number of
 * frequencies whose pivot was not positive (NaN included): A_f + sigma I is
 * then not positive definite to working precision and x_f is not usable. */
#ifndef SPARSETOOLS_CONV_DICT_H
#define SPARSETOOLS_CONV_DICT_H

#include <stddef.h>

/* Frequencies per block: one AVX-512 vector of doubles. */
#define ST_CONV_DICT_BLOCK 8

int st_conv_dict_accumulate_double(const double *zf, const double *sf, double *a,
                                   double *b, ptrdiff_t n_tiles, ptrdiff_t m,
                                   ptrdiff_t n_ch, ptrdiff_t n_freq, ptrdiff_t n_blocks,
                                   double weight, ptrdiff_t blk0, ptrdiff_t blk1,
                                   double *work);
int st_conv_dict_accumulate_float(const float *zf, const float *sf, float *a, float *b,
                                  ptrdiff_t n_tiles, ptrdiff_t m, ptrdiff_t n_ch,
                                  ptrdiff_t n_freq, ptrdiff_t n_blocks, float weight,
                                  ptrdiff_t blk0, ptrdiff_t blk1, float *work);
int st_conv_dict_factor_double(const double *a, double *l, ptrdiff_t m, ptrdiff_t n_blocks,
                               double sigma, ptrdiff_t blk0, ptrdiff_t blk1,
                               ptrdiff_t *n_bad);
int st_conv_dict_factor_float(const float *a, float *l, ptrdiff_t m, ptrdiff_t n_blocks,
                              float sigma, ptrdiff_t blk0, ptrdiff_t blk1,
                              ptrdiff_t *n_bad);
int st_conv_dict_solve_double(const double *l, const double *b, const double *rhs,
                              double *x, ptrdiff_t m, ptrdiff_t n_ch, ptrdiff_t n_freq,
                              ptrdiff_t n_blocks, double sigma, ptrdiff_t blk0,
                              ptrdiff_t blk1, double *work);
int st_conv_dict_solve_float(const float *l, const float *b, const float *rhs, float *x,
                             ptrdiff_t m, ptrdiff_t n_ch, ptrdiff_t n_freq,
                             ptrdiff_t n_blocks, float sigma, ptrdiff_t blk0,
                             ptrdiff_t blk1, float *work);

#endif

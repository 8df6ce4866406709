/* The two fused steps of one ADMM iteration of convolutional basis pursuit
 * denoising (CBPDN, Wohlberg 2016), on the variable V = a X + (1 - a) Y_prev
 * + U_prev (a the relaxation), so that the scaled dual is U = V - Y and an
 * iteration needs one inverse FFT (of V) and one forward FFT (of Y):
 *
 * st_cbpdn_xstep_*: frequency domain, frequencies [f0, f1).  Solves
 *   (D^H D + rho I) x = D^H s + rho (y - u)
 * at every frequency by the Sherman-Morrison formula (one channel) or its
 * Woodbury form with a c x c Cholesky solve (c channels, one map per filter
 * shared across them), and overwrites V by V + a (X - Y).
 *
 * st_cbpdn_ystep_*: space domain, n values of one map.  Soft-thresholds V
 * into the new Y (or its non-negative form) and returns in out[0..4] the
 * squared norms (|x|^2, |x - y|^2, |y|^2, |y_prev - y|^2, |v - y|^2), summed
 * in double, with x = (v - v_prev') / a + y_prev the un-relaxed x-update;
 * v_prev <- v for the next iteration.
 *
 * A change of rho by a factor f rescales U by 1 / f; both steps apply it on
 * the fly to the V they read (inv_rsf = 1 / f): v' = y + (v - y) inv_rsf.
 *
 * Complex arrays are interleaved (re, im) pairs of TYPE:
 *   df   (n_ch, n_filters, n_freq)  filter spectra
 *   gram (n_freq, n_ch, n_ch)       D_f D_f^H per frequency
 *   sf   (n_ch, n_freq)             image spectrum
 *   yf, vf (n_filters, n_freq)      spectra of Y and V (vf in/out)
 * work holds 2 * (n_ch * ST_CBPDN_BLOCK + n_ch * n_ch + n_ch) TYPE values.
 * Returns ST_OK or ST_ERR_BAD_ARGUMENT. */
#ifndef SPARSETOOLS_CBPDN_H
#define SPARSETOOLS_CBPDN_H

#include <stddef.h>

/* Frequencies processed together by the x-step: the block of every map
 * stays in cache between its two passes. */
#define ST_CBPDN_BLOCK 256

int st_cbpdn_xstep_double(const double *df, const double *gram, const double *sf,
                          const double *yf, double *vf, ptrdiff_t n_ch,
                          ptrdiff_t n_filters, ptrdiff_t n_freq, double rho,
                          double inv_rsf, double relax, ptrdiff_t f0, ptrdiff_t f1,
                          double *work);
int st_cbpdn_xstep_float(const float *df, const float *gram, const float *sf,
                         const float *yf, float *vf, ptrdiff_t n_ch,
                         ptrdiff_t n_filters, ptrdiff_t n_freq, float rho,
                         float inv_rsf, float relax, ptrdiff_t f0, ptrdiff_t f1,
                         float *work);
int st_cbpdn_ystep_double(const double *v, double *v_prev, double *y, ptrdiff_t n,
                          double threshold, double inv_rsf, double relax, int positive,
                          double *out);
int st_cbpdn_ystep_float(const float *v, float *v_prev, float *y, ptrdiff_t n,
                         float threshold, float inv_rsf, float relax, int positive,
                         double *out);

#endif

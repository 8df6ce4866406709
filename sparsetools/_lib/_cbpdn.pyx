"""Cython adapter for the CBPDN ADMM steps (csrc/cbpdn.c), run with the GIL
released so that the caller's threads can split the frequencies and maps.

Complex arrays come as real views (interleaved real and imaginary parts), so
their last axis is twice the number of frequencies. Validation happens in
sparsetools.convolutional._cbpdn; this module trusts its arguments.
"""
from cython cimport floating

include "_status.pxi"


cdef extern from "cbpdn.h" nogil:
    int ST_CBPDN_BLOCK
    int st_cbpdn_xstep_double(const double *df, const double *gram, const double *sf,
                              const double *yf, double *vf, Py_ssize_t n_ch,
                              Py_ssize_t n_filters, Py_ssize_t n_freq, double rho,
                              double inv_rsf, double relax, Py_ssize_t f0, Py_ssize_t f1,
                              double *work)
    int st_cbpdn_xstep_float(const float *df, const float *gram, const float *sf,
                             const float *yf, float *vf, Py_ssize_t n_ch,
                             Py_ssize_t n_filters, Py_ssize_t n_freq, float rho,
                             float inv_rsf, float relax, Py_ssize_t f0, Py_ssize_t f1,
                             float *work)
    int st_cbpdn_ystep_double(const double *v, double *v_prev, double *y, Py_ssize_t n,
                              double threshold, double inv_rsf, double relax, int positive,
                              double *out)
    int st_cbpdn_ystep_float(const float *v, float *v_prev, float *y, Py_ssize_t n,
                             float threshold, float inv_rsf, float relax, int positive,
                             double *out)


def work_size(Py_ssize_t n_ch):
    """Values of scratch the x-step needs for ``n_ch`` channels."""
    return 2 * (n_ch * ST_CBPDN_BLOCK + n_ch * n_ch + n_ch)


def xstep(const floating[:, :, ::1] df, const floating[:, :, ::1] gram,
          const floating[:, ::1] sf, const floating[:, ::1] yf, floating[:, ::1] vf,
          double rho, double inv_rsf, double relax, Py_ssize_t f0, Py_ssize_t f1,
          floating[::1] work):
    """Frequencies ``[f0, f1)``: ``vf <- v' + a (x - y)``; df ``(c, m, 2F)``,
    gram ``(F, c, 2c)``, sf ``(c, 2F)``, yf and vf ``(m, 2F)``."""
    cdef Py_ssize_t n_ch = df.shape[0], n_filters = df.shape[1], n_freq = df.shape[2] // 2
    cdef int status
    with nogil:
        if floating is double:
            status = st_cbpdn_xstep_double(&df[0, 0, 0], &gram[0, 0, 0], &sf[0, 0],
                                           &yf[0, 0], &vf[0, 0], n_ch, n_filters, n_freq,
                                           rho, inv_rsf, relax, f0, f1, &work[0])
        else:
            status = st_cbpdn_xstep_float(&df[0, 0, 0], &gram[0, 0, 0], &sf[0, 0],
                                          &yf[0, 0], &vf[0, 0], n_ch, n_filters, n_freq,
                                          <float> rho, <float> inv_rsf, <float> relax,
                                          f0, f1, &work[0])
    check_status(status, "CBPDN x-step")


def ystep(const floating[:, ::1] v, floating[:, ::1] v_prev, floating[:, ::1] y,
          double threshold, double inv_rsf, double relax, bint positive):
    """Maps ``v`` (k, n) against the rows ``v_prev`` and ``y`` (k, n) of the
    same maps: ``y <- soft(v)``, ``v_prev <- v``; returns the five squared
    norms ``(|x|^2, |x - y|^2, |y|^2, |y_prev - y|^2, |v - y|^2)`` summed
    over the maps in row order."""
    cdef double out[5]
    cdef double acc[5]
    cdef Py_ssize_t i, k, n = v.shape[1]
    cdef int status = 0
    for k in range(5):
        acc[k] = 0.0
    with nogil:
        for i in range(v.shape[0]):
            if floating is double:
                status |= st_cbpdn_ystep_double(&v[i, 0], &v_prev[i, 0], &y[i, 0], n,
                                                threshold, inv_rsf, relax, positive, out)
            else:
                status |= st_cbpdn_ystep_float(&v[i, 0], &v_prev[i, 0], &y[i, 0], n,
                                               <float> threshold, <float> inv_rsf,
                                               <float> relax, positive, out)
            for k in range(5):
                acc[k] += out[k]
    check_status(status, "CBPDN y-step")
    return acc[0], acc[1], acc[2], acc[3], acc[4]

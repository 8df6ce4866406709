"""Cython adapter for the filter-update kernels of convolutional dictionary
learning (csrc/conv_dict.c), run with the GIL released; ``n_threads`` threads
split the frequency blocks (results do not depend on it).

The statistics live in the blocked layouts of csrc/conv_dict.h: ``a`` and
``l`` ``(n_blocks, m (m + 1) / 2, 2, BLOCK)``, ``b`` ``(n_blocks, m, c, 2,
BLOCK)``. Spectra come as real views of C-contiguous complex arrays
(interleaved real and imaginary parts), so their last axis is twice the number
of frequencies. Validation happens in sparsetools.convolutional._learning; the
kernels check the sizes and options they get and this module turns their
status codes into errors.
"""
import numpy as np

from cython cimport floating
from cython.parallel cimport prange
from libc.math cimport sqrt

include "_status.pxi"


cdef extern from "conv_dict.h" nogil:
    int ST_CONV_DICT_BLOCK
    int st_conv_dict_accumulate_double(const double *zf, const double *sf, double *a,
                                       double *b, Py_ssize_t n_tiles, Py_ssize_t m,
                                       Py_ssize_t n_ch, Py_ssize_t n_freq, Py_ssize_t n_blocks,
                                       double weight, Py_ssize_t blk0, Py_ssize_t blk1,
                                       double *work)
    int st_conv_dict_accumulate_float(const float *zf, const float *sf, float *a, float *b,
                                      Py_ssize_t n_tiles, Py_ssize_t m, Py_ssize_t n_ch,
                                      Py_ssize_t n_freq, Py_ssize_t n_blocks, float weight,
                                      Py_ssize_t blk0, Py_ssize_t blk1, float *work)
    int st_conv_dict_factor_double(const double *a, double *l, Py_ssize_t m,
                                   Py_ssize_t n_blocks, double sigma, Py_ssize_t blk0,
                                   Py_ssize_t blk1, Py_ssize_t *n_bad)
    int st_conv_dict_factor_float(const float *a, float *l, Py_ssize_t m,
                                  Py_ssize_t n_blocks, float sigma, Py_ssize_t blk0,
                                  Py_ssize_t blk1, Py_ssize_t *n_bad)
    int st_conv_dict_solve_double(const double *l, const double *b, const double *rhs,
                                  double *x, Py_ssize_t m, Py_ssize_t n_ch, Py_ssize_t n_freq,
                                  Py_ssize_t n_blocks, double sigma, Py_ssize_t blk0,
                                  Py_ssize_t blk1, double *work)
    int st_conv_dict_solve_float(const float *l, const float *b, const float *rhs, float *x,
                                 Py_ssize_t m, Py_ssize_t n_ch, Py_ssize_t n_freq,
                                 Py_ssize_t n_blocks, float sigma, Py_ssize_t blk0,
                                 Py_ssize_t blk1, float *work)

#: Frequencies per block of the statistics' layout.
BLOCK = ST_CONV_DICT_BLOCK


cdef inline Py_ssize_t _n_parts(int n_threads, Py_ssize_t n_blocks) noexcept nogil:
    return max(1, min(<Py_ssize_t> n_threads, n_blocks))


def _shape(arr):
    return tuple(arr.shape)


def _check_tail(arr, str name):
    if arr.shape[arr.ndim - 2] != 2 or arr.shape[arr.ndim - 1] != ST_CONV_DICT_BLOCK:
        raise ValueError(f"{name} must end with axes (2, {ST_CONV_DICT_BLOCK}); got shape "
                         f"{tuple(arr.shape)}")


def accumulate(const floating[:, :, ::1] zf, const floating[:, :, ::1] sf,
               floating[:, :, :, ::1] a, floating[:, :, :, :, ::1] b, double weight,
               int n_threads=1):
    """``a <- w a + Z^H Z``, ``b <- w b + Z^H S`` per frequency; zf ``(k, m,
    2F)``, sf ``(k, c, 2F)`` the spectra of the codes and tiles."""
    cdef Py_ssize_t k = zf.shape[0], m = zf.shape[1], n_freq = zf.shape[2] // 2
    cdef Py_ssize_t n_ch = sf.shape[1], n_blocks = a.shape[0], parts, t, blk0, blk1
    cdef Py_ssize_t wsize = 2 * ST_CONV_DICT_BLOCK * k * (m + n_ch)
    cdef int status = 0
    _check_tail(a, "a")
    _check_tail(b, "b")
    if (sf.shape[0] != k or sf.shape[2] != zf.shape[2] or a.shape[1] != m * (m + 1) // 2
            or b.shape[0] != n_blocks or b.shape[1] != m or b.shape[2] != n_ch):
        raise ValueError("accumulate: inconsistent shapes zf %s, sf %s, a %s, b %s" % (
            _shape(zf), _shape(sf), _shape(a), _shape(b)))
    parts = _n_parts(n_threads, n_blocks)
    cdef floating[:, ::1] work = np.empty((parts, max(wsize, 1)),
                                          dtype=np.float64 if floating is double else np.float32)
    cdef const floating *zp = &zf[0, 0, 0] if k > 0 else NULL
    cdef const floating *sp = &sf[0, 0, 0] if k > 0 else NULL
    with nogil:
        for t in prange(parts, num_threads=parts, schedule='static'):
            blk0 = t * n_blocks // parts
            blk1 = (t + 1) * n_blocks // parts
            if floating is double:
                status |= st_conv_dict_accumulate_double(
                    zp, sp, &a[0, 0, 0, 0], &b[0, 0, 0, 0, 0], k, m, n_ch, n_freq, n_blocks,
                    weight, blk0, blk1, &work[t, 0])
            else:
                status |= st_conv_dict_accumulate_float(
                    zp, sp, &a[0, 0, 0, 0], &b[0, 0, 0, 0, 0], k, m, n_ch, n_freq, n_blocks,
                    <float> weight, blk0, blk1, &work[t, 0])
    check_status(status, "filter update (accumulate)")


def factor(const floating[:, :, :, ::1] a, floating[:, :, :, ::1] l, double sigma,
           int n_threads=1):
    """The Cholesky factors ``l`` of ``a + sigma I`` per frequency (diagonal
    stored inverted); returns the number of frequencies whose system was not
    positive definite to working precision."""
    cdef Py_ssize_t n_blocks = a.shape[0], p = a.shape[1], m, parts, t, blk0, blk1
    cdef Py_ssize_t bad_t
    cdef Py_ssize_t n_bad = 0
    cdef int status = 0
    _check_tail(a, "a")
    _check_tail(l, "l")
    m = <Py_ssize_t> ((sqrt(8.0 * p + 1) - 1) / 2 + 0.5)
    if _shape(l) != _shape(a) or m * (m + 1) // 2 != p:
        raise ValueError("factor: inconsistent shapes a %s, l %s" % (
            _shape(a), _shape(l)))
    parts = _n_parts(n_threads, n_blocks)
    with nogil:
        for t in prange(parts, num_threads=parts, schedule='static'):
            blk0 = t * n_blocks // parts
            blk1 = (t + 1) * n_blocks // parts
            bad_t = 0
            if floating is double:
                status |= st_conv_dict_factor_double(&a[0, 0, 0, 0], &l[0, 0, 0, 0], m,
                                                     n_blocks, sigma, blk0, blk1, &bad_t)
            else:
                status |= st_conv_dict_factor_float(&a[0, 0, 0, 0], &l[0, 0, 0, 0], m,
                                                    n_blocks, <float> sigma, blk0, blk1,
                                                    &bad_t)
            n_bad += bad_t
    check_status(status, "filter update (factor)")
    return n_bad


def solve(const floating[:, :, :, ::1] l, const floating[:, :, :, :, ::1] b,
          const floating[:, :, ::1] rhs, floating[:, :, ::1] x, double sigma,
          int n_threads=1):
    """``x = (A + sigma I)^-1 (b + sigma rhs)`` per frequency from the factors
    ``l``; rhs and x ``(m, c, 2F)`` (x may be rhs)."""
    cdef Py_ssize_t m = rhs.shape[0], n_ch = rhs.shape[1], n_freq = rhs.shape[2] // 2
    cdef Py_ssize_t n_blocks = l.shape[0], parts, t, blk0, blk1
    cdef int status = 0
    _check_tail(l, "l")
    _check_tail(b, "b")
    if (_shape(x) != _shape(rhs) or l.shape[1] != m * (m + 1) // 2
            or b.shape[0] != n_blocks or b.shape[1] != m or b.shape[2] != n_ch):
        raise ValueError("solve: inconsistent shapes l %s, b %s, rhs %s, x %s" % (
            _shape(l), _shape(b), _shape(rhs), _shape(x)))
    parts = _n_parts(n_threads, n_blocks)
    cdef floating[:, ::1] work = np.empty((parts, 2 * ST_CONV_DICT_BLOCK * m * max(n_ch, 1)),
                                          dtype=np.float64 if floating is double else np.float32)
    with nogil:
        for t in prange(parts, num_threads=parts, schedule='static'):
            blk0 = t * n_blocks // parts
            blk1 = (t + 1) * n_blocks // parts
            if floating is double:
                status |= st_conv_dict_solve_double(&l[0, 0, 0, 0], &b[0, 0, 0, 0, 0],
                                                    &rhs[0, 0, 0], &x[0, 0, 0], m, n_ch, n_freq,
                                                    n_blocks, sigma, blk0, blk1, &work[t, 0])
            else:
                status |= st_conv_dict_solve_float(&l[0, 0, 0, 0], &b[0, 0, 0, 0, 0],
                                                   &rhs[0, 0, 0], &x[0, 0, 0], m, n_ch, n_freq,
                                                   n_blocks, <float> sigma, blk0, blk1,
                                                   &work[t, 0])
    check_status(status, "filter update (solve)")

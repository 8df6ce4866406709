"""Cython adapter for the top-T activation of the sparse-coding front end
(csrc/topt.c): patches spread over OpenMP threads with the GIL released.

Validation happens in sparsetools.coding._topt; this module trusts its
arguments.
"""
from cython cimport floating
from cython.parallel cimport prange, threadid

include "_status.pxi"


cdef extern from "topt.h" nogil:
    int st_topt_double(const double *corr, Py_ssize_t n_patches, Py_ssize_t n_atoms,
                       Py_ssize_t n_top, const double *l1, double thresh_scale,
                       Py_ssize_t *idx, double *val, Py_ssize_t *count, Py_ssize_t *work)
    int st_topt_float(const float *corr, Py_ssize_t n_patches, Py_ssize_t n_atoms,
                      Py_ssize_t n_top, const float *l1, float thresh_scale,
                      Py_ssize_t *idx, float *val, Py_ssize_t *count, Py_ssize_t *work)


def topt(const floating[:, ::1] corr, const floating[::1] l1, Py_ssize_t n_top,
         double thresh_scale, Py_ssize_t[:, ::1] idx, floating[:, ::1] val,
         Py_ssize_t[::1] count, Py_ssize_t[:, ::1] work, int n_threads):
    """Top-T activation of each row of corr into idx / val (n_patches, n_top)
    and count (n_patches,); work is (n_threads, n_top)."""
    cdef Py_ssize_t n = corr.shape[0], n_atoms = corr.shape[1], p
    cdef int status = 0, st
    cdef floating scale = <floating> thresh_scale
    if n == 0:
        return
    with nogil:
        for p in prange(n, num_threads=n_threads, schedule="static"):
            if floating is double:
                st = st_topt_double(&corr[p, 0], 1, n_atoms, n_top, &l1[0], scale,
                                    &idx[p, 0], &val[p, 0], &count[p],
                                    &work[threadid(), 0])
            else:
                st = st_topt_float(&corr[p, 0], 1, n_atoms, n_top, &l1[0], scale,
                                   &idx[p, 0], &val[p, 0], &count[p],
                                   &work[threadid(), 0])
            status |= st
    check_status(status, "top-T activation")

"""Cython adapter for the compiled steps of dictionary learning (csrc/dict_update.c).

Validation happens in sparsetools.dictionary; this module trusts its
arguments and releases the GIL around the kernel.
"""
import numpy as np

include "_status.pxi"


cdef extern from "dict_update.h" nogil:
    int st_dict_update_double(double *D, const double *A, const double *B,
                              Py_ssize_t n_atoms, Py_ssize_t n_features,
                              double unused_tol, double *work,
                              Py_ssize_t *unused, Py_ssize_t *n_unused)


def dict_update(double[:, ::1] D, const double[:, ::1] A, const double[:, ::1] B,
                double unused_tol):
    """One block-coordinate pass over the atoms (rows of D, in place).

    Returns the indices of the atoms left alone because A_jj <= unused_tol.
    """
    cdef Py_ssize_t k = D.shape[0], f = D.shape[1], n_unused = 0
    cdef double[::1] work = np.empty(f)
    cdef Py_ssize_t[::1] unused = np.empty(k, dtype=np.intp)
    cdef int status
    with nogil:
        status = st_dict_update_double(&D[0, 0], &A[0, 0], &B[0, 0], k, f, unused_tol,
                                       &work[0], &unused[0], &n_unused)
    check_status(status, "dictionary update")
    return np.asarray(unused[:n_unused]).copy()

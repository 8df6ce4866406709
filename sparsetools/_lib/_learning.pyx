"""Cython adapter for the compiled steps of dictionary learning (csrc/dict_update.c,
csrc/ksvd.c).

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
    int st_accumulate_stats_double(double *A, double *B, const double *codes,
                                   const double *rows, Py_ssize_t m,
                                   Py_ssize_t n_atoms, Py_ssize_t n_features,
                                   double beta, double scale, Py_ssize_t *support)


cdef extern from "ksvd.h" nogil:
    Py_ssize_t st_ksvd_workspace_size(Py_ssize_t n_atoms, Py_ssize_t n_features)
    int st_ksvd_update_double(double *D, Py_ssize_t n_atoms, Py_ssize_t n_features,
                              const double *X, Py_ssize_t n_samples,
                              const Py_ssize_t *row_ptr, const Py_ssize_t *atoms,
                              double *coefs, const Py_ssize_t *col_ptr,
                              const Py_ssize_t *col_rows, const Py_ssize_t *col_pos,
                              double *work, Py_ssize_t *unused, Py_ssize_t *n_unused)


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


def accumulate_stats(double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                     const double[:, ::1] rows, double beta, double scale):
    """A <- beta A + scale codes^T codes, B <- beta B + scale codes^T rows, in
    place, over the non-zeros of each code only."""
    cdef Py_ssize_t k = A.shape[0], f = B.shape[1], m = codes.shape[0]
    cdef Py_ssize_t[::1] support = np.empty(k, dtype=np.intp)
    cdef int status
    if m == 0:
        return
    with nogil:
        status = st_accumulate_stats_double(&A[0, 0], &B[0, 0], &codes[0, 0],
                                            &rows[0, 0], m, k, f, beta, scale,
                                            &support[0])
    check_status(status, "dictionary statistics")


def ksvd_update(double[:, ::1] D, const double[:, ::1] X, const Py_ssize_t[::1] row_ptr,
                const Py_ssize_t[::1] atoms, double[::1] coefs,
                const Py_ssize_t[::1] col_ptr, const Py_ssize_t[::1] col_rows,
                const Py_ssize_t[::1] col_pos):
    """One approximate K-SVD pass over the atoms (rows of D) and the codes'
    coefficients (CSR row_ptr / atoms / coefs), both in place.

    col_ptr (n_atoms + 1), col_rows and col_pos index the CSR entries by
    atom: signal and position in coefs.  Returns the indices of the atoms
    left alone (unused, or with a vanishing residual).
    """
    cdef Py_ssize_t k = D.shape[0], f = D.shape[1], n = X.shape[0], n_unused = 0
    cdef Py_ssize_t nnz = atoms.shape[0]
    cdef double[::1] work = np.empty(st_ksvd_workspace_size(k, f))
    cdef Py_ssize_t[::1] unused = np.empty(k, dtype=np.intp)
    cdef int status
    if (X.shape[1] != f or row_ptr.shape[0] != n + 1 or col_ptr.shape[0] != k + 1
            or coefs.shape[0] != nnz or col_rows.shape[0] != nnz
            or col_pos.shape[0] != nnz or row_ptr[n] != nnz):
        raise ValueError("ksvd_update: inconsistent array sizes")
    # a zero-length memoryview has no element 0 to take the address of
    if nnz == 0:
        return np.arange(k)
    with nogil:
        status = st_ksvd_update_double(&D[0, 0], k, f, &X[0, 0], n, &row_ptr[0],
                                       &atoms[0], &coefs[0], &col_ptr[0], &col_rows[0],
                                       &col_pos[0], &work[0], &unused[0], &n_unused)
    check_status(status, "K-SVD update")
    return np.asarray(unused[:n_unused]).copy()

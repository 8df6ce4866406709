"""Cython adapter for the compiled steps of dictionary learning (csrc/dict_update.c,
csrc/ksvd.c).

Validation happens in sparsetools.dictionary; this module trusts its
arguments and releases the GIL around the kernel.
"""
import numpy as np

from scipy.linalg.cython_blas cimport dgemm

include "_status.pxi"

#: Atoms per block of the online update: one GEMM per block.
BLOCK = 16


cdef extern from "dict_update.h" nogil:
    int st_dict_update_block_double(double *D, const double *A, const double *B,
                                    const double *AD, Py_ssize_t n_atoms,
                                    Py_ssize_t n_features, Py_ssize_t j0,
                                    Py_ssize_t j1, double unused_tol, double *D_old,
                                    double *work, Py_ssize_t *unused,
                                    Py_ssize_t *n_unused)
    int st_accumulate_stats_double(double *A, double *B, const double *codes,
                                   const double *rows, const double *D, Py_ssize_t m,
                                   Py_ssize_t n_atoms, Py_ssize_t n_features,
                                   double beta, double scale, Py_ssize_t *support,
                                   double *work, double *half_sqerr, double *l1)


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
    Blocks of atoms get their products A_j D from one GEMM (BLAS), the rest
    of the update runs in C; the result is the sequential pass's.
    """
    cdef Py_ssize_t k = D.shape[0], f = D.shape[1], n_unused = 0, j0, j1
    cdef Py_ssize_t block = BLOCK
    cdef double[::1] work = np.empty(f)
    cdef double[:, ::1] AD = np.empty((block, f))
    cdef double[:, ::1] D_old = np.empty((block, f))
    cdef Py_ssize_t[::1] unused = np.empty(k, dtype=np.intp)
    cdef int status = 0, m, n_f = <int> f, n_k = <int> k
    cdef char trans = b'N'
    cdef double one = 1, zero = 0
    if A.shape[0] != k or A.shape[1] != k or B.shape[0] != k or B.shape[1] != f:
        raise ValueError("dict_update: inconsistent array sizes")
    with nogil:
        j0 = 0
        while j0 < k:
            j1 = min(j0 + block, k)
            m = <int> (j1 - j0)
            # row-major AD (m x f) = A[j0:j1] (m x k) @ D (k x f); column-major,
            # AD^T = D^T A[j0:j1]^T
            dgemm(&trans, &trans, &n_f, &m, &n_k, &one, &D[0, 0], &n_f, <double *> &A[j0, 0],
                  &n_k, &zero, &AD[0, 0], &n_f)
            status = st_dict_update_block_double(&D[0, 0], &A[0, 0], &B[0, 0],
                                                 &AD[0, 0], k, f, j0, j1, unused_tol,
                                                 &D_old[0, 0], &work[0], &unused[0],
                                                 &n_unused)
            if status != 0:
                break
            j0 = j1
    check_status(status, "dictionary update")
    return np.asarray(unused[:n_unused]).copy()


def accumulate_stats(double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                     const double[:, ::1] rows, double beta, double scale,
                     const double[:, ::1] D=None):
    """A <- beta A + scale codes^T codes, B <- beta B + scale codes^T rows, in
    place, over the non-zeros of each code only.

    With D, returns the batch's (sum of 0.5 ||rows_i - codes_i D||^2, sum of
    ||codes_i||_1) from the same pass; None otherwise.
    """
    cdef Py_ssize_t k = A.shape[0], f = B.shape[1], m = codes.shape[0]
    cdef Py_ssize_t[::1] support = np.empty(k, dtype=np.intp)
    cdef double[::1] work = np.empty(f)
    cdef const double *d_ptr = NULL
    cdef double half_sqerr = 0, l1 = 0
    cdef int status
    if (A.shape[1] != k or B.shape[0] != k or codes.shape[1] != k
            or rows.shape[0] != m or rows.shape[1] != f):
        raise ValueError("accumulate_stats: inconsistent array sizes")
    if D is not None:
        if D.shape[0] != k or D.shape[1] != f:
            raise ValueError("accumulate_stats: inconsistent array sizes")
        d_ptr = &D[0, 0]
    if m > 0:
        with nogil:
            status = st_accumulate_stats_double(&A[0, 0], &B[0, 0], &codes[0, 0],
                                                &rows[0, 0], d_ptr, m, k, f, beta, scale,
                                                &support[0], &work[0], &half_sqerr, &l1)
        check_status(status, "dictionary statistics")
    elif beta != 1:
        np.multiply(A, beta, out=np.asarray(A))
        np.multiply(B, beta, out=np.asarray(B))
    return None if D is None else (half_sqerr, l1)


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


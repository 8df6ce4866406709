"""Cython adapter for the compiled steps of dictionary learning (csrc/dict_update.c,
csrc/ksvd.c).

Validation happens in sparsetools.dictionary; this module trusts its
arguments and releases the GIL around the kernel.
"""
import numpy as np

from cython.parallel cimport parallel, prange, threadid
from scipy.linalg.cython_blas cimport dgemm

include "_status.pxi"

#: Atoms per block of the online update: one GEMM per block.
BLOCK = 16
cdef enum:
    # Rows of A and B per task of the threaded statistics update.
    STATS_BLOCK = 32


cdef extern from "dict_update.h" nogil:
    int st_dict_update_block_double(double *D, const double *A, const double *B,
                                    const double *AD, Py_ssize_t n_atoms,
                                    Py_ssize_t n_features, Py_ssize_t j0,
                                    Py_ssize_t j1, double unused_tol, double *D_old,
                                    double *work, Py_ssize_t *unused,
                                    Py_ssize_t *n_unused)
    Py_ssize_t st_code_support_double(const double *a, const double *x,
                                      const double *D, Py_ssize_t n_atoms,
                                      Py_ssize_t n_features, Py_ssize_t *support,
                                      double *work, double *half_sqerr, double *l1)
    Py_ssize_t st_count_nonzero_double(const double *a, Py_ssize_t n_atoms)
    int st_accumulate_rows_double(double *A, double *B, const double *codes,
                                  const double *rows, Py_ssize_t m, Py_ssize_t n_atoms,
                                  Py_ssize_t n_features, const Py_ssize_t *supports,
                                  const Py_ssize_t *offsets, Py_ssize_t p0,
                                  Py_ssize_t p1, double beta, double scale)


cdef extern from "ksvd.h" nogil:
    Py_ssize_t st_ksvd_workspace_size(Py_ssize_t n_atoms, Py_ssize_t n_features)
    int st_ksvd_update_double(double *D, Py_ssize_t n_atoms, Py_ssize_t n_features,
                              const double *X, Py_ssize_t n_samples,
                              const Py_ssize_t *row_ptr, const Py_ssize_t *atoms,
                              double *coefs, const Py_ssize_t *col_ptr,
                              const Py_ssize_t *col_rows, const Py_ssize_t *col_pos,
                              double *work, Py_ssize_t *unused, Py_ssize_t *n_unused)


cdef int _dict_update(double[:, ::1] D, const double[:, ::1] A,
                      const double[:, ::1] B, double unused_tol, double[:, ::1] AD,
                      double[:, ::1] D_old, double[::1] work, Py_ssize_t[::1] unused,
                      Py_ssize_t *n_unused) noexcept nogil:
    """One block-coordinate pass over the atoms (see dict_update); returns
    the C status.  AD and D_old have BLOCK rows."""
    cdef Py_ssize_t k = D.shape[0], f = D.shape[1], j0 = 0, j1
    cdef Py_ssize_t block = AD.shape[0]
    cdef int status = 0, m, n_f = <int> f, n_k = <int> k
    cdef char trans = b'N'
    cdef double one = 1, zero = 0
    n_unused[0] = 0
    while j0 < k:
        j1 = min(j0 + block, k)
        m = <int> (j1 - j0)
        # row-major AD (m x f) = A[j0:j1] (m x k) @ D (k x f); column-major,
        # AD^T = D^T A[j0:j1]^T
        dgemm(&trans, &trans, &n_f, &m, &n_k, &one, &D[0, 0], &n_f,
              <double *> &A[j0, 0], &n_k, &zero, &AD[0, 0], &n_f)
        status = st_dict_update_block_double(&D[0, 0], &A[0, 0], &B[0, 0], &AD[0, 0],
                                             k, f, j0, j1, unused_tol, &D_old[0, 0],
                                             &work[0], &unused[0], n_unused)
        if status != 0:
            break
        j0 = j1
    return status


def dict_update(double[:, ::1] D, const double[:, ::1] A, const double[:, ::1] B,
                double unused_tol):
    """One block-coordinate pass over the atoms (rows of D, in place).

    Returns the indices of the atoms left alone because A_jj <= unused_tol.
    Blocks of atoms get their products A_j D from one GEMM (BLAS), the rest
    of the update runs in C; the result is the sequential pass's.
    """
    cdef Py_ssize_t k = D.shape[0], f = D.shape[1], n_unused = 0
    cdef double[::1] work = np.empty(f)
    cdef double[:, ::1] AD = np.empty((BLOCK, f))
    cdef double[:, ::1] D_old = np.empty((BLOCK, f))
    cdef Py_ssize_t[::1] unused = np.empty(k, dtype=np.intp)
    cdef int status
    if A.shape[0] != k or A.shape[1] != k or B.shape[0] != k or B.shape[1] != f:
        raise ValueError("dict_update: inconsistent array sizes")
    with nogil:
        status = _dict_update(D, A, B, unused_tol, AD, D_old, work, unused, &n_unused)
    check_status(status, "dictionary update")
    return np.asarray(unused[:n_unused]).copy()


cdef Py_ssize_t _count(const double[:, ::1] codes, Py_ssize_t[::1] offsets,
                       int n_threads) noexcept nogil:
    """offsets[i] = where code i's support starts in a packed array of all
    the supports (offsets[m]: their total), on n_threads threads."""
    cdef Py_ssize_t m = codes.shape[0], k = codes.shape[1], i
    with parallel(num_threads=n_threads):
        for i in prange(m, schedule='static'):
            offsets[i + 1] = st_count_nonzero_double(&codes[i, 0], k)
    offsets[0] = 0
    for i in range(m):
        offsets[i + 1] += offsets[i]
    return offsets[m]


cdef int _accumulate(double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                     const double[:, ::1] rows, const double *d_ptr, double beta,
                     double scale, Py_ssize_t[::1] supports,
                     const Py_ssize_t[::1] offsets, double[:, ::1] work, double[::1] sq,
                     double[::1] l1, int n_threads) noexcept nogil:
    """The threaded statistics update (see accumulate_stats), given the
    supports' offsets (_count): the supports (and with d_ptr the objective's
    terms) code by code, then A and B in ranges of STATS_BLOCK rows; returns
    the C status.  work has a row per thread."""
    cdef Py_ssize_t k = A.shape[0], f = B.shape[1], m = codes.shape[0]
    cdef Py_ssize_t block = STATS_BLOCK, i, b, tid
    cdef Py_ssize_t n_blocks = (k + block - 1) // block
    cdef int status = 0, st
    with parallel(num_threads=n_threads):
        for i in prange(m, schedule='static'):
            tid = threadid()
            st_code_support_double(&codes[i, 0], &rows[i, 0], d_ptr, k, f,
                                   &supports[offsets[i]], &work[tid, 0], &sq[i], &l1[i])
        for b in prange(n_blocks, schedule='dynamic'):
            st = st_accumulate_rows_double(&A[0, 0], &B[0, 0], &codes[0, 0],
                                           &rows[0, 0], m, k, f, &supports[0],
                                           &offsets[0], b * block,
                                           min(b * block + block, k), beta, scale)
            status |= st
    return status


cdef class _Stats:
    """The buffers of the threaded statistics update for batches of m codes,
    the packed supports grown as needed."""
    cdef Py_ssize_t m
    cdef int n_threads
    cdef Py_ssize_t[::1] supports, offsets
    cdef double[:, ::1] work
    cdef double[::1] sq, l1

    def __init__(self, Py_ssize_t m, Py_ssize_t n_features, int n_threads):
        self.m = m
        self.n_threads = max(1, n_threads)
        self.supports = np.empty(max(16 * m, 1), dtype=np.intp)
        self.offsets = np.empty(m + 1, dtype=np.intp)
        self.work = np.empty((self.n_threads, n_features))
        self.sq = np.zeros(max(m, 1))
        self.l1 = np.zeros(max(m, 1))

    cdef int run(self, double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                 const double[:, ::1] rows, const double *d_ptr, double beta,
                 double scale) except -1:
        """Update A and B (and the objective's terms in sq, l1); returns the
        C status."""
        cdef Py_ssize_t total
        cdef int status
        with nogil:
            total = _count(codes, self.offsets, self.n_threads)
        if total > self.supports.shape[0]:
            self.supports = np.empty(max(total, 2 * self.supports.shape[0]), dtype=np.intp)
        with nogil:
            status = _accumulate(A, B, codes, rows, d_ptr, beta, scale, self.supports,
                                 self.offsets, self.work, self.sq, self.l1, self.n_threads)
        return status

    cdef tuple terms(self):
        """The batch's objective terms, summed code by code in order."""
        cdef double half_sqerr = 0, l1_sum = 0
        cdef Py_ssize_t i
        for i in range(self.m):
            half_sqerr += self.sq[i]
            l1_sum += self.l1[i]
        return half_sqerr, l1_sum


def accumulate_stats(double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                     const double[:, ::1] rows, double beta, double scale,
                     const double[:, ::1] D=None, int n_threads=1):
    """A <- beta A + scale codes^T codes, B <- beta B + scale codes^T rows, in
    place, over the non-zeros of each code only, on n_threads threads (the
    result does not depend on their number).

    With D, returns the batch's (sum of 0.5 ||rows_i - codes_i D||^2, sum of
    ||codes_i||_1), summed code by code in order; None otherwise.
    """
    cdef Py_ssize_t k = A.shape[0], f = B.shape[1], m = codes.shape[0]
    cdef const double *d_ptr = NULL
    cdef _Stats stats
    if (A.shape[1] != k or B.shape[0] != k or codes.shape[1] != k
            or rows.shape[0] != m or rows.shape[1] != f):
        raise ValueError("accumulate_stats: inconsistent array sizes")
    if D is not None:
        if D.shape[0] != k or D.shape[1] != f:
            raise ValueError("accumulate_stats: inconsistent array sizes")
        d_ptr = &D[0, 0]
    if m == 0:
        if beta != 1:
            np.multiply(A, beta, out=np.asarray(A))
            np.multiply(B, beta, out=np.asarray(B))
        return None if D is None else (0.0, 0.0)
    stats = _Stats(m, f, n_threads)
    check_status(stats.run(A, B, codes, rows, d_ptr, beta, scale), "dictionary statistics")
    return None if D is None else stats.terms()


cdef class OnlineStep:
    """The update of online dictionary learning after a coded mini-batch of
    m signals, with its buffers allocated once.

    ``step(A, B, codes, rows, D, beta, scale)`` updates the statistics as
    accumulate_stats(..., D) (threaded), then the atoms as dict_update
    (sequential), with the unused threshold 1e-10 max(diag(A), 1e-300) of
    the updated A; returns (half_sqerr, l1, unused) with the objective's
    terms under the atoms before the update.
    """
    cdef Py_ssize_t m, k, f
    cdef _Stats stats
    cdef Py_ssize_t[::1] unused
    cdef double[:, ::1] AD, D_old
    cdef double[::1] dwork

    def __init__(self, Py_ssize_t m, Py_ssize_t n_atoms, Py_ssize_t n_features,
                 int n_threads):
        self.m, self.k, self.f = m, n_atoms, n_features
        self.stats = _Stats(m, n_features, n_threads)
        self.unused = np.empty(n_atoms, dtype=np.intp)
        self.AD = np.empty((BLOCK, n_features))
        self.D_old = np.empty((BLOCK, n_features))
        self.dwork = np.empty(n_features)

    def __call__(self, double[:, ::1] A, double[:, ::1] B, const double[:, ::1] codes,
                 const double[:, ::1] rows, double[:, ::1] D, double beta, double scale):
        cdef Py_ssize_t k = self.k, f = self.f, m = self.m, i, n_unused = 0
        cdef double top = 1e-300
        cdef int status
        if (A.shape[0] != k or A.shape[1] != k or B.shape[0] != k or B.shape[1] != f
                or codes.shape[0] != m or codes.shape[1] != k or rows.shape[0] != m
                or rows.shape[1] != f or D.shape[0] != k or D.shape[1] != f or m == 0):
            raise ValueError("OnlineStep: inconsistent array sizes")
        status = self.stats.run(A, B, codes, rows, &D[0, 0], beta, scale)
        if status == 0:
            with nogil:
                for i in range(k):
                    if A[i, i] > top:
                        top = A[i, i]
                status = _dict_update(D, A, B, 1e-10 * top, self.AD, self.D_old,
                                      self.dwork, self.unused, &n_unused)
        check_status(status, "online dictionary update")
        half_sqerr, l1_sum = self.stats.terms()
        return half_sqerr, l1_sum, np.asarray(self.unused[:n_unused]).copy()


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


"""Cython adapter for the Batch-OMP kernel of csrc/batch_omp.c.

Validation happens in sparsetools.coding._omp; this module trusts its
arguments' shapes and dtypes, releases the GIL, splits the signals into
chunks, runs one GEMM per chunk (``corr = X_chunk D^T`` through
scipy.linalg.cython_blas) and the greedy C kernel per signal, with the
chunks spread over OpenMP threads when the build has OpenMP.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid

include "_status.pxi"
include "_gram.pxi"


cdef extern from "batch_omp.h" nogil:
    int ST_OMP
    int ST_ORMP
    Py_ssize_t st_omp_workspace_size(Py_ssize_t n_atoms, Py_ssize_t max_k)
    int st_omp_double(const double *gram, const double *gdiag,
                      const double *thresh, Py_ssize_t n_atoms, double *corr,
                      double norm2, Py_ssize_t max_k, double tol, int method,
                      double *work, Py_ssize_t *support, double *coef,
                      Py_ssize_t *n_selected)
    int st_omp_float(const float *gram, const float *gdiag,
                     const float *thresh, Py_ssize_t n_atoms, float *corr,
                     float norm2, Py_ssize_t max_k, float tol, int method,
                     float *work, Py_ssize_t *support, float *coef,
                     Py_ssize_t *n_selected)


METHOD_OMP = ST_OMP
METHOD_ORMP = ST_ORMP


def workspace_size(Py_ssize_t n_atoms, Py_ssize_t max_k):
    """Scalars of kernel workspace one thread needs."""
    return st_omp_workspace_size(n_atoms, max_k)


def omp_encode(const floating[:, ::1] X, const floating[:, ::1] D,
               const floating[:, ::1] G, const floating[::1] gdiag,
               floating[::1] thresh,
               floating[:, ::1] codes,
               floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
               Py_ssize_t[:, ::1] support_buf, floating[:, ::1] coef_buf,
               Py_ssize_t max_k, double tol, int method, int n_threads):
    """Sparse codes of the rows of X over the rows of D, written into codes.

    gdiag is the diagonal of G; thresh (n_atoms,) receives the dependence
    thresholds.  codes must be zero on entry.  The buffers are per thread:
    corr_buf (n_threads, chunk * n_atoms), work_buf (n_threads,
    workspace_size), support_buf and coef_buf (n_threads, max_k).
    tol < 0 disables the residual test.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_atoms = D.shape[0]
    cdef Py_ssize_t chunk = corr_buf.shape[1] // n_atoms
    cdef Py_ssize_t n_chunks = (n_samples + chunk - 1) // chunk
    cdef Py_ssize_t c, i, s, m, start, tid, nsel
    cdef int status = 0
    cdef int st
    cdef const floating *x
    cdef floating *corr
    cdef floating norm2
    cdef floating ftol = <floating> tol

    if n_samples == 0:
        return
    if floating is double:
        st_dependence_thresholds_double(&G[0, 0], n_atoms, &thresh[0])
    else:
        st_dependence_thresholds_float(&G[0, 0], n_atoms, &thresh[0])
    with nogil, parallel(num_threads=n_threads):
        for c in prange(n_chunks, schedule='dynamic'):
            tid = threadid()
            start = c * chunk
            m = min(chunk, n_samples - start)
            corr = &corr_buf[tid, 0]
            _gemm_corr(&X[start, 0], &D[0, 0], corr, <int> m,
                       <int> n_atoms, <int> n_features)
            for i in range(m):
                x = &X[start + i, 0]
                if floating is double:
                    norm2 = st_sqnorm_double(x, n_features)
                    st = st_omp_double(&G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                                       corr + i * n_atoms, norm2, max_k,
                                       ftol, method, &work_buf[tid, 0],
                                       &support_buf[tid, 0],
                                       &coef_buf[tid, 0], &nsel)
                else:
                    norm2 = st_sqnorm_float(x, n_features)
                    st = st_omp_float(&G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                                      corr + i * n_atoms, norm2, max_k,
                                      ftol, method, &work_buf[tid, 0],
                                      &support_buf[tid, 0],
                                      &coef_buf[tid, 0], &nsel)
                if st != 0:
                    nsel = 0
                status |= st
                for s in range(nsel):
                    codes[start + i, support_buf[tid, s]] = coef_buf[tid, s]
    check_status(status, "orthogonal_mp")

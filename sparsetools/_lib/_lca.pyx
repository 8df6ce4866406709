"""Cython adapter for the Locally Competitive Algorithm (csrc/lca.c).

Validation happens in sparsetools.coding._lca; this module trusts its
arguments' shapes and dtypes. The signals are split into chunks spread over
OpenMP threads (when the build has OpenMP) with the GIL released; each
chunk gets one GEMM (``corr = X_chunk D^T`` through
scipy.linalg.cython_blas), then the C kernel integrates the LCA dynamics of
each signal on the Gram matrix and writes its codes (and, on request, its
potentials) straight into the output rows.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid

include "_status.pxi"
include "_gram.pxi"


cdef extern from "lca.h" nogil:
    int ST_LCA_EULER
    int ST_LCA_NESTEROV
    int ST_LCA_SOFT
    int ST_LCA_HARD
    Py_ssize_t st_lca_workspace_size(Py_ssize_t n_atoms)
    Py_ssize_t st_lca_index_workspace_size(Py_ssize_t n_atoms)
    int st_lca_double(const double *gram, Py_ssize_t n_atoms, const double *corr,
                      double threshold, int transfer, int positive,
                      int integrator, double eta, Py_ssize_t max_iter, double tol,
                      double *work, Py_ssize_t *iwork, double *u, double *a,
                      Py_ssize_t *n_iter, double *change, int *converged)
    int st_lca_float(const float *gram, Py_ssize_t n_atoms, const float *corr,
                     float threshold, int transfer, int positive, int integrator,
                     float eta, Py_ssize_t max_iter, float tol, float *work,
                     Py_ssize_t *iwork, float *u, float *a, Py_ssize_t *n_iter,
                     float *change, int *converged)


INTEGRATORS = {"euler": ST_LCA_EULER, "nesterov": ST_LCA_NESTEROV}
TRANSFERS = {"soft": ST_LCA_SOFT, "hard": ST_LCA_HARD}


def workspace_size(Py_ssize_t n_atoms):
    """Scalars of LCA workspace one thread needs."""
    return st_lca_workspace_size(n_atoms)


def index_workspace_size(Py_ssize_t n_atoms):
    """Indices of LCA workspace one thread needs."""
    return st_lca_index_workspace_size(n_atoms)


def lca_encode(const floating[:, ::1] X, const floating[:, ::1] D,
               const floating[:, ::1] G, floating[:, ::1] codes,
               floating[:, ::1] potentials, bint keep_potentials,
               floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
               Py_ssize_t[:, ::1] iwork_buf, floating[::1] change_buf,
               double threshold, int transfer,
               bint positive, int integrator, double eta, Py_ssize_t max_iter,
               double tol, int n_threads):
    """LCA codes of the rows of X over the rows of D (G = D D^T), into codes.

    potentials is (n_samples, n_atoms) when keep_potentials, else
    (n_threads, n_atoms) scratch. The buffers are per thread: corr_buf
    (n_threads, chunk * n_atoms), work_buf (n_threads, workspace_size),
    iwork_buf (n_threads, index_workspace_size). change_buf (n_threads,)
    must be zero on entry and receives, per thread, the largest relative
    change left by a signal that reached max_iter. Returns the number of
    signals that reached max_iter.
    """
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_atoms = D.shape[0]
    cdef Py_ssize_t chunk = corr_buf.shape[1] // n_atoms
    cdef Py_ssize_t n_chunks = (n_samples + chunk - 1) // chunk
    cdef Py_ssize_t c, i, m, start, tid, row, n_iter
    cdef int status = 0
    cdef int st
    cdef int converged
    cdef Py_ssize_t n_unconverged = 0
    cdef floating *corr
    cdef floating *u_out
    cdef floating fthr = <floating> threshold
    cdef floating feta = <floating> eta
    cdef floating ftol = <floating> tol
    cdef floating change

    if n_samples == 0:
        return 0
    with nogil, parallel(num_threads=n_threads):
        for c in prange(n_chunks, schedule='dynamic'):
            tid = threadid()
            start = c * chunk
            m = min(chunk, n_samples - start)
            corr = &corr_buf[tid, 0]
            _gemm_corr(&X[start, 0], &D[0, 0], corr, <int> m,
                       <int> n_atoms, <int> n_features)
            for i in range(m):
                row = start + i
                # Assigned here so that Cython makes them thread-private
                # (variables only passed by address would be shared).
                n_iter = 0
                change = 0
                converged = 0
                if keep_potentials:
                    u_out = &potentials[row, 0]
                else:
                    u_out = &potentials[tid, 0]
                if floating is double:
                    st = st_lca_double(
                        &G[0, 0], n_atoms, corr + i * n_atoms, fthr, transfer,
                        positive, integrator, feta, max_iter, ftol,
                        &work_buf[tid, 0], &iwork_buf[tid, 0], u_out,
                        &codes[row, 0], &n_iter, &change, &converged)
                else:
                    st = st_lca_float(
                        &G[0, 0], n_atoms, corr + i * n_atoms, fthr, transfer,
                        positive, integrator, feta, max_iter, ftol,
                        &work_buf[tid, 0], &iwork_buf[tid, 0], u_out,
                        &codes[row, 0], &n_iter, &change, &converged)
                status |= st
                if st == 0 and not converged:
                    n_unconverged += 1
                    if change > change_buf[tid]:
                        change_buf[tid] = change
    check_status(status, "LCA")
    return n_unconverged

"""Cython adapter for the coders that work on a precomputed Gram matrix:
Batch-OMP / ORMP (csrc/batch_omp.c), LARS-homotopy (csrc/lars.c) and
coordinate descent for the lasso (csrc/lasso_cd.c).

Validation happens in sparsetools.coding; this module trusts its
arguments' shapes and dtypes.  One loop serves every kernel: the signals
are split into chunks, spread over OpenMP threads (when the build has
OpenMP) with the GIL released; each chunk gets one GEMM
(``corr = X_chunk D^T`` through scipy.linalg.cython_blas), then the C
kernel runs per signal and its sparse result is scattered into the dense
codes.
"""
from cython cimport floating
from cython.parallel cimport parallel, prange, threadid
from libc.string cimport memset

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


cdef extern from "lars.h" nogil:
    Py_ssize_t st_lars_workspace_size(Py_ssize_t n_atoms, Py_ssize_t max_active)
    int st_lars_double(const double *gram, const double *gdiag,
                       const double *thresh, Py_ssize_t n_atoms, double *corr,
                       double lam, int positive, Py_ssize_t max_active,
                       Py_ssize_t max_steps, double *work, Py_ssize_t *support,
                       double *coef, Py_ssize_t *n_selected, int *converged)
    int st_lars_float(const float *gram, const float *gdiag,
                      const float *thresh, Py_ssize_t n_atoms, float *corr,
                      float lam, int positive, Py_ssize_t max_active,
                      Py_ssize_t max_steps, float *work, Py_ssize_t *support,
                      float *coef, Py_ssize_t *n_selected, int *converged)


cdef extern from "lasso_cd.h" nogil:
    Py_ssize_t st_lasso_cd_workspace_size(Py_ssize_t n_atoms)
    int st_lasso_cd_double(const double *gram, const double *gdiag,
                           const double *corr, double norm2, Py_ssize_t n_atoms,
                           double lam, int positive, double tol,
                           Py_ssize_t max_iter, double *work, Py_ssize_t *support,
                           double *coef, Py_ssize_t *n_selected, int *converged,
                           double *gap)
    int st_lasso_cd_float(const float *gram, const float *gdiag,
                          const float *corr, float norm2, Py_ssize_t n_atoms,
                          float lam, int positive, float tol,
                          Py_ssize_t max_iter, float *work, Py_ssize_t *support,
                          float *coef, Py_ssize_t *n_selected, int *converged,
                          float *gap)


METHOD_OMP = ST_OMP
METHOD_ORMP = ST_ORMP

cdef enum Kernel:
    KERNEL_OMP
    KERNEL_LARS
    KERNEL_CD


#: Rows of D per tile of gram_into: the tiles, and so every entry's
#: arithmetic, are the same whatever the number of threads.
GRAM_TILE = 128


cdef inline void _gram_tile(const floating *d, floating *g, Py_ssize_t n,
                            int f, Py_ssize_t i0, Py_ssize_t i1, Py_ssize_t j0,
                            Py_ssize_t j1) noexcept nogil:
    """G[i0:i1, j0:j1] = D[i0:i1] D[j0:j1]^T for row-major D (n x f) and G
    (n x n), i0 <= j0; a diagonal tile (i0 == j0) gets its upper triangle
    only (syrk)."""
    cdef char tr = b'T'
    cdef char nt = b'N'
    cdef char lo = b'L'
    cdef floating one = 1
    cdef floating zero = 0
    cdef int ld = <int> n
    cdef int mi = <int> (i1 - i0)
    cdef int mj = <int> (j1 - j0)
    # Column-major, G is the matrix M with M(j, i) = G[i, j], and D is D^T
    # (f x n): the tile is M[j0:j1, i0:i1] = (D^T[:, j0:j1])^T D^T[:, i0:i1],
    # and the upper triangle of a diagonal tile is M's lower one.
    if i0 == j0:
        if floating is double:
            dsyrk(&lo, &tr, &mi, &f, &one, <double *> d + i0 * f, &f, &zero,
                  g + i0 * n + i0, &ld)
        else:
            ssyrk(&lo, &tr, &mi, &f, &one, <float *> d + i0 * f, &f, &zero,
                  g + i0 * n + i0, &ld)
    else:
        if floating is double:
            dgemm(&tr, &nt, &mj, &mi, &f, &one, <double *> d + j0 * f, &f,
                  <double *> d + i0 * f, &f, &zero, g + i0 * n + j0, &ld)
        else:
            sgemm(&tr, &nt, &mj, &mi, &f, &one, <float *> d + j0 * f, &f,
                  <float *> d + i0 * f, &f, &zero, g + i0 * n + j0, &ld)


def gram_into(const floating[:, ::1] D, floating[:, ::1] G, floating[::1] gdiag,
              int n_threads):
    """G = D D^T (row-major, n_atoms x n_atoms) and its diagonal, in place.

    The upper triangle comes in tiles of GRAM_TILE atoms (syrk on the
    diagonal, GEMM above it) spread over the threads, then is copied onto
    the lower one, so G is exactly symmetric and the same for any number of
    threads.  BLAS must be held to one thread by the caller.
    """
    cdef Py_ssize_t n = D.shape[0], nb, ns, t, bi, bj, b, i, j, i0, i1, r, sj
    cdef int f = <int> D.shape[1]
    cdef Py_ssize_t tile = GRAM_TILE
    cdef Py_ssize_t mtile = 32  # sub-tiles of the mirroring
    if G.shape[0] != n or G.shape[1] != n or gdiag.shape[0] != n:
        raise ValueError("gram_into: inconsistent array sizes")
    if n == 0:
        return
    if f == 0:
        G[:, :] = 0
        gdiag[:] = 0
        return
    nb = (n + tile - 1) // tile
    ns = (n + mtile - 1) // mtile
    with nogil, parallel(num_threads=max(1, min(n_threads, nb))):
        # tile t of the upper triangle, row by row of tiles: (bi, bj), bi <= bj
        for t in prange(nb * (nb + 1) // 2, schedule='dynamic'):
            bi = 0
            r = t
            while r >= nb - bi:
                r = r - (nb - bi)
                bi = bi + 1
            bj = bi + r
            _gram_tile(&D[0, 0], &G[0, 0], n, f, bi * tile,
                       min(bi * tile + tile, n), bj * tile,
                       min(bj * tile + tile, n))
        # the lower triangle, G[i, j] = G[j, i] for j < i, in strips of
        # mtile rows (the longest first, for the balance of the threads) and
        # square sub-tiles, so that the strided reads stay in cache
        for b in prange(ns, schedule='dynamic'):
            i0 = (ns - 1 - b) * mtile
            i1 = min(i0 + mtile, n)
            sj = 0
            while sj <= i0:
                for i in range(i0, i1):
                    for j in range(sj, min(sj + mtile, i)):
                        G[i, j] = G[j, i]
                sj = sj + mtile
            for i in range(i0, i1):
                gdiag[i] = G[i, i]


def omp_workspace_size(Py_ssize_t n_atoms, Py_ssize_t max_k):
    """Scalars of Batch-OMP workspace one thread needs."""
    return st_omp_workspace_size(n_atoms, max_k)


def lars_workspace_size(Py_ssize_t n_atoms, Py_ssize_t max_active):
    """Scalars of LARS workspace one thread needs."""
    return st_lars_workspace_size(n_atoms, max_active)


def lasso_cd_workspace_size(Py_ssize_t n_atoms):
    """Scalars of coordinate-descent workspace one thread needs."""
    return st_lasso_cd_workspace_size(n_atoms)


def omp_encode(const floating[:, ::1] X, const floating[:, ::1] D,
               const floating[:, ::1] G, const floating[::1] gdiag,
               floating[::1] thresh, floating[:, ::1] codes,
               floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
               Py_ssize_t[:, ::1] support_buf, floating[:, ::1] coef_buf,
               Py_ssize_t max_k, double tol, int method, int n_threads):
    """Batch-OMP codes of the rows of X over the rows of D, into codes.

    gdiag is the diagonal of G; thresh (n_atoms,) receives the dependence
    thresholds.  codes must be zero on entry.  The buffers are per thread:
    corr_buf (n_threads, chunk * n_atoms), work_buf (n_threads,
    omp_workspace_size), support_buf and coef_buf (n_threads, max_k).
    tol < 0 disables the residual test.
    """
    # (thresh stands in for the gap buffer, which only coordinate descent uses)
    _run(X, D, G, gdiag, thresh, codes, corr_buf, work_buf, support_buf,
         coef_buf, thresh, KERNEL_OMP, max_k, tol, method, 0.0, 0, 0, n_threads)


def lars_encode(const floating[:, ::1] X, const floating[:, ::1] D,
                const floating[:, ::1] G, const floating[::1] gdiag,
                floating[::1] thresh, floating[:, ::1] codes,
                floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
                Py_ssize_t[:, ::1] support_buf, floating[:, ::1] coef_buf,
                double lam, bint positive, Py_ssize_t max_steps,
                int n_threads, bint zero_codes=False):
    """LARS-homotopy lasso codes of the rows of X over the rows of D.

    As omp_encode, with work_buf rows of lars_workspace_size and
    support_buf / coef_buf of width max_active; with zero_codes, codes may
    hold anything on entry (each chunk zeroes its rows first).  Returns the
    number of signals whose path was cut at max_steps.
    """
    return _run(X, D, G, gdiag, thresh, codes, corr_buf, work_buf,
                support_buf, coef_buf, thresh, KERNEL_LARS, support_buf.shape[1],
                -1.0, 0, lam, positive, max_steps, n_threads, zero_codes)


def lasso_cd_encode(const floating[:, ::1] X, const floating[:, ::1] D,
                    const floating[:, ::1] G, const floating[::1] gdiag,
                    floating[::1] thresh, floating[:, ::1] codes,
                    floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
                    Py_ssize_t[:, ::1] support_buf, floating[:, ::1] coef_buf,
                    floating[::1] gap_buf, double lam, bint positive,
                    double tol, Py_ssize_t max_iter, int n_threads):
    """Coordinate-descent lasso codes of the rows of X over the rows of D.

    As omp_encode, with work_buf rows of lasso_cd_workspace_size and
    support_buf / coef_buf n_atoms wide.  gap_buf (n_threads,) must be zero
    on entry and receives, per thread, the largest relative duality gap left
    by a signal that reached max_iter.  Returns the number of such signals.
    """
    return _run(X, D, G, gdiag, thresh, codes, corr_buf, work_buf,
                support_buf, coef_buf, gap_buf, KERNEL_CD, support_buf.shape[1],
                tol, 0, lam, positive, max_iter, n_threads)


cdef Py_ssize_t _run(const floating[:, ::1] X, const floating[:, ::1] D,
                     const floating[:, ::1] G, const floating[::1] gdiag,
                     floating[::1] thresh, floating[:, ::1] codes,
                     floating[:, ::1] corr_buf, floating[:, ::1] work_buf,
                     Py_ssize_t[:, ::1] support_buf,
                     floating[:, ::1] coef_buf, floating[::1] gap_buf,
                     Kernel kernel,
                     Py_ssize_t max_k, double tol, int method, double lam,
                     int positive, Py_ssize_t max_steps,
                     int n_threads, bint zero_codes=False) except -1:
    """The chunk loop shared by every kernel; returns the unconverged count.
    With zero_codes, each chunk zeroes its rows of codes first."""
    cdef Py_ssize_t n_samples = X.shape[0]
    cdef Py_ssize_t n_features = X.shape[1]
    cdef Py_ssize_t n_atoms = D.shape[0]
    cdef Py_ssize_t chunk = corr_buf.shape[1] // n_atoms
    cdef Py_ssize_t n_chunks = (n_samples + chunk - 1) // chunk
    cdef Py_ssize_t c, i, s, m, start, tid, nsel
    cdef int status = 0
    cdef int st
    cdef int converged
    cdef Py_ssize_t n_unconverged = 0
    cdef const floating *x
    cdef floating *corr
    cdef floating norm2
    cdef floating ftol = <floating> tol
    cdef floating flam = <floating> lam
    cdef floating gap

    if n_samples == 0:
        return 0
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
            if zero_codes:
                memset(&codes[start, 0], 0, m * n_atoms * sizeof(floating))
            _gemm_corr(&X[start, 0], &D[0, 0], corr, <int> m,
                       <int> n_atoms, <int> n_features)
            for i in range(m):
                x = &X[start + i, 0]
                converged = 1
                # assigned here so that Cython makes it private to each thread
                # (the kernels only write it through a pointer)
                gap = 0
                if kernel == KERNEL_OMP:
                    if floating is double:
                        norm2 = st_sqnorm_double(x, n_features)
                        st = st_omp_double(
                            &G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                            corr + i * n_atoms, norm2, max_k, ftol, method,
                            &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel)
                    else:
                        norm2 = st_sqnorm_float(x, n_features)
                        st = st_omp_float(
                            &G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                            corr + i * n_atoms, norm2, max_k, ftol, method,
                            &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel)
                elif kernel == KERNEL_CD:
                    if floating is double:
                        norm2 = st_sqnorm_double(x, n_features)
                        st = st_lasso_cd_double(
                            &G[0, 0], &gdiag[0], corr + i * n_atoms, norm2,
                            n_atoms, flam, positive, ftol, max_steps,
                            &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel, &converged, &gap)
                    else:
                        norm2 = st_sqnorm_float(x, n_features)
                        st = st_lasso_cd_float(
                            &G[0, 0], &gdiag[0], corr + i * n_atoms, norm2,
                            n_atoms, flam, positive, ftol, max_steps,
                            &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel, &converged, &gap)
                    if not converged and gap > gap_buf[tid]:
                        gap_buf[tid] = gap
                else:
                    if floating is double:
                        st = st_lars_double(
                            &G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                            corr + i * n_atoms, flam, positive, max_k,
                            max_steps, &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel, &converged)
                    else:
                        st = st_lars_float(
                            &G[0, 0], &gdiag[0], &thresh[0], n_atoms,
                            corr + i * n_atoms, flam, positive, max_k,
                            max_steps, &work_buf[tid, 0], &support_buf[tid, 0],
                            &coef_buf[tid, 0], &nsel, &converged)
                if st != 0:
                    nsel = 0
                status |= st
                if not converged:
                    n_unconverged += 1
                for s in range(nsel):
                    codes[start + i, support_buf[tid, s]] = coef_buf[tid, s]
    check_status(status, "sparse coding")
    return n_unconverged

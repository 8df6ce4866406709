"""The driver shared by the coders that run on a precomputed Gram matrix.

Batch-OMP and LARS both need the same preparation around their compiled
kernel: exact power-of-two scaling of data that could overflow or
underflow, the Gram matrix, per-thread chunk buffers, BLAS held to one
thread, and the codes scaled back. That lives here once.
"""
import numpy as np

from sparsetools._lib import _gram_coders as _lib
from sparsetools.utils._threads import blas_single_thread
from sparsetools.utils._validation import all_finite

__all__ = ["gram_encode", "gram_matrix", "normalise_inputs", "restore_codes", "CHUNK_SIZE"]

#: Signals per chunk: one GEMM per chunk, correlations of a chunk stay in cache.
CHUNK_SIZE = 256
_BLAS_INT_MAX = 2**31 - 1


def gram_encode(X, D, *, width, workspace_size, n_threads, run):
    """Codes of the rows of `X` over `D` by a compiled Gram-matrix kernel.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, finite, C-contiguous signals; the codes are computed in
        its dtype.
    D : ndarray of shape (n_components, n_features)
        Validated, finite dictionary of any float dtype; it is scaled before
        being cast to the dtype of `X`, so the cast cannot underflow or
        overflow.
    width : int
        Most non-zeros per code the kernel can return (buffer width).
    workspace_size : int
        Scalars of kernel workspace per thread.
    n_threads : int
        Threads over chunks of signals.
    run : callable
        ``run(ex, ed, X, D, G, gdiag, thresh, codes, corr, work, support,
        coef, n_threads)`` calls the adapter; `X` and `D` arrive scaled by
        ``2**-ex`` and ``2**-ed`` (both 0 unless the data needed it), so it
        converts its own parameters. Its return value is passed back.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
        Dense codes in the dtype of `X`, in the units of the unscaled data.
    result : object
        What `run` returned.
    """
    dtype = X.dtype
    n_samples = X.shape[0]
    n_components = D.shape[0]
    ex, ed, X, D = normalise_inputs(X, D)
    # Chunks of CHUNK_SIZE signals, smaller when there are too few signals to
    # give every thread one (a mini-batch of online learning, for instance).
    n_threads = max(1, n_threads)
    chunk = max(1, min(CHUNK_SIZE, -(-n_samples // n_threads)))
    n_chunks = -(-n_samples // chunk)
    n_threads = min(n_threads, n_chunks)

    codes = np.zeros((n_samples, n_components), dtype=dtype)
    corr = np.empty((n_threads, chunk * n_components), dtype=dtype)
    work = np.empty((n_threads, workspace_size), dtype=dtype)
    support = np.empty((n_threads, width), dtype=np.intp)
    coef = np.empty((n_threads, width), dtype=dtype)
    # The Gram matrix too is computed on one BLAS thread: a multi-threaded
    # BLAS call here would leave its workers spinning beside the kernel's
    # threads.
    with blas_single_thread():
        G, gdiag = gram_matrix(D, n_threads)
        result = run(ex, ed, X, D, G, gdiag, np.empty(n_components, dtype=dtype), codes,
                     corr, work, support, coef, n_threads)
    return restore_codes(codes, X, D, ex, ed), result


def gram_matrix(D, n_threads=1, out=None):
    """``D @ D.T`` and its diagonal, C-contiguous, exactly symmetric.

    `D` is C-contiguous float32 or float64. The upper triangle is computed
    in fixed tiles (BLAS syrk and GEMM) spread over `n_threads` threads and
    copied onto the lower one, so the result does not depend on the number
    of threads. BLAS must be held to one thread by the caller. `out`, a
    C-contiguous square array of D's dtype, receives the matrix.
    """
    n = D.shape[0]
    G = np.empty((n, n), dtype=D.dtype) if out is None else out
    gdiag = np.empty(n, dtype=D.dtype)
    _lib.gram_into(D, G, gdiag, n_threads)
    return G, gdiag


def normalise_inputs(X, D):
    """Scale X and D by powers of two when their squares are unsafe.

    Parameters
    ----------
    X : ndarray of shape (n_samples, n_features)
        Validated, finite signals; its dtype is the working dtype.
    D : ndarray of shape (n_components, n_features)
        Validated, finite dictionary of any float dtype; it is scaled before
        being cast to the working dtype, so the cast cannot underflow or
        overflow.

    Returns
    -------
    ex, ed : int
        The exponents: the returned arrays are ``X * 2**-ex``, ``D * 2**-ed``.
    X, D : ndarray
        C-contiguous, in the working dtype.
    """
    dtype = X.dtype
    if max(D.shape) > _BLAS_INT_MAX:
        raise ValueError(
            f"dictionary has shape {D.shape}; each dimension must be at most "
            f"{_BLAS_INT_MAX} (32-bit BLAS indices).")
    ex, X = _pow2_normalise(X, dtype)
    # The dictionary always gets max|D| in [0.5, 1): with only the largest
    # entry in the safe range, an atom far smaller than the largest one could
    # have a subnormal squared norm in the Gram matrix and lose its precision
    # (float32 OMP then returned codes that increased the residual). Powers
    # of two are exact, so the codes are unchanged otherwise.
    ed, D = _pow2_normalise(D, dtype, always=True)
    return ex, ed, X, D


def restore_codes(codes, X, D, ex, ed):
    """Codes of the normalised problem in the units of the original one.

    Scales `codes` (in place) by ``2**(ex - ed)``; raises ValueError when
    they overflow the dtype, or when codes that matter would lose half their
    precision to underflow. `X` and `D` are the normalised inputs.
    """
    if ex != ed:
        if ex < ed:  # scaled down: only underflow can happen
            _check_underflow(codes, X, D, ex - ed)
        with np.errstate(over="ignore", under="ignore"):
            codes = np.ldexp(codes, ex - ed, out=codes)
        if ex > ed and not all_finite(codes):  # scaled up: only overflow
            raise ValueError(
                "The codes overflow "
                f"{codes.dtype}: X is too large relative to the dictionary atoms.")
    return codes


def _check_underflow(codes, X, D, shift):
    """Raise if scaling `codes` by 2**shift would lose codes that matter.

    `codes`, `X` and `D` are in the normalised units. A code that would fall
    deep into the dtype's subnormal range (below tiny * sqrt(eps), where it
    keeps less than half its precision, or to zero) matters when its atom's
    share of the signal, |a_j| ||d_j||, is above the dtype's precision
    relative to ||x||: the dtype cannot hold that result.
    """
    info = np.finfo(codes.dtype)
    with np.errstate(over="ignore"):
        limit = np.ldexp(info.tiny * np.sqrt(info.eps), -shift)
    rows, cols = np.nonzero((codes != 0) & (np.abs(codes) < limit))
    if rows.size == 0:
        return
    share = np.abs(codes[rows, cols]) * np.linalg.norm(D[cols], axis=1)
    if np.any(share > info.eps * np.linalg.norm(X[rows], axis=1)):
        raise ValueError(
            f"The codes underflow {codes.dtype}: some would keep less than half "
            "their precision although their atoms carry a visible part of the "
            "signal. X is too small relative to the dictionary atoms for this "
            "dtype; use float64.")


def _pow2_normalise(A, dtype, always=False):
    """(e, A * 2**-e cast to dtype), scaled so max|A * 2**-e| is in [0.5, 1)
    when max|A| is outside the range where squares are safe in `dtype`, or
    whenever it is outside [0.5, 1) with `always`.

    Multiplying by a power of two is exact, so codes are unchanged whenever
    no scaling is needed and equal up to the same power of two otherwise.
    """
    info = np.finfo(dtype)
    m = float(max(-A.min(), A.max()))
    safe_hi = 2.0 ** (info.maxexp // 4)
    safe_lo = 2.0 ** (info.minexp // 4)
    if m == 0.0 or (0.5 <= m < 1.0 if always else safe_lo <= m <= safe_hi):
        return 0, np.ascontiguousarray(A, dtype=dtype)
    e = int(np.frexp(m)[1])
    return e, np.ascontiguousarray(np.ldexp(A, -e), dtype=dtype)

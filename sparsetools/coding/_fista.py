"""FISTA for the lasso, batched as matrix products over chunks of signals."""
import numpy as np
import scipy.sparse.linalg

from sparsetools.coding._gram import normalise_inputs, restore_codes
from sparsetools.utils._threads import blas_threads

__all__ = ["encode_fista"]

#: Signals per chunk: the iterates of a chunk are (chunk, n_components) arrays.
CHUNK_SIZE = 4096
#: Iterations between two duality-gap checks (a check costs one iteration).
CHECK_EVERY = 10


def encode_fista(X, D, lam, positive, max_iter, tol, n_threads, scale_alpha):
    """Lasso codes of validated, finite X over D by FISTA with adaptive restart.

    Solves, per row, min_a 0.5 a^T G a - c^T a + lam ||a||_1 (a >= 0 when
    `positive`) with G = D D^T, c = D x, by accelerated proximal gradient
    steps of size 1 / ||G||_2 (Beck & Teboulle 2009), restarting the
    momentum of a row when it stops pointing downhill (O'Donoghue & Candes
    2015). Every CHECK_EVERY iterations the duality gap of each row is
    computed (as in the coordinate-descent kernel) and rows whose gap is at
    most `tol` times their objective leave the batch.

    Parameters
    ----------
    X, D : ndarray
        Validated, finite; the codes are computed in the dtype of `X`.
    lam : float
        alpha, in the units of X and D.
    positive : bool
        Non-negative codes.
    max_iter : int
        Most iterations per row.
    tol : float
        Relative duality gap to reach.
    n_threads : int
        BLAS threads.
    scale_alpha : callable
        ``scale_alpha(alpha, ex, ed, dtype)`` gives alpha in the units of the
        normalised problem.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
    n_unconverged : int
        Rows that reached max_iter.
    worst_gap : float
        Largest relative duality gap among them (0 when none).
    """
    dtype = X.dtype
    n_samples, n_components = X.shape[0], D.shape[0]
    ex, ed, X, D = normalise_inputs(X, D)
    lam = scale_alpha(lam, ex, ed, dtype)
    codes = np.zeros((n_samples, n_components), dtype=dtype)
    n_unconverged, worst_gap = 0, 0.0
    with blas_threads(n_threads), np.errstate(over="ignore", under="ignore",
                                              invalid="ignore"):
        G = D @ D.T
        lipschitz = _largest_eigenvalue(G)
        if lipschitz > 0:
            for start in range(0, n_samples, CHUNK_SIZE):
                rows = slice(start, min(start + CHUNK_SIZE, n_samples))
                A, cut, gap = _fista_chunk(X[rows] @ D.T, G, lipschitz, lam, positive,
                                           max_iter, tol,
                                           np.einsum("ij,ij->i", X[rows], X[rows]))
                codes[rows] = A
                n_unconverged += cut
                worst_gap = max(worst_gap, gap)
    return restore_codes(codes, X, D, ex, ed), n_unconverged, worst_gap


def _largest_eigenvalue(G):
    """||G||_2 for the symmetric positive semi-definite G, from above."""
    n = G.shape[0]
    if n <= 64:
        top = float(np.linalg.eigvalsh(G.astype(np.float64))[-1])
    else:
        top = float(scipy.sparse.linalg.eigsh(G.astype(np.float64), k=1, which="LA",
                                              tol=1e-8, return_eigenvectors=False)[0])
    # a step of 1 / L needs L >= ||G||: cover the solvers' relative error
    return top * (1 + 1e-6) if top > 0 else 0.0


def _fista_chunk(C, G, L, lam, positive, max_iter, tol, norm2):
    """FISTA on one chunk; returns (codes, n_unconverged, worst relative gap)."""
    dtype = C.dtype
    m, n = C.shape
    eps = np.finfo(dtype).eps
    out = np.zeros((m, n), dtype=dtype)
    live = np.arange(m)                  # rows still iterating
    A = np.zeros((m, n), dtype=dtype)    # current iterate
    Y = np.zeros((m, n), dtype=dtype)    # extrapolated point
    t = np.ones(m, dtype=dtype)
    step, shrink = dtype.type(1.0 / L), dtype.type(lam / L)
    gmax = float(np.max(np.diagonal(G)))
    gap = np.zeros(m)
    for it in range(1, max_iter + 1):
        Z = Y - (Y @ G - C) * step
        if positive:
            A_new = np.maximum(Z - shrink, 0)
        else:
            A_new = np.sign(Z) * np.maximum(np.abs(Z) - shrink, 0)
        # adaptive restart: momentum that no longer points downhill
        restart = np.einsum("ij,ij->i", Y - A_new, A_new - A) > 0
        t_new = (1 + np.sqrt(1 + 4 * t * t)) / 2
        beta = np.where(restart, 0, (t - 1) / t_new).astype(dtype)
        t = np.where(restart, 1, t_new).astype(dtype)
        Y = A_new + beta[:, None] * (A_new - A)
        A = A_new
        if it % CHECK_EVERY and it != max_iter:
            continue
        gap, done = _duality_gap(A, C, G, lam, positive, norm2, gmax, tol, eps)
        if done.any():
            out[live[done]] = A[done]
            keep = ~done
            live, A, Y, t, C, norm2, gap = (live[keep], A[keep], Y[keep], t[keep],
                                            C[keep], norm2[keep], gap[keep])
        if live.size == 0:
            break
    out[live] = A
    return out, int(live.size), float(gap.max()) if live.size else 0.0


def _duality_gap(A, C, G, lam, positive, norm2, gmax, tol, eps):
    """Relative duality gap of each row and whether it is at most tol.

    The same certificate as the coordinate-descent kernel (csrc/lasso_cd.h):
    dual point s r, s = min(1, lam / max |D r|) with the residual feasible
    up to the rounding of its correlations; converged when the gap is at
    most tol times the objective plus the rounding error of ||x||^2 / 2.
    """
    Q = A @ G
    ca = np.einsum("ij,ij->i", C, A).astype(np.float64)
    aq = np.einsum("ij,ij->i", A, Q).astype(np.float64)
    l1 = np.abs(A).sum(axis=1, dtype=np.float64)
    R = C - Q
    dmax = (R.max(axis=1) if positive else np.abs(R).max(axis=1)).astype(np.float64)
    norm2 = norm2.astype(np.float64)
    r2 = np.maximum(norm2 - 2 * ca + aq, 0)
    primal = 0.5 * r2 + lam * l1
    slack = 100 * eps * np.sqrt(gmax * norm2)
    s = np.where(dmax > lam + slack, lam / np.where(dmax > 0, dmax, 1), 1.0)
    gap = np.maximum(primal - s * (norm2 - ca) + 0.5 * s * s * r2, 0)
    floor = 10 * eps * 0.5 * norm2
    return gap / np.maximum(primal, floor), gap <= tol * primal + floor

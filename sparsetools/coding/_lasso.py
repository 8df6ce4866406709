"""l1 sparse coding (the lasso) on the compiled LARS-homotopy kernel."""
import math
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sparsetools._lib import _gram_coders as _lib
from sparsetools.coding._fista import encode_fista
from sparsetools.coding._gram import (
    CHUNK_SIZE,
    gram_encode,
    gram_matrix,
    normalise_inputs,
    restore_codes,
)
from sparsetools.utils._threads import effective_n_threads
from sparsetools.utils._validation import (
    check_coding_inputs,
    check_float,
    check_int,
    check_option,
)

__all__ = ["lasso"]

_METHODS = ("lars", "cd", "fista")
#: Defaults of the iterative solvers: relative duality gap, rounds/iterations.
_TOL = 1e-7
_MAX_ITER = {"cd": 1000, "fista": 10000}


def lasso(X, dictionary, *, alpha, method="lars", positive=False, max_iter=None,
          tol=None, n_jobs=None):
    """l1-penalised sparse codes of the rows of `X` (the lasso).

    For each row ``x`` of `X` the code ``a`` minimises::

        0.5 * ||x - a @ dictionary||_2^2 + alpha * ||a||_1

    (with ``a >= 0`` when `positive`). This is SPAMS's ``lasso`` with
    ``lambda1=alpha, mode=2``. scikit-learn's ``Lasso`` scales the data term
    by the number of samples of its regression, here ``n_features``: its
    ``alpha`` is ``alpha / n_features``; scikit-learn's ``sparse_encode`` with
    ``algorithm="lasso_lars"`` or ``"lasso_cd"`` takes the same ``alpha`` as
    this function.

    ``method="lars"`` follows the LARS-homotopy path (the lasso modification
    of least-angle regression, the method of SPAMS's ``lasso``) from the
    largest useful ``alpha`` down to `alpha`, in C on the Gram matrix with a
    Cholesky factor updated per step; the result is exact to rounding.
    ``method="cd"`` runs cyclic coordinate descent on the Gram matrix in C,
    sweeping all atoms, then only the non-zero ones until they settle, and
    stops when the duality gap is at most `tol` times the objective. For
    both, the correlations of a chunk of signals with all atoms come from
    one matrix product, and the signals are spread over `n_jobs` threads with
    the GIL released. ``method="fista"`` runs accelerated proximal gradient
    steps (with adaptive restart) on chunks of signals at once, as matrix
    products on `n_jobs` BLAS threads, with the same duality-gap stop; it
    suits dictionaries with many atoms.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals, one per row. float32 and float64 are kept; other dtypes are
        converted to float64. Read-only and non-contiguous arrays are accepted.
    dictionary : array-like of shape (n_components, n_features)
        Atoms, one per row (normally of unit norm).
    alpha : float
        Weight of the l1 penalty, >= 0. Codes are zero when `alpha` is at
        least ``max_i |dictionary[i] @ x|`` (``max_i dictionary[i] @ x`` with
        `positive`).
    method : {"lars", "cd", "fista"}, default="lars"
        Solver: the exact LARS-homotopy path, or coordinate descent or FISTA
        to a duality gap.
    positive : bool, default=False
        Constrain the codes to be non-negative.
    max_iter : int, default=None
        ``"lars"``: most steps of the path per signal (an atom joining or
        leaving the active set); None: ``8 * min(n_components, n_features) +
        16``, far more than real data need. A signal that reaches it gets the
        codes of its last active set. ``"cd"``: most rounds (a sweep over all
        atoms, then sweeps over the active ones) per signal; None: 1000.
        ``"fista"``: most iterations; None: 10000. In every case a
        ``ConvergenceWarning`` says how many signals reached it (for ``"cd"``
        and ``"fista"``, with the largest duality gap left).
    tol : float, default=None
        ``"cd"``, ``"fista"``: stop when the duality gap is at most `tol`
        times the objective, so the objective is within a factor ``1 + tol``
        of the optimum; None: 1e-7. Values below 10 times the dtype's
        machine epsilon are raised to it (1.2e-6 in float32). The LARS path
        is exact and does not use it.
    n_jobs : int, default=None
        Threads over signals. None means 1, -1 all cores.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
        Dense codes, float32 if `X` and `dictionary` are both float32,
        float64 otherwise.

    See Also
    --------
    orthogonal_mp : Greedy coding with a fixed number of atoms.

    References
    ----------
    .. [1] M. R. Osborne, B. Presnell and B. A. Turlach, "A new approach to
       variable selection in least squares problems", IMA J. Numer. Anal.
       20(3), 2000.
    .. [2] B. Efron, T. Hastie, I. Johnstone and R. Tibshirani, "Least angle
       regression", Annals of Statistics 32(2), 2004.
    .. [3] J. Mairal, F. Bach, J. Ponce and G. Sapiro, "Online learning for
       matrix factorization and sparse coding", JMLR 11, 2010 (SPAMS).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools import lasso
    >>> rng = np.random.default_rng(0)
    >>> D = rng.standard_normal((40, 20))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> X = 3.0 * D[[2, 5]].sum(axis=0, keepdims=True)
    >>> codes = lasso(X, D, alpha=0.5)
    >>> np.flatnonzero(codes[0]).tolist()
    [2, 5]
    >>> a = codes[0]
    >>> c = D @ (X[0] - a @ D)   # optimality: c = alpha * sign(a) on the support
    >>> bool(np.allclose(c[[2, 5]], 0.5 * np.sign(a[[2, 5]])))
    True
    >>> bool(np.abs(c).max() <= 0.5 + 1e-12)
    True
    """
    X, D = check_coding_inputs(X, dictionary)
    n_components, n_features = D.shape
    alpha, method, positive, max_iter, tol, n_threads = check_lasso_params(
        n_components, n_features, alpha, method, positive, max_iter, tol, n_jobs)
    if method == "cd":
        return encode_cd(X, D, alpha, positive, max_iter, tol, n_threads)
    if method == "fista":
        return encode_fista_checked(X, D, alpha, positive, max_iter, tol, n_threads)
    return encode_lars(X, D, alpha, positive, max_iter, n_threads)


def check_lasso_params(n_components, n_features, alpha, method, positive, max_iter,
                       tol, n_jobs):
    """Validate the lasso hyper-parameters for a dictionary of the given shape.

    Returns ``(alpha, method, positive, max_iter, tol, n_threads)`` with the
    defaults of `method` resolved.
    """
    alpha = check_float(alpha, "alpha", min_val=0.0)
    method = check_option(method, "method", _METHODS)
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"positive must be a bool; got {positive!r} of type "
                        f"{type(positive).__name__}.")
    max_iter = check_int(max_iter, "max_iter", min_val=1, allow_none=True)
    tol = check_float(tol, "tol", min_val=0.0, allow_none=True)
    if method == "lars":
        if max_iter is None:
            max_iter = 8 * min(n_components, n_features) + 16
    else:
        max_iter = _MAX_ITER[method] if max_iter is None else max_iter
        tol = _TOL if tol is None else tol
    return alpha, method, bool(positive), max_iter, tol, effective_n_threads(n_jobs)


def encode_lars(X, D, alpha, positive, max_iter, n_threads):
    """LARS-homotopy codes of validated, C-contiguous, finite X over D.

    The codes are computed in the dtype of `X`; see
    :func:`sparsetools.coding._gram.gram_encode`.
    """
    n_components, n_features = D.shape
    max_active = min(n_components, n_features)

    def run(ex, ed, X, D, G, gdiag, thresh, codes, corr, work, support, coef,
            n_threads):
        lam = _scaled_alpha(alpha, ex, ed, X.dtype)
        return _lib.lars_encode(X, D, G, gdiag, thresh, codes, corr, work, support,
                                coef, lam, positive, max_iter, n_threads)

    codes, n_cut = gram_encode(
        X, D, width=max_active,
        workspace_size=_lib.lars_workspace_size(n_components, max_active),
        n_threads=n_threads, run=run)
    if n_cut:
        warnings.warn(
            f"The LARS path reached max_iter={max_iter} steps before alpha on "
            f"{n_cut} of {X.shape[0]} signals; their codes use the last active set "
            "and are not optimal. Increase max_iter.", ConvergenceWarning,
            stacklevel=3)
    return codes


class LarsBatchCoder:
    """encode_lars for a stream of equally sized batches (online learning).

    The same codes as ``encode_lars(X, D, ...)``, batch after batch, with the
    per-thread buffers and the dense codes allocated once. The caller holds
    BLAS to one thread (the Gram matrix and the chunk GEMMs run on the
    calling threads). The codes returned are a view of a buffer that the
    next call overwrites.
    """

    def __init__(self, n_samples, n_components, n_features, dtype, alpha, positive,
                 max_iter, n_threads):
        self.alpha, self.positive, self.max_iter = alpha, positive, max_iter
        self.max_active = min(n_components, n_features)
        # encode_lars' chunks (gram_encode): the same GEMM shapes, the same codes
        n_threads = max(1, n_threads)
        chunk = max(1, min(CHUNK_SIZE, -(-n_samples // n_threads)))
        self.n_threads = min(n_threads, -(-n_samples // chunk))
        self.codes = np.zeros((n_samples, n_components), dtype=dtype)
        self.corr = np.empty((self.n_threads, chunk * n_components), dtype=dtype)
        self.work = np.empty(
            (self.n_threads, _lib.lars_workspace_size(n_components, self.max_active)),
            dtype=dtype)
        self.support = np.empty((self.n_threads, self.max_active), dtype=np.intp)
        self.coef = np.empty((self.n_threads, self.max_active), dtype=dtype)
        self.thresh = np.empty(n_components, dtype=dtype)
        self.gram = np.empty((n_components, n_components), dtype=dtype)

    def __call__(self, X, D):
        """Codes of the rows of validated, C-contiguous, finite X (the shape
        and dtype given to the constructor) over D."""
        codes = self.codes
        ex, ed, X, D = normalise_inputs(X, D)
        G, gdiag = gram_matrix(D, self.n_threads, out=self.gram)
        lam = _scaled_alpha(self.alpha, ex, ed, X.dtype)
        # the chunks zero their rows of the codes on the threads
        n_cut = _lib.lars_encode(X, D, G, gdiag, self.thresh, codes, self.corr, self.work,
                                 self.support, self.coef, lam, self.positive,
                                 self.max_iter, self.n_threads, True)
        codes = restore_codes(codes, X, D, ex, ed)
        if n_cut:
            warnings.warn(
                f"The LARS path reached max_iter={self.max_iter} steps before alpha "
                f"on {n_cut} of {X.shape[0]} signals; their codes use the last active "
                "set and are not optimal. Increase max_iter.", ConvergenceWarning,
                stacklevel=3)
        return codes


def encode_cd(X, D, alpha, positive, max_iter, tol, n_threads):
    """Coordinate-descent codes of validated, C-contiguous, finite X over D.

    The codes are computed in the dtype of `X`; see
    :func:`sparsetools.coding._gram.gram_encode`.
    """
    n_components = D.shape[0]
    tol = _attainable_tol(tol, X.dtype)
    gaps = {}

    def run(ex, ed, X, D, G, gdiag, thresh, codes, corr, work, support, coef,
            n_threads):
        lam = _scaled_alpha(alpha, ex, ed, X.dtype)
        gaps["buf"] = np.zeros(n_threads, dtype=X.dtype)
        return _lib.lasso_cd_encode(X, D, G, gdiag, thresh, codes, corr, work,
                                    support, coef, gaps["buf"], lam, positive, tol,
                                    max_iter, n_threads)

    codes, n_cut = gram_encode(
        X, D, width=n_components,
        workspace_size=_lib.lasso_cd_workspace_size(n_components),
        n_threads=n_threads, run=run)
    if n_cut:
        _warn_gap("Coordinate descent", "rounds", max_iter, n_cut, X.shape[0],
                  float(gaps["buf"].max()), tol)
    return codes


def encode_fista_checked(X, D, alpha, positive, max_iter, tol, n_threads):
    """FISTA codes of validated, finite X over D, with the convergence warning."""
    tol = _attainable_tol(tol, X.dtype)
    codes, n_cut, worst = encode_fista(X, D, alpha, positive, max_iter, tol,
                                       n_threads, _scaled_alpha)
    if n_cut:
        _warn_gap("FISTA", "iterations", max_iter, n_cut, X.shape[0], worst, tol)
    return codes


def _attainable_tol(tol, dtype):
    """tol, raised to 10 eps of the dtype: a gap below that is rounding noise."""
    return max(tol, 10 * float(np.finfo(dtype).eps))


def _warn_gap(solver, unit, max_iter, n_cut, n_signals, worst, tol):
    warnings.warn(
        f"{solver} reached max_iter={max_iter} {unit} on {n_cut} of {n_signals} "
        f"signals; the largest duality gap left is {worst:.3e} of the objective "
        f"(tol {tol:.1e}). Increase max_iter or tol.", ConvergenceWarning,
        stacklevel=4)


def _scaled_alpha(alpha, ex, ed, dtype):
    """alpha in the units of X * 2**-ex and D * 2**-ed, finite in `dtype`.

    ||x - a D||^2 scales by 2**(-2 ex) and the codes by 2**(ed - ex), so
    alpha scales by 2**(-ex - ed). An alpha beyond the dtype's range is above
    every correlation (the codes are zero) and is clamped to the largest
    finite value, which keeps the kernels' arithmetic finite.
    """
    try:
        lam = math.ldexp(alpha, -ex - ed)  # an underflow gives 0 or a subnormal
    except OverflowError:
        lam = math.inf
    return min(lam, float(np.finfo(dtype).max))

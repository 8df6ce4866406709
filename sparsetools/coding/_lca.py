"""The Locally Competitive Algorithm (LCA) on the compiled kernel."""
import warnings

import numpy as np
import scipy.linalg
import scipy.sparse.linalg
from sklearn.exceptions import ConvergenceWarning

from sparsetools._lib import _lca as _lib
from sparsetools.coding._gram import CHUNK_SIZE, _pow2_normalise, restore_codes
from sparsetools.coding._lasso import _scaled_alpha
from sparsetools.utils._threads import blas_single_thread, effective_n_threads
from sparsetools.utils._validation import (
    all_finite,
    check_coding_inputs,
    check_float,
    check_int,
    check_option,
)

__all__ = ["lca"]

_TRANSFERS = ("soft", "hard")
_INTEGRATORS = ("euler", "nesterov")
#: Euler step dt / tau when dt is None (lowered for dictionaries that need it).
_DEFAULT_STEP = 0.05
#: Simulated time, in units of tau, that max_iter=None gives the Euler integrator.
_DEFAULT_TIME = 50.0
#: Most Euler steps that max_iter=None gives (tiny steps on coherent dictionaries).
_MAX_DEFAULT_EULER_ITER = 100_000
#: max_iter=None for the Nesterov integrator.
_DEFAULT_NESTEROV_ITER = 1000
_DEFAULT_TOL = 1e-2
#: Largest side of the Gram matrix whose spectrum is computed densely.
_DENSE_EIG_MAX = 2048


def lca(X, dictionary, *, threshold, transfer="soft", positive=False, tau=1.0, dt=None,
        max_iter=None, tol=_DEFAULT_TOL, integrator="euler", return_potentials=False,
        n_jobs=None):
    """Sparse codes of the rows of `X` by the Locally Competitive Algorithm.

    Each atom (a row of `dictionary`, ``D``) is a neuron with a potential
    ``u``; for a signal ``x`` the potentials follow the LCA dynamics of
    Rozell et al. [1]_::

        tau * du/dt = D @ x - u - (D @ D.T - I) @ a,    a = T(u)

    from ``u = 0``, where the transfer function ``T`` thresholds every
    potential at ``c = threshold``:

    ============  ==============  =========================================
    `transfer`    `positive`      ``a = T(u)``
    ============  ==============  =========================================
    ``"soft"``    False           ``u - c`` above ``c``, ``u + c`` below
                                  ``-c``, else 0
    ``"soft"``    True            ``u - c`` above ``c``, else 0 (the
                                  rectified LCA, eq. 2 of [2]_)
    ``"hard"``    False           ``u`` where ``|u| > c``, else 0
    ``"hard"``    True            ``u`` where ``u > c``, else 0
    ============  ==============  =========================================

    With the soft transfer the dynamics descend the energy
    ``0.5 * ||x - a @ D||^2 + threshold * ||a||_1`` and their fixed point is
    the lasso solution with ``alpha = threshold`` (non-negative with
    `positive`), that of :func:`sparsetools.lasso`. With the hard transfer
    the fixed points are sparse approximations that the l1 penalty does not
    shrink (not the minimisers of any convex problem). The ``-I`` term
    assumes atoms of unit norm, as LCA does; the fixed point does not.

    The dynamics run in C on the Gram matrix ``G = D @ D.T``, one signal at
    a time, with the correlations ``D @ x`` of a chunk of signals from one
    matrix product; ``(G - I) @ a`` is updated from the coefficients that
    changed in a step only (the active atoms, plus any atom that becomes
    active). Signals are spread over `n_jobs` threads with the GIL released.

    Integrators:

    - ``"euler"``: the fixed step ``u += (dt / tau) * (D x - u - (G - I) a)``
      that the literature uses (PetaVision, Rozell et al.). It is stable for
      ``dt / tau < 2 / ||G||_2``; a larger `dt` is refused.
    - ``"nesterov"``: the same step taken from an extrapolated point
      ``u_k + beta_k (u_k - u_{k-1})`` with FISTA's momentum, dropped
      whenever the step opposes it (gradient restart [3]_), and the stable
      step ``dt / tau = 1 / max(1, ||G||_2)`` from the dictionary's spectrum
      (`dt` is not used). A fixed point of these steps is a fixed point of
      the dynamics, reached in far fewer steps: on real 8x8 patches with 256
      atoms, 0.1 % from the lasso optimum in about 50 steps where Euler at
      ``dt = 0.05 tau`` needs about 200 for 0.14 %.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals, one per row. float32 and float64 are kept; other dtypes are
        converted to float64.
    dictionary : array-like of shape (n_components, n_features)
        Atoms, one per row, normally of unit norm.
    threshold : float
        The threshold ``c`` of the transfer function, >= 0; with
        ``transfer="soft"`` the ``alpha`` of the lasso problem solved.
    transfer : {"soft", "hard"}, default="soft"
        Transfer function, see the table above.
    positive : bool, default=False
        Only potentials above ``threshold`` activate (non-negative codes).
    tau : float, default=1.0
        Time constant of the neurons, > 0.
    dt : float, default=None
        Euler time step, in ``(0, tau]``, with ``dt / tau < 2 / ||G||_2``.
        None: ``0.05 * tau``, or ``tau / ||G||_2`` when that is smaller. The
        Nesterov integrator uses its own step and ignores it.
    max_iter : int, default=None
        Most steps per signal, >= 1. None: enough Euler steps to cover
        ``50 * tau`` (1000 at ``dt = 0.05 tau``), at most 100,000; 1000
        Nesterov steps. A
        ``ConvergenceWarning`` says how many signals reached it.
    tol : float, default=1e-2
        Stop a signal once its potentials change by at most `tol` of their
        norm per unit of ``tau``: ``||u_{k+1} - u_k|| <= tol * (dt / tau) *
        ||u_{k+1}||``, with the step the integrator takes. 0 runs `max_iter`
        steps. Values below the rounding floor ``30 * eps * max(1,
        ||D D^T||_2)`` (``eps`` the dtype's machine epsilon; 1.4e-4 in float32
        for 256 atoms of 8x8 patches) are raised to it. On real patches with 256 atoms, 1e-2 leaves the Euler
        integrator about 0.1 % above the lasso optimum and the Nesterov one
        about 2e-5; it measures how fast the potentials move, not the
        distance to the optimum, so slow dynamics (nearly parallel atoms)
        can stop early.
    integrator : {"euler", "nesterov"}, default="euler"
        How the dynamics are integrated, see above.
    return_potentials : bool, default=False
        Also return the final potentials ``u``.
    n_jobs : int, default=None
        Threads over signals. None means 1, -1 all cores.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
        The activations ``a = T(u)`` at the end, float32 if `X` and
        `dictionary` are both float32, float64 otherwise.
    potentials : ndarray of shape (n_samples, n_components)
        The potentials ``u`` at the end; only with `return_potentials`.

    Raises
    ------
    ValueError
        On invalid parameters or data, naming the parameter; when `dt` is
        too large for the dictionary (``dt / tau >= 2 / ||G||_2``); when
        ``D @ D.T`` overflows the dtype.

    See Also
    --------
    lasso : The lasso solution that the soft transfer converges to, exactly.
    LCACoder : This function as a scikit-learn transformer.

    References
    ----------
    .. [1] C. J. Rozell, D. H. Johnson, R. G. Baraniuk and B. A. Olshausen,
       "Sparse coding via thresholding and local competition in neural
       circuits", Neural Computation 20(10), 2008.
    .. [2] J. Kim, Y. Watkins, et al., "Classifiers based on deep sparse
       coding architectures are robust to deep learning transferable
       examples", 2018 (``papers/001``).
    .. [3] B. O'Donoghue and E. Candes, "Adaptive restart for accelerated
       gradient schemes", Found. Comput. Math. 15, 2015.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools import lasso
    >>> from sparsetools.coding import lca
    >>> rng = np.random.default_rng(0)
    >>> D = rng.standard_normal((40, 20))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> X = 3.0 * D[[2, 5]].sum(axis=0, keepdims=True)
    >>> codes = lca(X, D, threshold=0.5, tol=1e-6)
    >>> np.flatnonzero(codes[0]).tolist()
    [2, 5]
    >>> bool(np.allclose(codes, lasso(X, D, alpha=0.5), atol=1e-5))
    True

    The Nesterov integrator reaches the same codes in fewer steps, and the
    potentials exceed the threshold exactly where the codes are non-zero:

    >>> fast, u = lca(X, D, threshold=0.5, tol=1e-6, integrator="nesterov",
    ...               return_potentials=True)
    >>> bool(np.allclose(fast, codes, atol=1e-5))
    True
    >>> np.flatnonzero(np.abs(u[0]) > 0.5).tolist()
    [2, 5]
    """
    X, D = check_coding_inputs(X, dictionary)
    params = check_lca_params(threshold, transfer, positive, tau, dt, max_iter, tol,
                              integrator, n_jobs)
    if not isinstance(return_potentials, (bool, np.bool_)):
        raise TypeError(f"return_potentials must be a bool; got {return_potentials!r} "
                        f"of type {type(return_potentials).__name__}.")
    codes, potentials = encode_lca(X, D, *params, return_potentials=bool(return_potentials))
    return (codes, potentials) if return_potentials else codes


def check_lca_params(threshold, transfer, positive, tau, dt, max_iter, tol, integrator,
                     n_jobs):
    """Validate the LCA hyper-parameters.

    Returns ``(threshold, transfer, positive, tau, dt, max_iter, tol,
    integrator, n_threads)``; `dt` and `max_iter` may stay None (they are
    resolved against the dictionary by :func:`encode_lca`).
    """
    threshold = check_float(threshold, "threshold", min_val=0.0)
    transfer = check_option(transfer, "transfer", _TRANSFERS)
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"positive must be a bool; got {positive!r} of type "
                        f"{type(positive).__name__}.")
    tau = _check_positive(tau, "tau")
    dt = _check_positive(dt, "dt", allow_none=True)
    if dt is not None and dt > tau:
        raise ValueError(
            f"dt must be <= tau (dt / tau is the fraction of the way to the "
            f"target that one Euler step goes); got dt={dt!r} and tau={tau!r}.")
    max_iter = check_int(max_iter, "max_iter", min_val=1, max_val=np.iinfo(np.intp).max,
                         allow_none=True)
    tol = check_float(tol, "tol", min_val=0.0)
    integrator = check_option(integrator, "integrator", _INTEGRATORS)
    return (threshold, transfer, bool(positive), tau, dt, max_iter, tol, integrator,
            effective_n_threads(n_jobs))


def _check_positive(value, name, allow_none=False):
    value = check_float(value, name, allow_none=allow_none)
    if value is not None and not value > 0:
        raise ValueError(f"{name} must be > 0; got {value!r}.")
    return value


def encode_lca(X, D, threshold, transfer, positive, tau, dt, max_iter, tol, integrator,
               n_threads, *, return_potentials=False):
    """LCA codes (and potentials) of validated, finite X over D of the same dtype.

    Parameters are those returned by :func:`check_lca_params`. Returns
    ``(codes, potentials)``, potentials None unless `return_potentials`.

    Signals whose squares would overflow or underflow the dtype are scaled
    by a power of two first, with the threshold; the dynamics are
    equivariant under that scaling (the codes, potentials and threshold
    scale together), so the result is unchanged. The dictionary is used as
    it is.
    """
    dtype = X.dtype
    n_samples = X.shape[0]
    n_components = D.shape[0]
    ex, X = _pow2_normalise(X, dtype)
    D = np.ascontiguousarray(D, dtype=dtype)
    with blas_single_thread(), np.errstate(over="ignore", invalid="ignore"):
        G = D @ D.T
    if not all_finite(G):
        raise ValueError(
            f"dictionary is too large for {dtype}: D @ D.T overflows. LCA expects "
            "atoms of about unit norm; scale the dictionary.")
    L = largest_gram_eigenvalue(D)
    eta = _step(L, tau, dt, integrator)
    if not dtype.type(eta) > 0:
        raise ValueError(
            f"dictionary is too large for {dtype}: ||D D^T||_2 = {L:.3g}, so the "
            "stable LCA step underflows. LCA expects atoms of about unit norm; scale "
            "the dictionary.")
    if max_iter is None:
        if integrator == "euler":
            max_iter = int(min(np.ceil(_DEFAULT_TIME / eta), _MAX_DEFAULT_EULER_ITER))
        else:
            max_iter = _DEFAULT_NESTEROV_ITER
    tol = max(tol, attainable_tol(dtype, L))
    c = _scaled_alpha(threshold, ex, 0, dtype)

    # Chunks of CHUNK_SIZE signals, smaller when there are too few signals to
    # give every thread one.
    n_threads = max(1, n_threads)
    chunk = max(1, min(CHUNK_SIZE, -(-n_samples // n_threads)))
    n_threads = min(n_threads, -(-n_samples // chunk))
    codes = np.zeros((n_samples, n_components), dtype=dtype)
    potentials = np.empty((n_samples if return_potentials else n_threads, n_components),
                          dtype=dtype)
    corr = np.empty((n_threads, chunk * n_components), dtype=dtype)
    work = np.empty((n_threads, _lib.workspace_size(n_components)), dtype=dtype)
    iwork = np.empty((n_threads, _lib.index_workspace_size(n_components)), dtype=np.intp)
    worst = np.zeros(n_threads, dtype=dtype)
    with blas_single_thread():
        n_cut = _lib.lca_encode(X, D, G, codes, potentials, return_potentials, corr, work,
                                iwork, worst, c, _lib.TRANSFERS[transfer],
                                positive, _lib.INTEGRATORS[integrator], eta, max_iter,
                                tol, n_threads)
    codes = restore_codes(codes, X, D, ex, 0)
    if return_potentials:
        if ex:
            with np.errstate(over="ignore", under="ignore"):
                potentials = np.ldexp(potentials, ex, out=potentials)
            if not all_finite(potentials):
                raise ValueError(f"The potentials overflow {dtype}: X is too large.")
    else:
        potentials = None
    if n_cut:
        warnings.warn(
            f"LCA ({integrator}) reached max_iter={max_iter} steps on {n_cut} of "
            f"{n_samples} signals; the largest relative change of the potentials left "
            f"is {float(worst.max()):.3e} per tau (tol {tol:.1e}). Increase max_iter "
            "or tol.", ConvergenceWarning, stacklevel=3)
    return codes, potentials


def attainable_tol(dtype, L):
    """The smallest relative change per tau that rounding lets the potentials reach.

    At a fixed point the velocity ``D x - u - (G - I) a`` is the rounding
    error of ``G a`` and of the potentials, amplified up to ``||G||_2 = L``.
    Measured in float32 on camera patches with patch dictionaries, the
    slowest-settling signal stopped moving at 4e-6 (64 atoms, L = 14) and
    1.0e-4 (256 atoms, L = 39) per tau: below ``30 * eps * L`` (5e-5 and
    1.4e-4).
    """
    return 30 * float(np.finfo(dtype).eps) * max(1.0, L)


def _step(L, tau, dt, integrator):
    """The step dt / tau for the integrator, L = ||D D^T||_2 (validated)."""
    if integrator == "nesterov":
        return 1.0 / max(1.0, L)  # 0 when L overflowed (refused by the caller)
    if dt is None:
        return min(_DEFAULT_STEP, 1.0 / L) if L > 0 else _DEFAULT_STEP
    eta = dt / tau
    if eta * L >= 2.0:
        raise ValueError(
            f"dt is too large for this dictionary: the Euler step dt / tau = {eta:.4g} "
            f"must be below 2 / ||D D^T||_2 = {2.0 / L:.4g} for the dynamics to be "
            "stable. Decrease dt, leave it None (a stable step is chosen), or use "
            "integrator='nesterov'.")
    return eta


def largest_gram_eigenvalue(D):
    """||D D^T||_2 (the squared largest singular value of D), in float64.

    Deterministic: a dense eigensolver on the smaller of ``D D^T`` and
    ``D^T D``, or Lanczos from a fixed start vector when both are large;
    rounded up by a relative 1e-6 so that steps derived from it are safe.
    """
    D = np.asarray(D, dtype=np.float64)
    m = float(np.max(np.abs(D))) if D.size else 0.0
    if m == 0.0:
        return 0.0
    # scaled by a power of two near max |D| (exact), so the products below
    # neither overflow nor underflow; the result may overflow to inf
    e = int(np.frexp(m)[1])
    D = np.ldexp(D, -e)
    small = D @ D.T if D.shape[0] <= D.shape[1] else D.T @ D
    n = small.shape[0]
    if n <= _DENSE_EIG_MAX:
        top = float(scipy.linalg.eigvalsh(small, subset_by_index=[n - 1, n - 1])[0])
    else:
        v0 = np.random.default_rng(0).standard_normal(n)
        top = float(scipy.sparse.linalg.eigsh(small, k=1, which="LA", tol=1e-8, v0=v0,
                                              return_eigenvectors=False)[0])
    if not top > 0:
        return 0.0
    with np.errstate(over="ignore", under="ignore"):
        return float(np.ldexp(top * (1 + 1e-6), 2 * e))

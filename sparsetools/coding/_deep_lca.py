"""Deep (multi-layer) LCA with top-down feedback: the dynamics of deep sparse coding."""
import numbers
import warnings

import numpy as np
from sklearn.exceptions import ConvergenceWarning

from sparsetools.coding._lca import (
    _DEFAULT_STEP,
    _DEFAULT_TIME,
    _DEFAULT_TOL,
    _MAX_DEFAULT_EULER_ITER,
    attainable_tol,
    check_lca_params,
    encode_lca,
    largest_gram_eigenvalue,
)
from sparsetools.utils._threads import blas_threads
from sparsetools.utils._validation import (
    all_finite,
    check_array,
    check_float,
    float_dtype,
)

__all__ = ["deep_lca"]

#: Signals whose coupled dynamics run together (bounded memory, BLAS-sized products).
_CHUNK = 1024


def deep_lca(X, dictionaries, *, thresholds, feedback=0.0, positive=False, tau=1.0,
             dt=None, max_iter=None, tol=_DEFAULT_TOL, return_potentials=False,
             n_jobs=None):
    """Activations of every layer of a deep sparse coding network, by coupled LCA dynamics.

    Layer ``l`` (``l = 1 .. n``) has atoms ``D_l`` (rows) and codes the
    activations ``a_{l-1}`` of the layer below (``a_0 = x``, the input) with
    the LCA dynamics of :func:`~sparsetools.coding.lca`, and every layer but
    the top one is pulled towards the reconstruction of it from the layer
    above (eq. 5-6 of Springer et al. [1]_, with a feedback strength ``f``)::

        tau du_l/dt = D_l a_{l-1} - u_l - (D_l D_l^T - I) a_l - f r_l
        r_l = u_l - D_{l+1}^T a_{l+1}      (r_n = 0 for the top layer)
        a_l = T(u_l)

    with the soft transfer ``T`` at threshold ``c_l`` (``u - c`` above ``c``,
    ``u + c`` below ``-c`` unless `positive`, else 0), all layers starting
    from ``u = 0`` and integrated together by Euler steps
    ``u_l += (dt / tau) * (right-hand side)``. At a fixed point
    ``(1 + f) u_l = D_l a_{l-1} - (D_l D_l^T - I) a_l + f D_{l+1}^T a_{l+1}``:
    each layer's potentials are a blend of what the layer below drives and
    what the layer above predicts. With ``f = 0`` the layers are independent
    stacked LCA layers and each one's fixed point is the lasso code (weight
    ``c_l``) of the activations below it.

    The paper writes the residual with the potentials ``u_l``, not the
    activations, and so does this function: the feedback adds a leak ``-f
    u_l`` and a top-down drive ``f D_{l+1}^T a_{l+1}``; the dynamics are not
    the gradient flow of one energy.

    With ``feedback=0`` (or one layer) the layers are coded one after the
    other by the compiled LCA kernel (:func:`~sparsetools.coding.lca`, Euler integrator,
    the same `tau`, `dt`, `max_iter`, `tol`): the first layer's codes are
    exactly ``lca(X, dictionaries[0], ...)``. With ``feedback > 0`` the layers
    are coupled at every step, and the dynamics run in NumPy on chunks of
    1024 signals, each step a few matrix products per layer (BLAS, `n_jobs`
    threads): the top-down reconstruction ``a_{l+1} D_{l+1}`` is dense in
    the units of layer ``l``, so a per-signal active-set kernel would save
    little, while a batched matrix product runs near the machine's peak.
    Signals that have converged leave the batch.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Input signals, one per row. float32 and float64 are kept (float32
        when `X` and every dictionary are float32); other dtypes become
        float64.
    dictionaries : sequence of array-like
        ``dictionaries[0]`` of shape (n_components_1, n_features),
        ``dictionaries[l]`` of shape (n_components_{l+1}, n_components_l):
        each layer's atoms, one per row, normally of unit norm.
    thresholds : float or sequence of float
        The threshold ``c_l`` of each layer (one value for all), >= 0.
    feedback : float, default=0.0
        Strength ``f`` of the top-down feedback, >= 0.
    positive : bool, default=False
        Only potentials above the threshold activate (non-negative codes,
        the rectified transfer of eq. 2 of [1]_).
    tau : float, default=1.0
        Time constant of the neurons, > 0.
    dt : float, default=None
        Euler time step in ``(0, tau]``, with ``(dt / tau) (||D_l D_l^T||_2
        + f) < 2`` for every layer below the top (``f = 0`` for the top
        layer). None: ``0.05 * tau``, or ``tau / max_l (||D_l D_l^T||_2 + f_l)``
        when that is smaller.
    max_iter : int, default=None
        Most Euler steps per signal, >= 1. None: enough steps to cover
        ``50 * tau``, at most 100,000. A ``ConvergenceWarning`` says how many
        signals reached it.
    tol : float, default=1e-2
        Stop a signal once the potentials of all its layers, stacked, change
        by at most `tol` of their norm per unit of ``tau`` (the criterion of
        :func:`~sparsetools.coding.lca`); 0 runs `max_iter` steps (with
        ``feedback > 0``, without a ``ConvergenceWarning``). Raised to the
        rounding floor of the dtype. The Euler dynamics settle slowly along
        nearly parallel atoms: tolerances far below 1e-3 can need many more
        than the default 50 tau of steps.
    return_potentials : bool, default=False
        Also return the potentials of every layer.
    n_jobs : int, default=None
        Threads (over signals for ``feedback=0``, BLAS threads otherwise);
        None means 1, -1 all cores.

    Returns
    -------
    codes : list of ndarray
        ``codes[l]`` of shape (n_samples, n_components_{l+1}): the
        activations of layer ``l + 1`` at the end, in the computation dtype.
    potentials : list of ndarray
        The potentials of each layer; only with `return_potentials`.

    Raises
    ------
    ValueError
        On invalid parameters or data, naming the parameter; when the widths
        of consecutive dictionaries do not chain; when `dt` is too large for
        a dictionary, or the coupled dynamics diverge.

    See Also
    --------
    lca : One layer, in compiled code.
    DeepSparseCoder : The estimator that learns the dictionaries.

    References
    ----------
    .. [1] J. M. Springer, C. S. Strauss, A. M. Thresher, E. Kim and G. T.
       Kenyon, "Classifiers based on deep sparse coding architectures are
       robust to deep learning transferable examples", 2018, section 2.2
       (``papers/001``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.coding import deep_lca, lca
    >>> rng = np.random.default_rng(0)
    >>> D1 = rng.standard_normal((30, 16))
    >>> D1 /= np.linalg.norm(D1, axis=1, keepdims=True)
    >>> D2 = np.abs(rng.standard_normal((10, 30)))
    >>> D2 /= np.linalg.norm(D2, axis=1, keepdims=True)
    >>> X = 2.0 * (D1[[1, 4]].sum(axis=0) + 0.1 * rng.standard_normal((5, 16)))
    >>> a1, a2 = deep_lca(X, [D1, D2], thresholds=[0.2, 0.05], positive=True)
    >>> a1.shape, a2.shape
    ((5, 30), (5, 10))

    Without feedback the first layer is plain LCA; with it, layer 1 moves
    towards what layer 2 predicts:

    >>> bool(np.array_equal(a1, lca(X, D1, threshold=0.2, positive=True)))
    True
    >>> b1, b2 = deep_lca(X, [D1, D2], thresholds=[0.2, 0.05], positive=True,
    ...                   feedback=1.0, tol=1e-4)
    >>> err = lambda a, b: np.linalg.norm(a - b @ D2)
    >>> bool(err(b1, b2) < err(a1, a2))
    True
    """
    X, Ds = check_deep_inputs(X, dictionaries)
    params = check_deep_params(len(Ds), thresholds, feedback, positive, tau, dt, max_iter,
                               tol, n_jobs)
    if not isinstance(return_potentials, (bool, np.bool_)):
        raise TypeError(f"return_potentials must be a bool; got {return_potentials!r} "
                        f"of type {type(return_potentials).__name__}.")
    codes, potentials = encode_deep(X, Ds, *params, return_potentials=bool(return_potentials))
    return (codes, potentials) if return_potentials else codes


def check_deep_inputs(X, dictionaries):
    """Validate the input and the chain of dictionaries; returns them in one dtype."""
    X = check_array(X, "X", shape_doc="(n_samples, n_features)")
    if isinstance(dictionaries, np.ndarray) and dictionaries.ndim == 2:
        dictionaries = [dictionaries]
    if not isinstance(dictionaries, (list, tuple)) or len(dictionaries) == 0:
        raise ValueError("dictionaries must be a non-empty list of 2-D arrays, one per "
                         f"layer; got {type(dictionaries).__name__} "
                         f"{'of length 0' if hasattr(dictionaries, '__len__') else ''}.")
    Ds = [check_array(D, f"dictionaries[{i}]", shape_doc="(n_components, n_inputs)")
          for i, D in enumerate(dictionaries)]
    dtype = float_dtype(X.dtype, *[D.dtype for D in Ds])
    X = X.astype(dtype, copy=False)
    Ds = [np.ascontiguousarray(D, dtype=dtype) for D in Ds]
    width, below = X.shape[1], "X has {} columns"
    for i, D in enumerate(Ds):
        if D.shape[1] != width:
            raise ValueError(
                f"dictionaries[{i}] has atoms of width {D.shape[1]}, but "
                f"{below.format(width)}; dictionaries[{i}] must have shape "
                f"(n_components, {width}).")
        width, below = D.shape[0], f"the layer below (dictionaries[{i}]) has {{}} atoms"
    return X, Ds


def check_thresholds(thresholds, n_layers, name="thresholds"):
    """One threshold >= 0 per layer, as a list of floats."""
    if isinstance(thresholds, numbers.Real) and not isinstance(thresholds, (bool, np.bool_)):
        return [check_float(thresholds, name, min_val=0.0)] * n_layers
    try:
        if isinstance(thresholds, (str, bytes)):
            raise TypeError
        values = list(thresholds)
    except TypeError:
        raise TypeError(f"{name} must be a float or a sequence of {n_layers} floats; got "
                        f"{thresholds!r} of type {type(thresholds).__name__}.") from None
    if len(values) != n_layers:
        raise ValueError(f"{name} must have one value per layer ({n_layers}); got "
                         f"{len(values)}.")
    return [check_float(v, f"{name}[{i}]", min_val=0.0) for i, v in enumerate(values)]


def check_deep_params(n_layers, thresholds, feedback, positive, tau, dt, max_iter, tol,
                      n_jobs):
    """Validate the hyper-parameters of :func:`deep_lca`.

    Returns ``(thresholds, feedback, positive, tau, dt, max_iter, tol,
    n_threads)``; `dt` and `max_iter` may stay None.
    """
    thresholds = check_thresholds(thresholds, n_layers)
    feedback = check_float(feedback, "feedback", min_val=0.0)
    # LCA's own checks: positive, tau > 0, 0 < dt <= tau, max_iter, tol, n_jobs
    (_, _, positive, tau, dt, max_iter, tol, _,
     n_threads) = check_lca_params(0.0, "soft", positive, tau, dt, max_iter, tol, "euler",
                                   n_jobs)
    return thresholds, feedback, positive, tau, dt, max_iter, tol, n_threads


def encode_deep(X, Ds, thresholds, feedback, positive, tau, dt, max_iter, tol, n_threads,
                *, return_potentials=False):
    """Codes (and potentials) of every layer for validated X and chained Ds of one dtype."""
    if feedback == 0.0 or len(Ds) == 1:
        codes, potentials, inp = [], [], X
        for D, c in zip(Ds, thresholds):
            a, u = encode_lca(inp, D, c, "soft", positive, tau, dt, max_iter, tol, "euler",
                              n_threads, return_potentials=return_potentials)
            codes.append(a)
            potentials.append(u)
            inp = a
        return codes, (potentials if return_potentials else None)

    dtype = X.dtype
    lips = [largest_gram_eigenvalue(D) for D in Ds]
    eta = coupled_step(lips, feedback, tau, dt)
    if max_iter is None:
        max_iter = int(min(np.ceil(_DEFAULT_TIME / eta), _MAX_DEFAULT_EULER_ITER))
    user_tol, tol = tol, max(tol, attainable_tol(dtype, max(lips)))
    n = X.shape[0]
    codes = [np.zeros((n, D.shape[0]), dtype=dtype) for D in Ds]
    potentials = [np.zeros((n, D.shape[0]), dtype=dtype) for D in Ds]
    n_cut, worst = 0, 0.0
    with blas_threads(n_threads), np.errstate(over="ignore", invalid="ignore"):
        grams = [D @ D.T for D in Ds]
        for start in range(0, n, _CHUNK):
            rows = slice(start, min(n, start + _CHUNK))
            cut, w = coupled_dynamics(
                X[rows], Ds, grams, thresholds, feedback, positive, dtype.type(eta),
                max_iter, tol, [a[rows] for a in codes], [u[rows] for u in potentials])
            n_cut += cut
            worst = max(worst, w)
    if not all(all_finite(u) for u in potentials):
        raise ValueError(
            f"the coupled LCA dynamics diverged (dt / tau = {eta:.4g}, feedback "
            f"{feedback:g}); decrease dt, or leave it None.")
    if n_cut and user_tol > 0:
        warnings.warn(
            f"deep LCA reached max_iter={max_iter} steps on {n_cut} of {n} signals; the "
            f"largest relative change of the potentials left is {worst:.3e} per tau "
            f"(tol {tol:.1e}). Increase max_iter or tol.", ConvergenceWarning, stacklevel=3)
    return codes, (potentials if return_potentials else None)


def coupled_step(lips, feedback, tau, dt):
    """The Euler step dt / tau for the coupled layers, ``lips[l] = ||D_l D_l^T||_2``.

    Layer ``l`` below the top, linearised on its active set, contracts with
    rate ``||D_l D_l^T||_2 + f`` at most; the top layer with
    ``||D_n D_n^T||_2``. The step must keep every rate times ``dt / tau``
    below 2; None gives ``min(0.05, 1 / max rate)``.
    """
    rates = [L + (feedback if i < len(lips) - 1 else 0.0) for i, L in enumerate(lips)]
    top = max(max(rates), 1e-300)
    if dt is None:
        return min(_DEFAULT_STEP, 1.0 / top)
    eta = dt / tau
    if eta * top >= 2.0:
        raise ValueError(
            f"dt is too large for these dictionaries: the Euler step dt / tau = {eta:.4g} "
            f"must be below 2 / max_l(||D_l D_l^T||_2 + feedback) = {2.0 / top:.4g} for "
            "the dynamics to be stable. Decrease dt or leave it None.")
    return eta


def _transfer(U, c, positive, out):
    """Soft threshold of U at c into `out`."""
    if positive:
        np.subtract(U, c, out=out)
        np.maximum(out, 0, out=out)
    else:
        np.abs(U, out=out)
        out -= c
        np.maximum(out, 0, out=out)
        out *= np.sign(U)
    return out


def coupled_dynamics(X, Ds, grams, thresholds, feedback, positive, eta, max_iter, tol,
                     codes_out, potentials_out):
    """Euler steps of the coupled layers from u = 0 for the rows of X, in place.

    Writes the final activations and potentials of every layer into the
    row blocks `codes_out[l]`, `potentials_out[l]`. A signal stops once
    ``||u_{k+1} - u_k|| <= tol * eta * ||u_{k+1}||`` over all layers stacked.
    Returns (number of signals cut at max_iter, their largest relative
    change per tau).
    """
    n_layers = len(Ds)
    dtype = X.dtype
    drive0 = X @ Ds[0].T                          # constant bottom-up drive of layer 1
    idx = np.arange(X.shape[0])                   # rows still running
    U = [np.zeros((X.shape[0], D.shape[0]), dtype=dtype) for D in Ds]
    A = [np.zeros_like(u) for u in U]
    bound = (tol * eta) ** 2
    for _ in range(max_iter):
        change = np.zeros(idx.size, dtype=np.float64)
        norm = np.zeros(idx.size, dtype=np.float64)
        # velocity of every layer from the current state (all layers together)
        V = []
        for i in range(n_layers):
            v = drive0.copy() if i == 0 else A[i - 1] @ Ds[i].T
            v -= A[i] @ grams[i]
            v += A[i]
            v -= U[i]
            if i < n_layers - 1:
                v -= feedback * (U[i] - A[i + 1] @ Ds[i + 1])
            v *= eta
            V.append(v)
        for i in range(n_layers):
            U[i] += V[i]
            _transfer(U[i], thresholds[i], positive, A[i])
            change += np.einsum("ij,ij->i", V[i], V[i])
            norm += np.einsum("ij,ij->i", U[i], U[i])
        done = change <= bound * norm
        if done.any():
            for i in range(n_layers):
                potentials_out[i][idx[done]] = U[i][done]
                codes_out[i][idx[done]] = A[i][done]
            keep = ~done
            idx, drive0 = idx[keep], drive0[keep]
            U = [u[keep] for u in U]
            A = [a[keep] for a in A]
            if idx.size == 0:
                return 0, 0.0
    for i in range(n_layers):
        potentials_out[i][idx] = U[i]
        codes_out[i][idx] = A[i]
    worst = float(np.sqrt(np.max(change[~done] / np.maximum(norm[~done], 1e-300)))) / eta
    return int(idx.size), worst

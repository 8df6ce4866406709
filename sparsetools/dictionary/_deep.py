"""DeepSparseCoder: multi-layer sparse coding with top-down feedback, learned without labels."""
import logging
import numbers

import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from sparsetools.coding._deep_lca import check_deep_params, encode_deep
from sparsetools.coding._lca import _DEFAULT_TOL, encode_lca
from sparsetools.utils._threads import blas_threads
from sparsetools.utils._validation import check_array, check_float, check_int

__all__ = ["DeepSparseCoder"]

logger = logging.getLogger(__name__)


class DeepSparseCoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Deep sparse coding: stacked LCA layers with top-down feedback, learned without labels.

    Layer 1 sparse-codes the input over its atoms ``D_1``; layer ``l`` codes
    the activations of layer ``l - 1`` over ``D_l``; and top-down feedback
    pulls every layer towards what the layer above reconstructs of it (eq.
    5-6 of Springer et al. [1]_, the deep sparse coding model of Kim et
    al.)::

        tau du_l/dt = D_l a_{l-1} - u_l - (D_l D_l^T - I) a_l - f (u_l - D_{l+1}^T a_{l+1})

    with ``a_0 = x``, ``a_l`` the soft-thresholded potentials ``u_l`` and
    ``f = feedback`` (0 for the top layer). `transform` runs these coupled
    dynamics to a fixed point (see :func:`sparsetools.coding.deep_lca`) and
    returns the top layer's activations, the representation a classifier
    is put on; :meth:`transform_all` returns every layer's.

    `fit` learns the dictionaries in two stages, without labels:

    1. layer-wise warm start: for ``pretrain_epochs`` passes, mini-batches
       of the layer's input are coded by single-layer LCA (the compiled
       kernel, Nesterov integrator, same fixed point as the Euler one) and
       the atoms take a gradient step on the reconstruction error; the
       learned layer then codes the whole input for the next layer;
    2. joint training: for ``n_epochs`` passes, mini-batches of the data are
       coded by the coupled dynamics (feedback included) and every layer's
       atoms descend its reconstruction error, as PetaVision does:
       ``D_l += learning_rate * a_l^T r_{l-1} / m`` with ``r_{l-1} = a_{l-1}
       - a_l D_l`` over a batch of ``m`` signals (``a_0`` the data).

    In both stages each atom's step is divided by the batch mean of its
    squared activation (with a floor), so that `learning_rate` is the
    fraction of the least-squares correction of the atom that one step takes
    whatever the scale of the codes; atoms are then renormalised to unit
    norm, and atoms that no signal of the batch used are replaced by
    randomly chosen inputs of the batch.

    Parameters
    ----------
    layers : int or sequence of int
        Number of atoms of each layer, bottom first, e.g. ``(128, 256)``; an
        int is one layer.
    feedback : float, default=1.0
        Strength of the top-down feedback, >= 0 (1 is eq. 6 of [1]_; 0 gives
        independent stacked LCA layers).
    threshold : float or sequence of float, default=0.1
        Soft threshold (the lasso weight) of each layer, >= 0; one value for
        all layers or one per layer. 0.1 suits inputs of about unit norm.
    positive : bool, default=True
        Non-negative activations (the rectified transfer of eq. 2 of [1]_);
        False gives the two-sided soft threshold.
    tau : float, default=1.0
        Time constant of the neurons, > 0.
    dt : float, default=None
        Euler time step of the coupled dynamics in ``(0, tau]``; None: a
        stable step from the dictionaries' spectra, at most ``0.05 tau``.
    max_iter : int, default=None
        Most Euler steps per signal of the dynamics, >= 1; None: enough to
        cover ``50 tau``, at most 100,000.
    tol : float, default=1e-2
        Stop the dynamics of a signal once its potentials change by at most
        `tol` of their norm per unit of ``tau``.
    learning_rate : float, default=0.5
        Fraction, in ``(0, 1]``, of an atom's least-squares correction that
        each gradient step takes.
    n_epochs : int, default=5
        Passes of joint training over the data, >= 0.
    pretrain_epochs : int, default=5
        Passes of layer-wise warm start for each layer, >= 0.
    batch_size : int, default=256
        Signals per mini-batch, >= 1.
    random_state : int, RandomState instance or None, default=None
        Initial atoms (drawn from each layer's input), batch order,
        replacement of unused atoms.
    n_jobs : int, default=None
        Threads for the LCA kernel and BLAS; None means 1, -1 all cores.
    verbose : bool, default=False
        Log one line per epoch (``logging`` at INFO, logger
        ``sparsetools.dictionary._deep``).

    Attributes
    ----------
    components_ : list of ndarray
        The learned atoms, unit-norm rows: ``components_[0]`` of shape
        (layers[0], n_features), ``components_[l]`` of shape (layers[l],
        layers[l-1]).
    n_components_ : int
        Atoms of the top layer (the width of `transform`'s output).
    error_ : list of float
        Mean total objective per sample of each joint epoch, on the codes of
        the epoch's batches before their update: the sum over layers of
        ``0.5 ||a_{l-1} - a_l D_l||^2 + threshold_l ||a_l||_1``.
    n_iter_ : int
        Joint epochs run.
    n_features_in_ : int
        Number of features seen during `fit`.

    See Also
    --------
    deep_lca : The coupled dynamics behind `transform`.
    LCACoder : One LCA layer over a fixed dictionary.
    DictionaryLearner : One layer, learned with OMP, lasso or LCA coding.

    References
    ----------
    .. [1] J. M. Springer, C. S. Strauss, A. M. Thresher, E. Kim and G. T.
       Kenyon, "Classifiers based on deep sparse coding architectures are
       robust to deep learning transferable examples", 2018 (``papers/001``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.svm import LinearSVC
    >>> from sparsetools import DeepSparseCoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / np.linalg.norm(X, axis=1, keepdims=True)
    >>> dsc = DeepSparseCoder((64, 32), threshold=[0.05, 0.02], n_epochs=1,
    ...                       pretrain_epochs=2, random_state=0)
    >>> clf = Pipeline([("dsc", dsc), ("svm", LinearSVC())]).fit(X[:1000], y[:1000])
    >>> clf.named_steps["dsc"].transform(X[:3]).shape
    (3, 32)
    >>> bool(clf.score(X[1000:], y[1000:]) > 0.8)
    True
    """

    def __init__(self, layers, *, feedback=1.0, threshold=0.1, positive=True, tau=1.0,
                 dt=None, max_iter=None, tol=_DEFAULT_TOL, learning_rate=0.5, n_epochs=5,
                 pretrain_epochs=5, batch_size=256, random_state=None, n_jobs=None,
                 verbose=False):
        self.layers = layers
        self.feedback = feedback
        self.threshold = threshold
        self.positive = positive
        self.tau = tau
        self.dt = dt
        self.max_iter = max_iter
        self.tol = tol
        self.learning_rate = learning_rate
        self.n_epochs = n_epochs
        self.pretrain_epochs = pretrain_epochs
        self.batch_size = batch_size
        self.random_state = random_state
        self.n_jobs = n_jobs
        self.verbose = verbose

    # -- public API ------------------------------------------------------
    def fit(self, X, y=None):
        """Learn every layer's dictionary from the rows of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; float32 and float64 are kept.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DeepSparseCoder
            The fitted estimator.
        """
        X = validate_data(self, X, dtype=[np.float64, np.float32], order="C")
        sizes, dyn = self._check_params()
        thresholds, feedback, positive, tau, dt, max_iter, tol, n_threads = dyn
        lr = self.learning_rate
        rng = check_random_state(self.random_state)
        batch = min(self.batch_size, X.shape[0])
        Ds, Z = [], X
        for i, k in enumerate(sizes):
            D = _init_atoms(Z, k, rng)
            for epoch in range(self.pretrain_epochs):
                total = 0.0
                for rows in _batches(Z.shape[0], batch, rng):
                    Zb = Z[rows]
                    A = encode_lca(Zb, D, thresholds[i], "soft", positive, tau, None, None,
                                   tol, "nesterov", n_threads)[0]
                    total += _layer_objective(Zb, A, D, thresholds[i])
                    D = _dictionary_step(Zb, A, D, lr, rng)
                if self.verbose:
                    logger.info("DeepSparseCoder warm start, layer %d epoch %d: mean "
                                "objective %.6g", i + 1, epoch + 1, total / Z.shape[0])
            Ds.append(D)
            if i + 1 < len(sizes):
                Z = encode_lca(Z, D, thresholds[i], "soft", positive, tau, None, None, tol,
                               "nesterov", n_threads)[0]
        self.error_ = []
        self.n_iter_ = 0
        for _ in range(self.n_epochs):
            total = 0.0
            for rows in _batches(X.shape[0], batch, rng):
                Xb = X[rows]
                codes = encode_deep(Xb, Ds, thresholds, feedback, positive, tau, dt,
                                    max_iter, tol, n_threads)[0]
                inputs = [Xb] + codes[:-1]
                for i in range(len(Ds)):
                    total += _layer_objective(inputs[i], codes[i], Ds[i], thresholds[i])
                    Ds[i] = _dictionary_step(inputs[i], codes[i], Ds[i], lr, rng)
            self.n_iter_ += 1
            self.error_.append(total / X.shape[0])
            if self.verbose:
                logger.info("DeepSparseCoder joint epoch %d: mean objective %.6g",
                            self.n_iter_, self.error_[-1])
        self.components_ = Ds
        self.n_components_ = sizes[-1]
        return self

    def transform(self, X):
        """Top-layer activations of the rows of `X` at the fixed point of the dynamics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; float32 and float64 are kept.

        Returns
        -------
        codes : ndarray of shape (n_samples, layers[-1])
            Activations of the top layer, in the dtype of `X`.
        """
        return self.transform_all(X)[-1]

    def transform_all(self, X):
        """Activations of every layer of the rows of `X` at the fixed point of the dynamics.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; float32 and float64 are kept.

        Returns
        -------
        codes : list of ndarray
            ``codes[l]`` of shape (n_samples, layers[l]), bottom layer first,
            in the dtype of `X`.
        """
        check_is_fitted(self)
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32], order="C")
        _, dyn = self._check_params()
        Ds = [D.astype(X.dtype, copy=False) for D in self.components_]
        return encode_deep(X, Ds, *dyn)[0]

    def inverse_transform(self, X):
        """The input that top-layer codes reconstruct, down through every layer.

        ``X @ components_[-1] @ ... @ components_[0]``: each layer's
        reconstruction of the activations below it, from the top down.

        Parameters
        ----------
        X : array-like of shape (n_samples, layers[-1])
            Top-layer codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions in the dtype of the codes.
        """
        check_is_fitted(self)
        Z = check_array(X, "X", shape_doc="(n_samples, n_components)")
        if Z.shape[1] != self.n_components_:
            raise ValueError(f"X has {Z.shape[1]} columns but the top layer has "
                             f"{self.n_components_} atoms; codes must have shape "
                             f"(n_samples, {self.n_components_}).")
        for D in reversed(self.components_):
            Z = Z @ D.astype(Z.dtype, copy=False)
        return Z

    @property
    def _n_features_out(self):
        return self.n_components_

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        tags.non_deterministic = False
        return tags

    # -- internals -------------------------------------------------------
    def _check_params(self):
        """Validated (layer sizes, dynamics parameters of encode_deep)."""
        sizes = _check_layers(self.layers)
        dyn = check_deep_params(len(sizes), self.threshold, self.feedback, self.positive,
                                self.tau, self.dt, self.max_iter, self.tol, self.n_jobs)
        lr = check_float(self.learning_rate, "learning_rate")
        if not 0.0 < lr <= 1.0:
            raise ValueError(f"learning_rate must be in (0, 1]; got {lr!r}.")
        check_int(self.n_epochs, "n_epochs", min_val=0)
        check_int(self.pretrain_epochs, "pretrain_epochs", min_val=0)
        check_int(self.batch_size, "batch_size", min_val=1)
        if not isinstance(self.verbose, (bool, np.bool_, int)):
            raise TypeError(f"verbose must be a bool; got {self.verbose!r}.")
        return sizes, dyn


def _check_layers(layers):
    if isinstance(layers, numbers.Integral) and not isinstance(layers, (bool, np.bool_)):
        layers = (layers,)
    try:
        sizes = list(layers)
    except TypeError:
        raise TypeError("layers must be an int or a sequence of ints (atoms per layer); "
                        f"got {layers!r} of type {type(layers).__name__}.") from None
    if not sizes:
        raise ValueError("layers must name at least one layer (atoms per layer, e.g. "
                         "(128, 256)); got an empty sequence.")
    return [check_int(k, f"layers[{i}]", min_val=1) for i, k in enumerate(sizes)]


def _batches(n, size, rng):
    order = rng.permutation(n)
    for start in range(0, n, size):
        yield np.sort(order[start:start + size])


def _init_atoms(Z, k, rng):
    """k unit-norm atoms drawn from the non-zero rows of Z, slightly perturbed."""
    norms = np.linalg.norm(Z, axis=1)
    candidates = np.flatnonzero(norms > 0)
    if candidates.size == 0:  # nothing to draw from: random atoms
        D = rng.standard_normal((k, Z.shape[1]))
    else:
        pick = candidates[rng.choice(candidates.size, k, replace=candidates.size < k)]
        D = Z[pick].astype(np.float64)
        D += 1e-3 * rng.standard_normal(D.shape) * np.abs(D).max()
    D /= np.maximum(np.linalg.norm(D, axis=1, keepdims=True), 1e-300)
    return np.ascontiguousarray(D, dtype=Z.dtype)


def _layer_objective(Z, A, D, c):
    """Sum over rows of 0.5 ||z - a D||^2 + c ||a||_1, in float64."""
    R = Z.astype(np.float64) - A.astype(np.float64) @ D.astype(np.float64)
    return 0.5 * float(np.einsum("ij,ij->", R, R)) + c * float(np.abs(A).sum())


def _dictionary_step(Z, A, D, lr, rng):
    """One gradient step of the atoms on 0.5 ||Z - A D||^2, normalised per atom.

    ``D_j += lr * (A^T R)_j / max(sum_i A_ij^2, floor)`` with ``R = Z - A
    D``; then unit norm, and unused atoms replaced by random rows of Z.
    """
    A64, Z64 = A.astype(np.float64), Z.astype(np.float64)
    D64 = D.astype(np.float64)
    with blas_threads(1):
        R = Z64 - A64 @ D64
        energy = np.einsum("ij,ij->j", A64, A64)
        used = energy > 1e-12 * max(float(energy.max(initial=0.0)), 1e-300)
        D64[used] += lr * (A64[:, used].T @ R) / energy[used, None]
    norms = np.linalg.norm(D64, axis=1)
    dead = ~used | (norms == 0)
    if dead.any():
        fresh = _init_atoms(Z64, int(dead.sum()), rng)
        D64[dead] = fresh
        norms = np.linalg.norm(D64, axis=1)
    D64 /= norms[:, None]
    return np.ascontiguousarray(D64, dtype=D.dtype)

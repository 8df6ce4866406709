"""LCACoder: scikit-learn transformer that codes rows by LCA over a fixed dictionary."""
from sparsetools.coding._coder import FixedDictionaryCoder
from sparsetools.coding._lca import _DEFAULT_TOL, check_lca_params, encode_lca
from sparsetools.utils._validation import check_width

__all__ = ["LCACoder"]


class LCACoder(FixedDictionaryCoder):
    """Sparse coding of rows by the Locally Competitive Algorithm over a fixed dictionary.

    Each row ``x`` becomes the activations ``a = T(u)`` that the LCA dynamics
    ``tau du/dt = D x - u - (D D^T - I) a`` settle to (see
    :func:`sparsetools.coding.lca`). Nothing is learned: `fit` only
    validates, and `transform` works without it. Use it in a
    :class:`~sklearn.pipeline.Pipeline` ahead of a classifier.

    Parameters
    ----------
    dictionary : array-like of shape (n_components, n_features)
        The atoms, one per row, normally of unit norm. It is cast to the
        dtype of the data at transform time, so float32 data stays float32.
    threshold : float, default=0.1
        Threshold ``c`` of the transfer function, >= 0 (with the soft
        transfer, the lasso ``alpha`` of the fixed point). 0.1 suits signals
        of about unit norm.
    transfer : {"soft", "hard"}, default="soft"
        Soft (``u - c`` above the threshold) or hard (``u``) activation.
    positive : bool, default=False
        Only potentials above `threshold` activate (non-negative codes).
    tau : float, default=1.0
        Time constant of the neurons, > 0.
    dt : float, default=None
        Euler time step in ``(0, tau]``; None: ``0.05 * tau``, or less when
        the dictionary needs it. The Nesterov integrator ignores it.
    transform_max_iter : int, default=None
        Most steps per signal, the ``max_iter`` of
        :func:`~sparsetools.coding.lca`; None: ``50 * tau / dt`` Euler steps
        (at most 100,000), 1000 Nesterov steps. Named as in scikit-learn's ``SparseCoder``:
        nothing iterates in `fit`.
    tol : float, default=1e-2
        Stop once the potentials change by at most `tol` of their norm per
        unit of ``tau``.
    integrator : {"euler", "nesterov"}, default="euler"
        The literature's fixed Euler step, or accelerated steps that reach
        the same fixed point in far fewer steps.
    n_jobs : int, default=None
        Threads over samples; None means 1, -1 all cores.

    Attributes
    ----------
    n_components_ : int
        Number of atoms.
    n_features_in_ : int
        Number of features seen during `fit`.
    feature_names_in_ : ndarray of shape (n_features_in_,)
        Names of the features seen during `fit`, when they were all strings.

    See Also
    --------
    lca : The function behind `transform`, with the potentials on request.
    SparseCoder : Other coders; ``algorithm="lca"`` is this coder with the
        soft transfer and the Nesterov integrator.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import LinearSVC
    >>> from sparsetools.coding import LCACoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / np.linalg.norm(X, axis=1, keepdims=True)
    >>> rng = np.random.default_rng(0)
    >>> D = X[rng.choice(len(X), 100, replace=False)]
    >>> coder = LCACoder(D, threshold=0.05, positive=True, integrator="nesterov")
    >>> codes = coder.transform(X[:3])
    >>> codes.shape, bool(codes.min() >= 0)
    ((3, 100), True)
    >>> clf = make_pipeline(coder, LinearSVC()).fit(X[:1000], y[:1000])
    >>> bool(clf.score(X[1000:], y[1000:]) > 0.85)
    True
    """

    def __init__(self, dictionary, *, threshold=0.1, transfer="soft", positive=False,
                 tau=1.0, dt=None, transform_max_iter=None, tol=_DEFAULT_TOL,
                 integrator="euler",
                 n_jobs=None):
        self.dictionary = dictionary
        self.threshold = threshold
        self.transfer = transfer
        self.positive = positive
        self.tau = tau
        self.dt = dt
        self.transform_max_iter = transform_max_iter
        self.tol = tol
        self.integrator = integrator
        self.n_jobs = n_jobs

    def _check_params(self, D, X):
        params = check_lca_params(self.threshold, self.transfer, self.positive, self.tau,
                                  self.dt, self.transform_max_iter, self.tol,
                                  self.integrator,
                                  self.n_jobs)
        check_width(X, D)
        return params

    def _encode(self, X, D, params):
        # the activations at the end of the dynamics
        return encode_lca(X, D.astype(X.dtype, copy=False), *params)[0]

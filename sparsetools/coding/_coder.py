"""SparseCoder: scikit-learn transformer that sparse-codes rows over a fixed dictionary."""
import numpy as np
from sklearn.base import BaseEstimator, ClassNamePrefixFeaturesOutMixin, TransformerMixin
from sklearn.utils.validation import validate_data

from sparsetools.coding._dispatch import check_coder, decode, run_coder
from sparsetools.utils._validation import check_array, check_width

__all__ = ["SparseCoder"]


class FixedDictionaryCoder(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base of the transformers that code rows over a fixed `dictionary`.

    `fit` only validates; `transform` codes with ``self._encode(X, D,
    params)`` where ``params = self._check_params(D, X)``; both are given by
    the subclass, which also holds the hyper-parameters.
    """

    def fit(self, X, y=None):
        """Validate the parameters and the width of `X`; nothing is learned.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data; only its width is used.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : object
            The estimator.
        """
        D = self._dictionary()
        X = validate_data(self, X, dtype=[np.float64, np.float32])
        self._check_params(D, X)
        self.n_components_ = D.shape[0]
        return self

    def transform(self, X):
        """Codes of the rows of `X`.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Data; float32 and float64 are kept, other dtypes become float64.

        Returns
        -------
        codes : ndarray of shape (n_samples, n_components)
            Dense codes in the dtype of `X`.
        """
        D = self._dictionary()
        X = validate_data(self, X, reset=False, dtype=[np.float64, np.float32],
                          order="C")
        return self._encode(X, D, self._check_params(D, X))

    def inverse_transform(self, X):
        """Reconstruct data from codes: ``X @ dictionary``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_components)
            Codes.

        Returns
        -------
        X_original : ndarray of shape (n_samples, n_features)
            Reconstructions in the dtype of the codes.
        """
        return decode(X, self._dictionary())

    def _dictionary(self):
        return check_array(self.dictionary, "dictionary",
                           shape_doc="(n_components, n_features)")

    @property
    def _n_features_out(self):
        return self._dictionary().shape[0]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.requires_fit = False
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags


class SparseCoder(FixedDictionaryCoder):
    """Sparse coding of rows over a fixed, precomputed dictionary.

    Each row ``x`` of the data becomes a sparse code ``a`` with
    ``x ~= a @ dictionary``. Nothing is learned: `fit` only validates, and
    `transform` works without it. Use it in a :class:`~sklearn.pipeline.Pipeline`
    ahead of a classifier.

    Parameters
    ----------
    dictionary : array-like of shape (n_components, n_features)
        The atoms, one per row (normally of unit norm). It is cast to the
        dtype of the data at transform time, so float32 data stays float32.
    algorithm : {"omp", "ormp", "lasso_lars", "lasso_cd", "fista", "threshold", \
            "lca"}, default="omp"
        Coding algorithm:

        - ``"omp"``, ``"ormp"``: classic Orthogonal Matching Pursuit or its
          order-recursive variant (:func:`sparsetools.orthogonal_mp`), with
          `n_nonzero_coefs` and `tol`;
        - ``"lasso_lars"``, ``"lasso_cd"``, ``"fista"``: the lasso codes,
          ``min_a 0.5 ||x - a D||^2 + alpha ||a||_1``, by the exact
          LARS-homotopy path, coordinate descent or FISTA
          (:func:`sparsetools.lasso` with ``method="lars"``, ``"cd"``,
          ``"fista"``), with `alpha`, `positive`, `transform_max_iter` and,
          for the last two, `tol`;
        - ``"threshold"``: soft-thresholded correlations with the atoms
          (:func:`sparsetools.threshold`), with `alpha` and `positive`;
        - ``"lca"``: the Locally Competitive Algorithm with the soft transfer
          and threshold `alpha`, integrated with the Nesterov scheme (its
          fixed point is the lasso code), with `positive`,
          `transform_max_iter` and `tol` (:func:`sparsetools.coding.lca`;
          :class:`sparsetools.coding.LCACoder` has every option).
    n_nonzero_coefs : int, default=None
        ``"omp"``, ``"ormp"``: maximum number of non-zero coefficients per
        code, in ``[1, n_components]``. None: ``max(int(0.1 * n_features), 1)``
        unless `tol` is set.
    tol : float, default=None
        ``"omp"``, ``"ormp"``: stop adding atoms once the squared residual is
        at most `tol`. ``"lasso_cd"``, ``"fista"``: the relative duality gap
        to reach (None: 1e-7). ``"lca"``: the relative change of the
        potentials per unit of time to reach (None: 1e-2).
    alpha : float, default=None
        The lasso algorithms: weight of the l1 penalty; ``"threshold"`` and
        ``"lca"``: the threshold. None means 1.0, as scikit-learn's
        ``transform_alpha``.
    positive : bool, default=False
        The lasso algorithms, ``"threshold"`` and ``"lca"``: non-negative codes.
    transform_max_iter : int, default=None
        The lasso algorithms and ``"lca"``: ``max_iter`` of
        :func:`sparsetools.lasso` or :func:`sparsetools.coding.lca`. Named
        as in scikit-learn's ``SparseCoder``: nothing iterates in `fit`.
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
    orthogonal_mp : The function behind ``algorithm="omp"`` and ``"ormp"``.
    lasso : The function behind the lasso algorithms.
    threshold : The function behind ``algorithm="threshold"``.
    sklearn.decomposition.SparseCoder : scikit-learn's coder (Python loop OMP).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.svm import LinearSVC
    >>> from sparsetools import SparseCoder
    >>> X, y = load_digits(return_X_y=True)
    >>> X = X / 16.0
    >>> rng = np.random.default_rng(0)
    >>> D = X[rng.choice(len(X), 100, replace=False)]
    >>> D = D / np.linalg.norm(D, axis=1, keepdims=True)
    >>> coder = SparseCoder(D, algorithm="ormp", n_nonzero_coefs=5)
    >>> coder.transform(X[:3]).shape
    (3, 100)
    >>> clf = make_pipeline(coder, LinearSVC()).fit(X[:1000], y[:1000])
    >>> bool(clf.score(X[1000:], y[1000:]) > 0.85)
    True
    """

    def __init__(self, dictionary, *, algorithm="omp", n_nonzero_coefs=None, tol=None,
                 alpha=None, positive=False, transform_max_iter=None, n_jobs=None):
        self.dictionary = dictionary
        self.algorithm = algorithm
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.alpha = alpha
        self.positive = positive
        self.transform_max_iter = transform_max_iter
        self.n_jobs = n_jobs

    def _check_params(self, D, X):
        """The checked coding plan (see sparsetools.coding._dispatch)."""
        plan = check_coder(self.algorithm, D.shape[0], D.shape[1],
                           n_nonzero_coefs=self.n_nonzero_coefs, tol=self.tol,
                           alpha=self.alpha, positive=self.positive,
                           max_iter=self.transform_max_iter, n_jobs=self.n_jobs)
        check_width(X, D)
        return plan

    def _encode(self, X, D, plan):
        return run_coder(plan, X, D)

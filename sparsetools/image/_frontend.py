"""TopTFrontend: the sparse-coding front end of paper 003 as a transformer."""
import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sparsetools.coding._topt import check_topt_params, encode_topt
from sparsetools.dictionary._learner import DictionaryLearner
from sparsetools.image._denoiser import _sample_patches
from sparsetools.image._layout import estimator_images
from sparsetools.image._patches import (
    _check_stride,
    _pair,
    _positions,
    extract_patches,
    reconstruct_from_patches,
)
from sparsetools.utils._threads import effective_n_threads
from sparsetools.utils._validation import check_array, check_float, check_int, check_option

__all__ = ["TopTFrontend"]


class TopTFrontend(TransformerMixin, BaseEstimator):
    """Top-T sign-quantised patch codes, the front end of paper 003.

    Every patch of an image (all channels; on a grid of `stride`, the last
    row and column touching the borders) is correlated with every atom of an
    overcomplete dictionary; the `n_top` largest correlations in magnitude
    are kept, and each becomes ``sign(c) * ||d_l||_1`` when ``|c| >= beta *
    epsilon * ||d_l||_1`` and 0 otherwise (eq. 3 of [1]_, in C; see
    :func:`sparsetools.coding.topt_codes`). An l-infinity perturbation of
    size `epsilon` moves a correlation by at most ``epsilon * ||d_l||_1``, so
    it cannot flip a kept coefficient. The codes of an image, ``m x m x L``
    for ``m x m`` patch positions and ``L`` atoms, are flattened into one row
    (position by position, then atom), ready for a linear classifier.

    `fit` learns the dictionary from (clean) training images with
    :class:`~sparsetools.DictionaryLearner` (online, lasso coding with
    `alpha`, the paper's eq. 2), unless a `dictionary` is given.

    Parameters
    ----------
    dictionary : array-like of shape (n_components, ph * pw * c), default=None
        Atoms as flattened patches (pixels row by row, then channels); None
        learns them in `fit`.
    n_components : int, default=500
        Atoms to learn (ignored with `dictionary`).
    patch_size : int or (int, int), default=(4, 4)
        Patch height and width.
    stride : int or (int, int), default=2
        Steps between patches, at most the patch size.
    n_top : int, default=15
        Coefficients kept per patch (T).
    beta : float, default=3.0
        Threshold in units of ``epsilon * ||d_l||_1``.
    epsilon : float, default=8/255
        The l-infinity budget the threshold is set against, in the units of
        the images.
    alpha : float, default=1.0
        Weight of the l1 penalty in dictionary learning.
    output : {"sparse", "dense"}, default="sparse"
        `transform` returns a scipy CSR array or a dense ndarray.
    image_shape : tuple of int, default=None
        ``(h, w)`` or ``(h, w, c)``: the input is rows of flattened images;
        None: image arrays (as `DictionaryDenoiser` takes them).
    color : bool, default=False
        Without `image_shape`: whether the last axis of the images holds
        channels.
    max_patches : int, default=100_000
        Most training patches, drawn at random.
    max_iter : int, default=10
        Epochs of dictionary learning.
    random_state : int, RandomState instance or None, default=None
        Patch sampling and dictionary learning.
    n_jobs : int, default=None
        Threads; None means 1, -1 all cores.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, ph * pw * c)
        The atoms.
    n_positions_ : int
        Patch positions per image of the size seen in `fit` (``m * m``).
    n_iter_ : int
        Epochs of dictionary learning run (0 with a given `dictionary`).
    n_features_in_ : int
        With `image_shape`: values per row.

    References
    ----------
    .. [1] S. Gopalakrishnan, Z. Marzi, U. Madhow and R. Pedarsani,
       "Combating adversarial attacks using sparse representations", 2018.

    Examples
    --------
    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.svm import LinearSVC
    >>> from sparsetools import TopTFrontend
    >>> X, y = load_digits(return_X_y=True)
    >>> front = TopTFrontend(n_components=64, patch_size=4, stride=2, n_top=5,
    ...                      epsilon=0.05, image_shape=(8, 8), max_iter=2,
    ...                      random_state=0)
    >>> codes = front.fit(X[:500] / 16).transform(X[:3] / 16)
    >>> codes.shape
    (3, 576)
    >>> bool((codes != 0).sum(axis=1).max() <= 9 * 5)
    True
    >>> clf = Pipeline([("front", front), ("svm", LinearSVC())])
    >>> bool(clf.fit(X[:1000] / 16, y[:1000]).score(X[1000:] / 16, y[1000:]) > 0.8)
    True
    """

    def __init__(self, dictionary=None, *, n_components=500, patch_size=(4, 4), stride=2,
                 n_top=15, beta=3.0, epsilon=8 / 255, alpha=1.0, output="sparse",
                 image_shape=None, color=False, max_patches=100_000, max_iter=10,
                 random_state=None, n_jobs=None):
        self.dictionary = dictionary
        self.n_components = n_components
        self.patch_size = patch_size
        self.stride = stride
        self.n_top = n_top
        self.beta = beta
        self.epsilon = epsilon
        self.alpha = alpha
        self.output = output
        self.image_shape = image_shape
        self.color = color
        self.max_patches = max_patches
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learn the dictionary from the patches of the images in `X` (or
        check the given one).

        Parameters
        ----------
        X : array-like
            Rows with `image_shape`, image arrays otherwise.
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : TopTFrontend
            The fitted estimator.
        """
        images, _ = estimator_images(self, X, reset=True)
        (ph, pw), stride = self._check_params(images)
        n_values = ph * pw * images.shape[3]
        if self.dictionary is not None:
            D = check_array(self.dictionary, "dictionary",
                            shape_doc="(n_components, ph * pw * c)")
            if D.shape[1] != n_values:
                raise ValueError(f"dictionary atoms have {D.shape[1]} values but patches of "
                                 f"size {(ph, pw)} with {images.shape[3]} channel(s) have "
                                 f"{n_values}.")
        else:
            n_components = check_int(self.n_components, "n_components", min_val=1)
            check_float(self.alpha, "alpha", min_val=0.0)
            rng = check_random_state(self.random_state)
            max_patches = check_int(self.max_patches, "max_patches", min_val=1)
            P = _sample_patches(images, ph, pw, max_patches, rng)
            learner = DictionaryLearner(n_components, coding="lasso", alpha=self.alpha,
                                        max_iter=check_int(self.max_iter, "max_iter",
                                                           min_val=1),
                                        random_state=rng, n_jobs=self.n_jobs).fit(P)
            D = learner.components_
        self.n_iter_ = 0 if self.dictionary is not None else learner.n_iter_
        check_topt_params(D.shape[0], self.n_top, self.beta, self.epsilon)
        self.components_ = D
        self._n_channels = images.shape[3]
        _, h, w, _ = images.shape
        self._image_hw = (h, w)
        self.n_positions_ = len(_positions(h, ph, stride[0])) * len(
            _positions(w, pw, stride[1]))
        return self

    def transform(self, X):
        """Top-T sign codes of the images in `X`.

        Parameters
        ----------
        X : array-like
            As in `fit`, with the channels seen in `fit`.

        Returns
        -------
        codes : scipy.sparse.csr_array or ndarray of shape (n_images, m * m * n_components)
            Position by position, then atom; values ``+-||d_l||_1``, at most
            `n_top` non-zeros per position.
        """
        check_is_fitted(self)
        images, _ = estimator_images(self, X, reset=False)
        (ph, pw), stride = self._check_params(images)
        if images.shape[3] != self._n_channels:
            raise ValueError(f"X has {images.shape[3]} channel(s) but the front end was "
                             f"fitted on {self._n_channels}.")
        D = self.components_.astype(images.dtype, copy=False)
        n_top, beta, epsilon = check_topt_params(D.shape[0], self.n_top, self.beta,
                                                 self.epsilon)
        P = extract_patches(images, (ph, pw), stride=stride, color=True)
        n = images.shape[0]
        per_image = P.shape[0] // n
        codes = encode_topt(np.ascontiguousarray(P.reshape(P.shape[0], -1)), D, n_top, beta,
                            epsilon, effective_n_threads(self.n_jobs))
        # rows of one image are consecutive: shift each row's atoms by its
        # position and merge the image's rows into one
        k = D.shape[0]
        position = np.repeat(np.arange(P.shape[0]) % per_image, np.diff(codes.indptr))
        indices = codes.indices + position * k
        indptr = codes.indptr[::per_image]
        # 32-bit indices when they fit, as scikit-learn's estimators require
        index_type = np.int32 if max(per_image * k, codes.nnz) < 2**31 else np.int64
        out = sp.csr_array((codes.data, indices.astype(index_type),
                            indptr.astype(index_type)), shape=(n, per_image * k))
        return out if self.output == "sparse" else out.toarray()

    def inverse_transform(self, X):
        """Images rebuilt from codes, for inspection: each position's code
        times the atoms, overlapping patches averaged.

        Parameters
        ----------
        X : array-like or sparse matrix of shape (n_images, m * m * n_components)
            Codes from `transform` of images of the size seen in `fit`.

        Returns
        -------
        images : ndarray
            ``(n_images, prod(image_shape))`` rows with `image_shape`, image
            arrays ``(n, h, w)`` / ``(n, h, w, c)`` otherwise.
        """
        check_is_fitted(self)
        codes = sp.csr_array(X) if sp.issparse(X) else sp.csr_array(
            check_array(X, "X", shape_doc="(n_images, m * m * n_components)"))
        k, n_values = self.components_.shape
        if codes.shape[1] % k != 0:
            raise ValueError(f"X has {codes.shape[1]} columns, not a multiple of the "
                             f"{k} atoms.")
        per_image = codes.shape[1] // k
        ph, pw = _pair(self.patch_size, "patch_size")
        stride = _check_stride(self.stride, ph, pw)
        c = self._n_channels
        patches = (codes.reshape((codes.shape[0] * per_image, k)) @ self.components_)
        shape = self._last_shape(per_image, ph, pw, stride)
        images = reconstruct_from_patches(
            np.asarray(patches).reshape(-1, ph, pw, c),
            (codes.shape[0],) + shape + (c,), stride=stride, color=True)
        if self.image_shape is not None:
            return images.reshape(codes.shape[0], -1)
        return images if self.color else images[..., 0]

    # -- internals -------------------------------------------------------
    def _check_params(self, images):
        ph, pw = _pair(self.patch_size, "patch_size")
        stride = _check_stride(self.stride, ph, pw)
        check_option(self.output, "output", ("sparse", "dense"))
        _, h, w, _ = images.shape
        if ph > h or pw > w:
            raise ValueError(f"patch_size {(ph, pw)} is larger than the images ({h}, {w}).")
        return (ph, pw), stride

    def _last_shape(self, per_image, ph, pw, stride):
        h, w = self._image_hw
        n = len(_positions(h, ph, stride[0])) * len(_positions(w, pw, stride[1]))
        if n != per_image:
            raise ValueError(f"X has codes of {per_image} patch positions but images of "
                             f"size {(h, w)} have {n}.")
        return (h, w)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = False
        return tags

"""ConvSparseCoder: the Sparse Transformation Layer of paper 004 as a transformer."""
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from sparsetools.convolutional._cbpdn import conv_bpdn, conv_reconstruct
from sparsetools.convolutional._learning import learn_conv_dictionary
from sparsetools.image._patches import _pair
from sparsetools.convolutional._tikhonov import tikhonov_split
from sparsetools.image._layout import estimator_images
from sparsetools.utils._validation import check_float, check_int

__all__ = ["ConvSparseCoder", "split", "project", "projections"]


def split(est, images):
    """Low-pass and high-pass parts of ``(n, h, w, c)`` images, for an
    estimator with `lowpass_reg` and `color`: ``(n, h, w[, c])`` each."""
    check_float(est.lowpass_reg, "lowpass_reg", min_val=0.0)
    low, high = tikhonov_split(images, est.lowpass_reg, color=True)
    return (low, high) if est.color else (low[..., 0], high[..., 0])


def project(est, images, filters):
    """Low-pass parts and CBPDN code maps of ``(n, h, w, c)`` images, with
    an estimator's `alpha`, `transform_max_iter`, `transform_tol`,
    `boundary` and `n_jobs`."""
    check_int(est.transform_max_iter, "transform_max_iter", min_val=1)
    low, high = split(est, images)
    codes = conv_bpdn(high, filters.astype(high.dtype), alpha=est.alpha,
                      max_iter=est.transform_max_iter, tol=est.transform_tol,
                      boundary=est.boundary, n_jobs=est.n_jobs)
    return low, codes


def projections(est, images, filters):
    """``low-pass + sum_i f_i * z_i`` of ``(n, h, w, c)`` images, as
    ``(n, h, w, c)``."""
    low, codes = project(est, images, filters)
    rec = conv_reconstruct(codes, filters.astype(codes.dtype), boundary=est.boundary,
                           n_jobs=est.n_jobs).reshape(low.shape)
    out = low + rec
    return out if est.color else out[..., None]


class ConvSparseCoder(TransformerMixin, BaseEstimator):
    """Project images onto the span of sparse convolutional codes (paper 004's
    Sparse Transformation Layer).

    ``fit`` learns convolutional filters from (clean) training images with
    :func:`learn_conv_dictionary`, on their high-pass part; ``transform``
    splits each image into low-pass and high-pass parts
    (:func:`tikhonov_split`), codes the high-pass part by CBPDN
    (:func:`conv_bpdn`) and returns ``low-pass + sum_i f_i * z_i``: the image
    projected onto the "quasi-natural" images the filters synthesise, which
    removes much of a small perturbation. :meth:`encode` returns the code maps.

    Parameters
    ----------
    n_filters : int, default=64
        Number of filters.
    filter_size : int or (int, int), default=8
        Filter height and width.
    alpha : float, default=0.2
        Weight of the l1 term, in learning and in ``transform``: larger gives
        sparser codes and smoother projections (paper 004, Fig. 5-6).
    lowpass_reg : float, default=5.0
        Smoothing of the low-pass part (``reg`` of :func:`tikhonov_split`).
    max_iter : int, default=200
        Mini-batches of dictionary learning.
    batch_size : int, default=8
        Tiles per mini-batch of dictionary learning.
    tile_size : int or (int, int), default=64
        Tiles cut from the training images for learning (at most their size).
    transform_max_iter : int, default=200
        ADMM iterations of CBPDN in ``transform`` and ``encode`` at most.
    transform_tol : float, default=1e-3
        Stopping tolerance of CBPDN (normalised residuals) in ``transform``.
    boundary : {"circular", "zero"}, default="circular"
        Boundary of the convolutions in ``transform`` (see :func:`conv_bpdn`).
    image_shape : tuple or None, default=None
        ``(h, w)`` or ``(h, w, c)``: read ``X`` as rows of flattened images
        (for a ``Pipeline`` on tabular data). None: ``X`` holds images.
    color : bool, default=False
        Whether images have a channel axis (last).
    random_state : int, RandomState or None, default=None
    n_jobs : int or None, default=None
        Threads (over images, or inside one image's FFTs and loops).

    Attributes
    ----------
    filters_ : ndarray of shape (n_filters, fh, fw) or (n_filters, fh, fw, c)
        Learned unit-norm filters.
    n_features_in_ : int
        With `image_shape`: the width of the rows.
    objective_ : ndarray of shape (max_iter,)
        Objective per tile of each learning mini-batch.
    n_iter_ : int
        Learning mini-batches run (``max_iter``).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools.convolutional import ConvSparseCoder
    >>> X = load_digits().data[:40] / 16.0
    >>> stl = ConvSparseCoder(n_filters=8, filter_size=3, alpha=0.05, max_iter=5,
    ...                       batch_size=4, image_shape=(8, 8), random_state=0).fit(X)
    >>> stl.filters_.shape
    (8, 3, 3)
    >>> stl.transform(X[:3]).shape
    (3, 64)
    """

    def __init__(self, n_filters=64, filter_size=8, alpha=0.2, *, lowpass_reg=5.0,
                 max_iter=200, batch_size=8, tile_size=64, transform_max_iter=200,
                 transform_tol=1e-3, boundary="circular", image_shape=None, color=False,
                 random_state=None, n_jobs=None):
        self.n_filters = n_filters
        self.filter_size = filter_size
        self.alpha = alpha
        self.lowpass_reg = lowpass_reg
        self.max_iter = max_iter
        self.batch_size = batch_size
        self.tile_size = tile_size
        self.transform_max_iter = transform_max_iter
        self.transform_tol = transform_tol
        self.boundary = boundary
        self.image_shape = image_shape
        self.color = color
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learn the filters from the high-pass part of the images of `X`.

        Parameters
        ----------
        X : array-like
            Images ``(n, h, w[, c])`` or rows ``(n, prod(image_shape))``.
        y : ignored

        Returns
        -------
        self : ConvSparseCoder
        """
        images, _ = estimator_images(self, X, reset=True)          # (n, h, w, c)
        fh, fw = _pair(self.filter_size, "filter_size")
        if fh > images.shape[1] or fw > images.shape[2]:
            raise ValueError(f"filter_size {(fh, fw)} is larger than the images "
                             f"{images.shape[1:3]}.")
        _, high = split(self, images)
        self.filters_, info = learn_conv_dictionary(
            high, n_filters=self.n_filters, filter_size=(fh, fw), alpha=self.alpha,
            max_iter=self.max_iter, batch_size=self.batch_size, tile_size=self.tile_size,
            color=bool(self.color), random_state=self.random_state, n_jobs=self.n_jobs,
            return_info=True)
        self.filters_ = self.filters_.astype(images.dtype)
        self.objective_ = info["objective"]
        self.n_iter_ = len(self.objective_)
        return self

    def _codes(self, X):
        check_is_fitted(self, "filters_")
        images, restore = estimator_images(self, X, reset=False)
        low, codes = project(self, images, self.filters_)
        return codes, low, restore

    def transform(self, X):
        """Project images: low-pass part plus the CBPDN synthesis of the rest.

        Parameters
        ----------
        X : array-like
            Images ``(n, h, w[, c])`` / ``(h, w[, c])`` or rows with
            `image_shape`.

        Returns
        -------
        X_new : ndarray
            The projections, in the layout and float dtype of `X`.
        """
        check_is_fitted(self, "filters_")
        images, restore = estimator_images(self, X, reset=False)
        return restore(projections(self, images, self.filters_))

    def encode(self, X):
        """Code maps of the high-pass part of the images of `X`.

        Returns
        -------
        codes : ndarray of shape (n, h, w, n_filters)
            (with ``boundary="zero"``, ``h + fh - 1`` by ``w + fw - 1``.)
        """
        codes, _, _ = self._codes(X)
        return codes

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

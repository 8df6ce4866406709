"""StratifiedConvSparseCoder: one small convolutional dictionary per cluster of
images, and a k-nearest-neighbour router (paper 004, sec. 3.5)."""
import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.cluster import KMeans
from sklearn.decomposition import PCA
from sklearn.neighbors import KNeighborsClassifier
from sklearn.utils.validation import check_is_fitted

from sparsetools.convolutional._coder import projections, split
from sparsetools.convolutional._learning import learn_conv_dictionary
from sparsetools.image._patches import _pair
from sparsetools.image._layout import estimator_images
from sparsetools.utils._validation import check_int

__all__ = ["StratifiedConvSparseCoder", "fit_routing", "restore_routing", "routing_features"]


def routing_features(images, size):
    """The values images are clustered and routed by: each image averaged
    down (anti-aliased) to ``size x size``, all channels, flattened.
    ``images``: ``(n, h, w, c)``."""
    from skimage.transform import resize

    n, c = images.shape[0], images.shape[3]
    small = resize(images.astype(np.float64), (n, size, size, c), order=1,
                   anti_aliasing=True, preserve_range=True)
    return small.reshape(n, -1)


def _routing_pca(est, raw):
    """The fitted PCA of the routing features and the reduced features."""
    n_comp = check_int(est.n_feature_components, "n_feature_components", min_val=1,
                       allow_none=True)
    limit = min(raw.shape[0], raw.shape[1])
    est.pca_ = PCA(n_components=limit if n_comp is None else min(n_comp, limit),
                   random_state=est.random_state).fit(raw)
    return est.pca_.transform(raw)


def _routing_router(est, feats, labels):
    n_neighbors = check_int(est.n_neighbors, "n_neighbors", min_val=1)
    est.labels_ = np.asarray(labels, dtype=np.intp)
    est.cluster_sizes_ = np.bincount(est.labels_, minlength=est.n_clusters)
    est.router_ = KNeighborsClassifier(n_neighbors=min(n_neighbors, feats.shape[0])).fit(
        feats, est.labels_)


def fit_routing(est, raw):
    """Fit a `StratifiedConvSparseCoder`'s routing on the raw features
    ``(n_train, n_values)`` of its training images (:func:`routing_features`):
    PCA, k-means with ``est.n_clusters`` clusters, and the k-nearest-neighbour
    router. Sets ``pca_``, ``kmeans_``, ``router_``, ``labels_``,
    ``cluster_sizes_`` and ``routing_features_``; returns ``labels_``."""
    n_clusters = check_int(est.n_clusters, "n_clusters", min_val=1)
    raw = np.asarray(raw, dtype=np.float64)
    if raw.shape[0] < n_clusters:
        raise ValueError(f"n_clusters={n_clusters} needs at least as many training images; "
                         f"got {raw.shape[0]}.")
    feats = _routing_pca(est, raw)
    est.kmeans_ = KMeans(n_clusters=n_clusters, n_init=10,
                         random_state=est.random_state).fit(feats)
    _routing_router(est, feats, est.kmeans_.labels_)
    est.routing_features_ = raw
    return est.labels_


def restore_routing(est, raw, labels):
    """Rebuild the routing of a saved model from its training images' raw
    features and cluster labels: the same PCA (refitted on the same
    features, so identical) and k-nearest-neighbour router as
    :func:`fit_routing` left, without the k-means model (``kmeans_`` is
    not restored; the labels are what routing needs)."""
    raw = np.asarray(raw, dtype=np.float64)
    labels = np.asarray(labels)
    if raw.ndim != 2 or labels.shape != (raw.shape[0],):
        raise ValueError(f"routing features {raw.shape} and labels {labels.shape} do not "
                         "match.")
    if labels.size and (labels.min() < 0 or labels.max() >= est.n_clusters):
        raise ValueError(f"cluster labels must lie in [0, {est.n_clusters}); got "
                         f"[{labels.min()}, {labels.max()}].")
    _routing_router(est, _routing_pca(est, raw), labels)
    est.routing_features_ = raw


class StratifiedConvSparseCoder(TransformerMixin, BaseEstimator):
    """Stratified Sparse Transformation Layer: cluster the training images,
    learn one convolutional dictionary per cluster, project each new image
    with the dictionary of the cluster its neighbours belong to.

    ``fit`` (on training images only):

    1. features: each image averaged down to ``feature_size x
       feature_size``, then PCA. Paper 004 clusters in the code space of a
       denoising autoencoder; this cheaper feature routes Gaussian-noised
       copies of digits to the same cluster as the clean images as often
       as the features of a linear denoising autoencoder do (the tests
       measure it);
    2. k-means with `n_clusters` clusters on those features;
    3. :func:`learn_conv_dictionary` on the high-pass parts of each cluster;
    4. a k-nearest-neighbour classifier from features to clusters.

    ``transform`` routes each image by the vote of its `n_neighbors` nearest
    training images and returns the projection with that cluster's filters
    (low-pass part + CBPDN synthesis, as :class:`ConvSparseCoder`).

    Parameters
    ----------
    n_clusters : int, default=4
    n_filters : int, default=32
        Filters per cluster.
    filter_size : int or (int, int), default=8
    alpha : float, default=0.2
        Weight of the l1 term, in learning and projecting.
    n_neighbors : int, default=5
        Training images that vote on the cluster of a new image.
    feature_size : int, default=8
        Side of the down-sampled image the routing features start from.
    n_feature_components : int or None, default=None
        PCA components of the features; None keeps them all (at most the
        number of images and of values).
    lowpass_reg : float, default=5.0
    max_iter : int, default=100
        Learning mini-batches per cluster.
    batch_size : int, default=8
    tile_size : int or (int, int), default=64
    transform_max_iter : int, default=200
    transform_tol : float, default=1e-3
    boundary : {"circular", "zero"}, default="circular"
    image_shape : tuple or None, default=None
    color : bool, default=False
    random_state : int or None, default=None
    n_jobs : int or None, default=None

    Attributes
    ----------
    filters_ : list of ndarray
        Per cluster, ``(n_filters, fh, fw[, c])``.
    labels_ : ndarray of shape (n_train,)
        Cluster of each training image.
    cluster_sizes_ : ndarray of shape (n_clusters,)
    pca_, kmeans_, router_ : fitted scikit-learn estimators
    routing_features_ : ndarray of shape (n_train, n_values)
        The training images' raw routing features (down-sampled images),
        kept so a saved model rebuilds the same router (see
        ``sparsetools learn --algorithm conv --n-clusters``).
    n_iter_ : int
        Learning mini-batches per cluster.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.datasets import load_digits
    >>> from sparsetools.convolutional import StratifiedConvSparseCoder
    >>> X = load_digits().data[:60] / 16.0
    >>> stl = StratifiedConvSparseCoder(n_clusters=2, n_filters=4, filter_size=3,
    ...                                 alpha=0.05, max_iter=3, batch_size=4,
    ...                                 image_shape=(8, 8), random_state=0).fit(X)
    >>> len(stl.filters_), stl.transform(X[:3]).shape
    (2, (3, 64))
    """

    def __init__(self, n_clusters=4, n_filters=32, filter_size=8, alpha=0.2, *, n_neighbors=5,
                 feature_size=8, n_feature_components=None, lowpass_reg=5.0, max_iter=100,
                 batch_size=8, tile_size=64, transform_max_iter=200, transform_tol=1e-3,
                 boundary="circular", image_shape=None, color=False, random_state=None,
                 n_jobs=None):
        self.n_clusters = n_clusters
        self.n_filters = n_filters
        self.filter_size = filter_size
        self.alpha = alpha
        self.n_neighbors = n_neighbors
        self.feature_size = feature_size
        self.n_feature_components = n_feature_components
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

    def _features(self, images):
        return self.pca_.transform(routing_features(images, self.feature_size))

    def fit(self, X, y=None):
        """Cluster the training images, learn a dictionary per cluster.

        Parameters
        ----------
        X : array-like
            Images ``(n, h, w[, c])`` or rows with `image_shape`.
        y : ignored

        Returns
        -------
        self : StratifiedConvSparseCoder
        """
        n_clusters = check_int(self.n_clusters, "n_clusters", min_val=1)
        check_int(self.n_neighbors, "n_neighbors", min_val=1)
        size = check_int(self.feature_size, "feature_size", min_val=1)
        check_int(self.n_feature_components, "n_feature_components", min_val=1,
                  allow_none=True)
        images, _ = estimator_images(self, X, reset=True)
        n = images.shape[0]
        if n < n_clusters:
            raise ValueError(f"n_clusters={n_clusters} needs at least as many training images; "
                             f"got {n}.")
        fh, fw = _pair(self.filter_size, "filter_size")
        if fh > images.shape[1] or fw > images.shape[2]:
            raise ValueError(f"filter_size {(fh, fw)} is larger than the images "
                             f"{images.shape[1:3]}.")
        _, high = split(self, images)
        fit_routing(self, routing_features(images, size))
        rng = np.random.RandomState(self.random_state) if not isinstance(
            self.random_state, np.random.RandomState) else self.random_state
        self.filters_ = []
        for c in range(self.n_clusters):
            members = high[self.labels_ == c]
            filters = learn_conv_dictionary(
                members, n_filters=self.n_filters, filter_size=(fh, fw), alpha=self.alpha,
                max_iter=self.max_iter, batch_size=self.batch_size, tile_size=self.tile_size,
                color=bool(self.color), random_state=rng.randint(2 ** 31 - 1),
                n_jobs=self.n_jobs)
            self.filters_.append(filters.astype(images.dtype))
        self.n_iter_ = check_int(self.max_iter, "max_iter", min_val=1)
        return self

    def predict_cluster(self, X):
        """The cluster each image of `X` is routed to (k-nearest-neighbour vote).

        Returns
        -------
        clusters : ndarray of shape (n_images,)
        """
        check_is_fitted(self, "filters_")
        images, _ = estimator_images(self, X, reset=False)
        return self.router_.predict(self._features(images))

    def transform(self, X):
        """Project each image with the dictionary of its cluster.

        Parameters
        ----------
        X : array-like
            Images or rows with `image_shape`.

        Returns
        -------
        X_new : ndarray
            The projections, in the layout and float dtype of `X`.
        """
        check_is_fitted(self, "filters_")
        images, restore = estimator_images(self, X, reset=False)
        routes = self.router_.predict(self._features(images))
        out = np.empty_like(images)
        for c in np.unique(routes):
            idx = np.flatnonzero(routes == c)
            out[idx] = projections(self, images[idx], self.filters_[c])
        return restore(out)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

"""DictionaryDenoiser: learn a patch dictionary, denoise images by sparse coding."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted

from sparsetools.dictionary._learner import DictionaryLearner
from sparsetools.image._denoise import (
    _denoise,
    patch_coding_plan,
    remove_patch_means,
)
from sparsetools.image._layout import estimator_images
from sparsetools.image._patches import _check_stride, _pair, extract_patches
from sparsetools.utils._validation import check_bool, check_array, check_int

__all__ = ["DictionaryDenoiser"]


class DictionaryDenoiser(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Denoise images with a dictionary of patches learned from images.

    `fit` samples patches from training images (clean or noisy), removes
    each patch's mean, and learns a dictionary with
    :class:`~sparsetools.DictionaryLearner`; `transform` codes every
    overlapping patch of each image by OMP over it and averages the
    reconstructions (:func:`~sparsetools.image.denoise_sparse`). With
    `sigma`, OMP stops once a patch's squared residual is below what the
    noise alone would leave (``64 (1.15 sigma)^2`` for 8x8 gray patches), in
    learning and in denoising, as in K-SVD denoising (Elad & Aharon, 2006); fit and transform on the same
    noisy images to denoise them with a dictionary learned from themselves.

    Takes either flattened rows plus `image_shape` (so it sits in a
    scikit-learn `Pipeline` on data such as the digits), or image arrays:
    ``(h, w)`` one gray image or ``(n, h, w)`` gray images, and with `color`
    ``(h, w, c)`` or ``(n, h, w, c)``. It returns the layout it got.

    Parameters
    ----------
    patch_size : int or (int, int), default=(8, 8)
        Patch height and width, at most the images'.
    stride : int or (int, int), default=1
        Steps between the patches that `transform` codes (at most the patch
        size; the last row and column of patches touch the borders). Larger
        strides are faster and a little less accurate.
    n_components : int, default=256
        Atoms in the dictionary.
    algorithm : {"online", "ksvd", "mod"}, default="online"
        Dictionary learning algorithm (see `DictionaryLearner`).
    n_nonzero_coefs : int, default=None
        Most atoms per patch. None: half the patch's values with `sigma`, no
        limit with `tol`, a tenth of them otherwise.
    tol : float, default=None
        OMP tolerance on the squared residual of each patch. Exclusive with
        `sigma`.
    sigma : float, default=None
        Standard deviation of the noise, in the units of the data; sets the
        tolerance as above.
    image_shape : tuple of int, default=None
        ``(h, w)`` or ``(h, w, c)``: the input is rows of flattened images of
        this shape (row-major, channels last). None: the input is image
        arrays.
    color : bool, default=False
        Without `image_shape`: whether the last axis of the images holds
        channels. With `image_shape`, its length says so and `color` must
        agree.
    remove_mean : bool, default=True
        Learn and code patches without their mean (per channel), added back
        after.
    max_patches : int, default=100_000
        Most training patches, drawn at random from all the overlapping
        patches of the training images.
    max_iter : int, default=10
        Epochs (``"online"``) or iterations (``"ksvd"``, ``"mod"``) of
        dictionary learning.
    random_state : int, RandomState instance or None, default=None
        Patch sampling and dictionary learning.
    n_jobs : int, default=None
        Threads for coding; None means 1, -1 all cores.

    Attributes
    ----------
    components_ : ndarray of shape (n_components, ph * pw * c)
        The learned atoms, unit norm, as flattened patches.
    learner_ : DictionaryLearner or None
        The fitted learner (its `error_` is the learning objective trace);
        None for a denoiser loaded from a model file.
    n_iter_ : int
        Epochs or iterations of dictionary learning run.
    n_features_in_ : int
        With `image_shape`: values per row.

    See Also
    --------
    sparsetools.image.denoise_sparse : The denoising step, for a given
        dictionary.
    DictionaryLearner : The dictionary learning.

    References
    ----------
    .. [1] M. Elad and M. Aharon, "Image denoising via sparse and redundant
       representations over learned dictionaries", IEEE Trans. Image
       Processing 15(12), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from skimage import data
    >>> from sparsetools import DictionaryDenoiser
    >>> from sparsetools.metrics import psnr
    >>> clean = data.camera()[:128, :128] / 255.0
    >>> noisy = clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)
    >>> den = DictionaryDenoiser(n_components=64, sigma=0.1, max_iter=2,
    ...                          random_state=0)
    >>> out = den.fit_transform(noisy)
    >>> out.shape
    (128, 128)
    >>> bool(psnr(clean, out) > psnr(clean, noisy) + 6)
    True

    In a Pipeline, on flattened 8x8 digits:

    >>> from sklearn.datasets import load_digits
    >>> from sklearn.pipeline import Pipeline
    >>> from sklearn.svm import LinearSVC
    >>> X, y = load_digits(return_X_y=True)
    >>> clf = Pipeline([("dict", DictionaryDenoiser(image_shape=(8, 8), n_components=64,
    ...                                             max_iter=2, random_state=0)),
    ...                 ("svm", LinearSVC())]).fit(X[:1000] / 16, y[:1000])
    >>> bool(clf.score(X[1000:] / 16, y[1000:]) > 0.85)
    True
    """

    def __init__(self, *, patch_size=(8, 8), stride=1, n_components=256, algorithm="online",
                 n_nonzero_coefs=None, tol=None, sigma=None, image_shape=None,
                 color=False, remove_mean=True, max_patches=100_000, max_iter=10, random_state=None,
                 n_jobs=None):
        self.patch_size = patch_size
        self.stride = stride
        self.n_components = n_components
        self.algorithm = algorithm
        self.n_nonzero_coefs = n_nonzero_coefs
        self.tol = tol
        self.sigma = sigma
        self.image_shape = image_shape
        self.color = color
        self.remove_mean = remove_mean
        self.max_patches = max_patches
        self.max_iter = max_iter
        self.random_state = random_state
        self.n_jobs = n_jobs

    def fit(self, X, y=None):
        """Learn the patch dictionary from the images in `X`.

        Parameters
        ----------
        X : array-like
            Rows of shape ``(n_samples, prod(image_shape))`` with
            `image_shape`, image arrays otherwise (see the class docstring).
        y : Ignored
            Not used, present for API consistency.

        Returns
        -------
        self : DictionaryDenoiser
            The fitted estimator.
        """
        images, _ = self._images(X, reset=True)
        ph, pw = self._check_params(images)[0]
        rng = check_random_state(self.random_state)
        P = _sample_patches(images, ph, pw, self._max_patches, rng)
        return self._fit_patches(P, images.shape[3], rng)

    def fit_patches(self, patches, n_channels=1):
        """Learn the dictionary from patches sampled elsewhere.

        For training sets that are not one array: images of different sizes,
        or a folder too large to hold in memory, from which the caller
        samples patches itself. Means are removed here (with
        `remove_mean`), as in `fit`; `max_patches` does not apply.

        Parameters
        ----------
        patches : array-like of shape (n_patches, ph * pw * n_channels)
            Flattened patches of size `patch_size` (pixels row by row, then
            channels), as :func:`~sparsetools.image.extract_patches` gives
            them once reshaped.
        n_channels : int, default=1
            Channels per pixel.

        Returns
        -------
        self : DictionaryDenoiser
            The fitted estimator; `transform` then takes image arrays.
        """
        n_channels = check_int(n_channels, "n_channels", min_val=1)
        ph, pw = _pair(self.patch_size, "patch_size")
        P = check_array(patches, "patches", shape_doc="(n_patches, ph * pw * n_channels)")
        if P.shape[1] != ph * pw * n_channels:
            raise ValueError(
                f"patches have {P.shape[1]} values but patch_size {(ph, pw)} with "
                f"{n_channels} channel(s) needs {ph * pw * n_channels}.")
        P = P.copy()
        return self._fit_patches(P, n_channels, check_random_state(self.random_state))

    def transform(self, X):
        """Denoise the images in `X`.

        Parameters
        ----------
        X : array-like
            As in `fit`: rows with `image_shape`, image arrays otherwise, of
            the channels seen in `fit` (image sizes may differ).

        Returns
        -------
        X_denoised : ndarray of the shape of `X`
            float32 for float32 input, float64 otherwise.
        """
        check_is_fitted(self)
        images, restore = self._images(X, reset=False)
        (ph, pw), stride, _ = self._check_params(images)
        if ph * pw * images.shape[3] != self._n_values:
            raise ValueError(
                f"X has {images.shape[3]} channel(s) but the denoiser was fitted on "
                f"{self._n_values // (ph * pw)}.")
        D = self.components_.astype(images.dtype, copy=False)
        plan, _ = patch_coding_plan(D.shape[0], D.shape[1], sigma=self.sigma, tol=self.tol,
                                    n_nonzero_coefs=self.n_nonzero_coefs,
                                    n_means=images.shape[3] if self.remove_mean else 0,
                                    n_jobs=self.n_jobs)
        return restore(_denoise(images, D, (ph, pw), stride, plan, self.remove_mean))

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.transformer_tags.preserves_dtype = ["float64", "float32"]
        return tags

    # -- internals -------------------------------------------------------
    def _set_dictionary(self, components, n_iter=0):
        """Make this a fitted denoiser over `components` (atoms as flattened
        patches), as when it is loaded from a model file; `learner_` is None."""
        ph, pw = _pair(self.patch_size, "patch_size")
        D = check_array(components, "components", shape_doc="(n_components, n_values)")
        if D.shape[1] % (ph * pw) != 0:
            raise ValueError(f"components have {D.shape[1]} values per atom, not a "
                             f"multiple of the patch size {(ph, pw)}.")
        self.components_ = D
        self.n_iter_ = int(n_iter)
        self.learner_ = None
        self._n_values = D.shape[1]
        return self

    def _fit_patches(self, P, n_channels, rng):
        """Learn from flattened patches P (modified in place)."""
        plan_params = self._coding_params(P.shape[1], n_channels)
        if self.remove_mean:
            remove_patch_means(P, n_channels)
        n_nonzero_coefs, coding_tol = plan_params
        self.learner_ = DictionaryLearner(
            self.n_components, algorithm=self.algorithm, coding="omp",
            n_nonzero_coefs=n_nonzero_coefs, coding_tol=coding_tol,
            max_iter=self.max_iter, random_state=rng, n_jobs=self.n_jobs).fit(P)
        self.components_ = self.learner_.components_
        self.n_iter_ = self.learner_.n_iter_
        self._n_values = P.shape[1]
        return self

    @property
    def _max_patches(self):
        return check_int(self.max_patches, "max_patches", min_val=1)

    def _check_params(self, images):
        """Patch size and stride as pairs, and the coding (n_nonzero_coefs, tol)."""
        ph, pw = _pair(self.patch_size, "patch_size")
        stride = _check_stride(self.stride, ph, pw)
        _, h, w, c = images.shape
        if ph > h or pw > w:
            raise ValueError(f"patch_size {(ph, pw)} is larger than the images ({h}, {w}).")
        return (ph, pw), stride, self._coding_params(ph * pw * c, c)

    def _coding_params(self, n_values, n_channels):
        """The checked OMP coding (n_nonzero_coefs, tol) of patches of
        `n_values` values."""
        check_int(self.n_components, "n_components", min_val=1)
        check_int(self.max_iter, "max_iter", min_val=1)
        check_bool(self.remove_mean, "remove_mean")
        plan, tol = patch_coding_plan(self.n_components, n_values, sigma=self.sigma,
                                      tol=self.tol, n_nonzero_coefs=self.n_nonzero_coefs,
                                      n_means=n_channels if self.remove_mean else 0,
                                      n_jobs=self.n_jobs)
        return plan[1][0], tol

    def _images(self, X, *, reset):
        return estimator_images(self, X, reset=reset)


def _sample_patches(images, ph, pw, max_patches, rng):
    """At most `max_patches` distinct overlapping patches of (n, h, w, c)
    images, drawn at random when there are more, as rows."""
    n, h, w, c = images.shape
    ny, nx = h - ph + 1, w - pw + 1
    total = n * ny * nx
    if total <= max_patches:
        P = extract_patches(images, (ph, pw), color=True)
    else:
        gen = np.random.default_rng(rng.randint(np.iinfo(np.int32).max))
        idx = np.sort(gen.choice(total, max_patches, replace=False))
        i, rest = np.divmod(idx, ny * nx)
        y, x = np.divmod(rest, nx)
        windows = sliding_window_view(images, (ph, pw, c), axis=(1, 2, 3))[:, :, :, 0]
        P = windows[i, y, x]
    return np.ascontiguousarray(P.reshape(P.shape[0], -1))

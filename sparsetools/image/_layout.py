"""The input layouts of the image estimators: rows plus `image_shape`, or arrays."""
import numpy as np
from sklearn.utils.validation import validate_data

from sparsetools.image._denoise import _as_images
from sparsetools.utils._validation import check_bool, check_int

__all__ = ["estimator_images"]


def _checked_image_shape(shape):
    if not isinstance(shape, (tuple, list)) or len(shape) not in (2, 3):
        raise ValueError(f"image_shape must be None, (h, w) or (h, w, c); got {shape!r}.")
    return tuple(check_int(s, "image_shape", min_val=1) for s in shape)


def estimator_images(estimator, X, *, reset):
    """(n, h, w, c) images from the input of an image estimator, and a
    function that returns per-image results in the layout of X.

    The estimator's `image_shape` (None, ``(h, w)`` or ``(h, w, c)``) and
    `color` say how to read X: rows of flattened images (validated with
    scikit-learn's ``validate_data``, so ``n_features_in_`` is kept), or
    image arrays ``(h, w)`` / ``(n, h, w)``, with `color` ``(h, w, c)`` /
    ``(n, h, w, c)``.
    """
    color = estimator.color
    check_bool(color, "color")
    if estimator.image_shape is None:
        images, single = _as_images(X, color)
        return images, lambda out: (out[0] if single else out)[
            ..., slice(None) if color else 0]
    shape = _checked_image_shape(estimator.image_shape)
    if color and len(shape) != 3:
        raise ValueError(f"color=True needs image_shape (h, w, c); got {shape}.")
    X = validate_data(estimator, X, reset=reset, dtype=[np.float64, np.float32], order="C")
    if X.shape[1] != int(np.prod(shape)):
        raise ValueError(f"X has {X.shape[1]} features per row but image_shape {shape} "
                         f"needs {int(np.prod(shape))}.")
    images = X.reshape((X.shape[0],) + shape + ((1,) if len(shape) == 2 else ()))
    return images, lambda out: out.reshape(X.shape)

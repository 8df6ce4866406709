"""Shapes of convolutional problems: images, filters and code maps.

Internally an image is ``(n_channels, h, w)`` and a set of filters
``(n_channels, n_filters, fh, fw)``; the public layouts (channels last) are
converted here and nowhere else.
"""
import numpy as np

from sparsetools.image._denoise import _as_images
from sparsetools.utils._validation import check_array, check_option, float_dtype

__all__ = ["check_filters", "check_images", "check_boundary", "codes_out", "padded_shape"]

BOUNDARIES = ("circular", "zero")


def check_filters(filters):
    """Filters ``(n_filters, fh, fw)`` or ``(n_filters, fh, fw, c)`` as
    ``(c, n_filters, fh, fw)`` float, and whether they carry a channel axis."""
    ndim = np.ndim(filters)
    if ndim not in (3, 4):
        raise ValueError("filters must have shape (n_filters, fh, fw) or (n_filters, fh, fw, c); "
                         f"got shape {np.shape(filters)}.")
    arr = check_array(filters, "filters", ndim=ndim,
                      shape_doc="(n_filters, fh, fw) or (n_filters, fh, fw, c)")
    color = ndim == 4
    if not color:
        arr = arr[..., None]
    return np.ascontiguousarray(arr.transpose(3, 0, 1, 2)), color


def check_images(images, n_channels, color):
    """Images as ``(n, n_channels, h, w)`` float, and whether one image was given.

    Gray filters take ``(h, w)`` or ``(n, h, w)``; filters with ``c``
    channels take ``(h, w, c)`` or ``(n, h, w, c)``.
    """
    if np.ndim(images) - (1 if color else 0) not in (2, 3):
        expected = "(h, w, c) or (n, h, w, c)" if color else "(h, w) or (n, h, w)"
        raise ValueError(f"images must have shape {expected} for "
                         f"{'multi-channel' if color else 'single-channel'} filters; got "
                         f"shape {np.shape(images)}.")
    arr, single = _as_images(images, color)                  # (n, h, w, c)
    if arr.shape[-1] != n_channels:
        raise ValueError(f"images have {arr.shape[-1]} channels but the filters have "
                         f"{n_channels}; they must match.")
    return np.ascontiguousarray(arr.transpose(0, 3, 1, 2)), single


def check_boundary(boundary):
    return check_option(boundary, "boundary", BOUNDARIES)


def padded_shape(image_hw, filter_hw, boundary):
    """The grid the circular problem lives on: the image's, or with
    ``boundary="zero"`` the image grown by ``filter size - 1`` so that no
    filter wraps around into the image."""
    if boundary == "zero":
        return (image_hw[0] + filter_hw[0] - 1, image_hw[1] + filter_hw[1] - 1)
    return tuple(image_hw)


def check_fits(image_hw, filter_hw):
    if filter_hw[0] > image_hw[0] or filter_hw[1] > image_hw[1]:
        raise ValueError(f"filters of size {tuple(filter_hw)} are larger than the images "
                         f"({tuple(image_hw)}); every filter must fit inside an image.")


def common_dtype(*arrays):
    """The arrays in one float dtype (the dtype policy of :func:`float_dtype`)."""
    dtype = float_dtype(*(a.dtype for a in arrays))
    return [a.astype(dtype, copy=False) for a in arrays]


def codes_out(codes, single):
    """``(n, n_filters, h, w)`` maps to the public ``(n, h, w, n_filters)``
    (or ``(h, w, n_filters)`` for one image)."""
    out = np.ascontiguousarray(codes.transpose(0, 2, 3, 1))
    return out[0] if single else out


def codes_in(codes, n_filters, single_ok=True):
    """Public code maps ``(h, w, n_filters)`` or ``(n, h, w, n_filters)`` as
    ``(n, n_filters, h, w)``, and whether one image was given."""
    ndim = np.ndim(codes)
    if ndim not in (3, 4):
        raise ValueError("codes must have shape (h, w, n_filters) or (n, h, w, n_filters); got "
                         f"shape {np.shape(codes)}.")
    arr = check_array(codes, "codes", ndim=ndim, shape_doc="(n, h, w, n_filters)")
    single = ndim == 3
    if single:
        arr = arr[None]
    if arr.shape[-1] != n_filters:
        raise ValueError(f"codes have {arr.shape[-1]} maps but there are {n_filters} filters; "
                         "they must match.")
    return np.ascontiguousarray(arr.transpose(0, 3, 1, 2)), single

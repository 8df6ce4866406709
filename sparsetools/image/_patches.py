"""Overlapping patches of gray or color image batches, with strides, and back."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sparsetools.utils._validation import check_bool, check_int

__all__ = ["extract_patches", "reconstruct_from_patches"]


def _pair(value, name):
    """(a, b) from an int or a pair of ints, each >= 1."""
    if isinstance(value, (tuple, list, np.ndarray)):
        if len(value) != 2:
            raise ValueError(f"{name} must be an int or a pair of ints; got {value!r}.")
        return tuple(check_int(v, name, min_val=1) for v in value)
    v = check_int(value, name, min_val=1)
    return v, v


def _check_stride(stride, ph, pw):
    """The stride as a pair, at most the patch size so every pixel is covered."""
    sh, sw = _pair(stride, "stride")
    if sh > ph or sw > pw:
        raise ValueError(f"stride {(sh, sw)} must be at most patch_size {(ph, pw)}, so "
                         "that every pixel is in a patch.")
    return sh, sw


def _positions(size, patch, step):
    """Top-left corners along one axis: every `step`, plus the last one so
    that every pixel is covered."""
    last = size - patch
    pos = np.arange(0, last + 1, step, dtype=np.intp)
    if pos[-1] != last:
        pos = np.append(pos, np.intp(last))
    return pos


def _coverage(pos, patch, size):
    """How many patches starting at `pos` cover each pixel of an axis."""
    diff = np.zeros(size + 1, dtype=np.intp)
    np.add.at(diff, pos, 1)
    np.add.at(diff, pos + patch, -1)
    return np.cumsum(diff[:-1])


def _axis_parts(pos, step):
    """[(target, source)] slices along one axis: the regular grid as a strided
    slice, then the extra last position (see _positions) if there is one."""
    n_regular = len(pos) if len(pos) == 1 or pos[-1] - pos[-2] == step else len(pos) - 1
    parts = [(slice(0, step * (n_regular - 1) + 1, step), slice(0, n_regular))]
    if n_regular < len(pos):
        parts.append((slice(int(pos[-1]), int(pos[-1]) + 1), slice(n_regular, n_regular + 1)))
    return parts


def _layout(shape, color, name):
    """(n, h, w, c, batch) for an image array shape under the `color` flag."""
    check_bool(color, "color")
    spatial = len(shape) - (1 if color else 0)
    if spatial not in (2, 3):
        expected = "(h, w, c) or (n, h, w, c)" if color else "(h, w) or (n, h, w)"
        raise ValueError(f"{name} must have shape {expected} (color={color}); got "
                         f"{tuple(shape)}.")
    batch = spatial == 3
    n = shape[0] if batch else 1
    h, w = shape[int(batch)], shape[int(batch) + 1]
    c = shape[-1] if color else 1
    return n, h, w, c, batch


def extract_patches(images, patch_size, *, stride=1, color=False):
    """All patches of an image or a batch of images, on a grid of strides.

    Patches start every `stride` pixels, and the last row and column of
    patches always touch the bottom and right borders, so every pixel is in
    at least one patch. With ``stride=1`` this is scikit-learn's
    ``extract_patches_2d`` for each image, in the same order.

    Parameters
    ----------
    images : array-like
        A gray image ``(h, w)``, a batch ``(n, h, w)``, or with `color` a
        color image ``(h, w, c)`` or batch ``(n, h, w, c)``.
    patch_size : int or (int, int)
        Patch height and width, at most the image's.
    stride : int or (int, int), default=1
        Steps between patches, vertically and horizontally, at most the
        patch size.
    color : bool, default=False
        Whether the last axis holds channels.

    Returns
    -------
    patches : ndarray of shape (n_patches, ph, pw) or (n_patches, ph, pw, c)
        Image by image, then row by row. float32 and float64 are kept; other
        dtypes become float64.

    See Also
    --------
    reconstruct_from_patches : Images back from (processed) patches.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.image import extract_patches
    >>> img = np.arange(25.0).reshape(5, 5)
    >>> P = extract_patches(img, 3, stride=2)
    >>> P.shape
    (4, 3, 3)
    >>> P[1]
    array([[ 2.,  3.,  4.],
           [ 7.,  8.,  9.],
           [12., 13., 14.]])
    """
    arr = np.asarray(images)
    if arr.dtype.kind not in "biuf":
        raise TypeError(f"images must hold real numbers; got dtype {arr.dtype}.")
    if arr.dtype not in (np.float32, np.float64):
        arr = arr.astype(np.float64)
    n, h, w, c, _ = _layout(arr.shape, color, "images")
    ph, pw = _pair(patch_size, "patch_size")
    sh, sw = _check_stride(stride, ph, pw)
    if ph > h or pw > w:
        raise ValueError(f"patch_size {(ph, pw)} is larger than the images ({h}, {w}).")
    if n == 0:
        raise ValueError("images is an empty batch.")
    arr = arr.reshape(n, h, w, c)
    # (n, y, x, ph, pw, c): the innermost axes stay contiguous for the copy
    windows = sliding_window_view(arr, (ph, pw, c), axis=(1, 2, 3))[:, :, :, 0]
    ys, xs = _positions(h, ph, sh), _positions(w, pw, sw)
    grid = np.empty((n, len(ys), len(xs), ph, pw, c), dtype=arr.dtype)
    # the regular grid as strided views, the extra last row / column apart
    for src_y, dst_y in _axis_parts(ys, sh):
        for src_x, dst_x in _axis_parts(xs, sw):
            grid[:, dst_y, dst_x] = windows[:, src_y, src_x]
    patches = grid.reshape(n * len(ys) * len(xs), ph, pw, c)
    return patches if color else patches[..., 0]


def reconstruct_from_patches(patches, image_shape, *, stride=1, color=False):
    """Images from their patches, averaging where patches overlap.

    The inverse of :func:`extract_patches` with the same `stride` and
    `color`: every pixel is the mean of the patch values that cover it, so
    unmodified patches give the images back exactly. The patches are summed
    into place by a compiled (Numba) loop.

    Parameters
    ----------
    patches : array-like of shape (n_patches, ph, pw) or (n_patches, ph, pw, c)
        Patches in the order :func:`extract_patches` returns them.
    image_shape : tuple of int
        Shape of the images: ``(h, w)``, ``(n, h, w)``, or with `color`
        ``(h, w, c)``, ``(n, h, w, c)``.
    stride : int or (int, int), default=1
        The stride the patches were extracted with.
    color : bool, default=False
        Whether the last axis holds channels.

    Returns
    -------
    images : ndarray of shape image_shape
        float32 if the patches are float32, float64 otherwise.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.image import extract_patches, reconstruct_from_patches
    >>> img = np.random.default_rng(0).random((2, 9, 7))
    >>> P = extract_patches(img, (4, 3), stride=2)
    >>> bool(np.allclose(reconstruct_from_patches(P, img.shape, stride=2), img))
    True
    """
    P = np.asarray(patches)
    if P.dtype.kind not in "biuf":
        raise TypeError(f"patches must hold real numbers; got dtype {P.dtype}.")
    if P.dtype not in (np.float32, np.float64):
        P = P.astype(np.float64)
    shape = tuple(check_int(s, "image_shape", min_val=1) for s in image_shape)
    n, h, w, c, _ = _layout(shape, color, "image_shape")
    expected_ndim = 4 if color else 3
    if P.ndim != expected_ndim:
        raise ValueError(f"patches must have {expected_ndim} dimensions "
                         f"(n_patches, ph, pw{', c' if color else ''}); got shape {P.shape}.")
    ph, pw = P.shape[1], P.shape[2]
    if ph > h or pw > w:
        raise ValueError(f"patches of size {(ph, pw)} do not fit images of size {(h, w)}.")
    if color and P.shape[3] != c:
        raise ValueError(f"patches have {P.shape[3]} channels but image_shape has {c}.")
    sh, sw = _check_stride(stride, ph, pw)
    ys, xs = _positions(h, ph, sh), _positions(w, pw, sw)
    if P.shape[0] != n * len(ys) * len(xs):
        raise ValueError(
            f"{P.shape[0]} patches do not match image_shape {shape} with stride "
            f"{(sh, sw)}: expected {n * len(ys) * len(xs)}.")
    from sparsetools._numba._patches import add_patches  # numba loads on first use

    P = np.ascontiguousarray(P.reshape(n, len(ys), len(xs), ph, pw, c))
    out = np.zeros((n, h, w, c), dtype=P.dtype)
    add_patches(P, ys, xs, out)
    out /= np.multiply.outer(_coverage(ys, ph, h), _coverage(xs, pw, w))[None, :, :, None]
    return out.reshape(shape)

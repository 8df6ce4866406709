"""PSNR and SSIM for single images and batches of images, gray or color."""
import numpy as np
from scipy.ndimage import uniform_filter

from sparsetools.utils._validation import check_bool, check_float, check_int

__all__ = ["psnr", "ssim"]


def _check_pair(reference, test, color):
    """Validated float64 arrays laid out as (n, h, w, c) and whether it was a batch."""
    check_bool(color, "color")
    arrays = []
    for name, a in (("reference", reference), ("test", test)):
        arr = np.asarray(a)
        if arr.dtype.kind not in "biuf":
            raise TypeError(f"{name} must hold real numbers; got dtype {arr.dtype}.")
        arr = arr.astype(np.float64, copy=False)
        if not np.all(np.isfinite(arr)):
            raise ValueError(f"{name} contains NaN or infinity.")
        arrays.append(arr)
    ref, tst = arrays
    if ref.shape != tst.shape:
        raise ValueError(f"reference and test must have the same shape; got {ref.shape} "
                         f"and {tst.shape}.")
    spatial = ref.ndim - (1 if color else 0)
    if spatial not in (2, 3):
        expected = "(h, w, c) or (n, h, w, c)" if color else "(h, w) or (n, h, w)"
        raise ValueError(f"reference must have shape {expected} (color={color}); got "
                         f"{ref.shape}.")
    batch = spatial == 3
    if not batch:
        ref, tst = ref[None], tst[None]
    if not color:
        ref, tst = ref[..., None], tst[..., None]
    if ref.size == 0:
        raise ValueError(f"reference is empty (shape {np.shape(reference)}).")
    return ref, tst, batch


def psnr(reference, test, *, data_range=1.0, color=False):
    """Peak signal-to-noise ratio, in dB, of `test` against `reference`.

    ``10 * log10(data_range**2 / mse)`` per image, as
    :func:`skimage.metrics.peak_signal_noise_ratio`; ``inf`` for identical
    images.

    Parameters
    ----------
    reference, test : array-like
        A gray image ``(h, w)``, a batch ``(n, h, w)``, or with `color` a
        color image ``(h, w, c)`` or batch ``(n, h, w, c)``; same shapes.
    data_range : float, default=1.0
        Range of the pixel values (1.0 for images in [0, 1], 255 for 8-bit).
    color : bool, default=False
        Whether the last axis holds channels.

    Returns
    -------
    psnr : float or ndarray of shape (n,)
        One value per image; a float for a single image.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.metrics import psnr
    >>> ref = np.zeros((4, 4))
    >>> round(psnr(ref, ref + 0.1), 6)
    20.0
    >>> psnr(np.zeros((2, 4, 4)), np.full((2, 4, 4), 0.01)).round(6)
    array([40., 40.])
    """
    data_range = check_float(data_range, "data_range", min_val=0.0)
    if data_range == 0:
        raise ValueError("data_range must be > 0; got 0.0.")
    ref, tst, batch = _check_pair(reference, test, color)
    mse = np.mean((ref - tst) ** 2, axis=(1, 2, 3))
    with np.errstate(divide="ignore"):
        out = 10 * np.log10(data_range ** 2 / mse)
    return out if batch else float(out[0])


def ssim(reference, test, *, data_range=1.0, win_size=7, color=False):
    """Mean structural similarity of `test` against `reference`, per image.

    Wang, Bovik, Sheikh & Simoncelli (2004) with the defaults of
    :func:`skimage.metrics.structural_similarity`: a ``win_size`` square
    uniform window, sample covariances, K1 = 0.01, K2 = 0.03, the border of
    half a window left out of the mean; for color, the mean over channels.
    Equal to scikit-image's to rounding.

    Parameters
    ----------
    reference, test : array-like
        As for :func:`psnr`.
    data_range : float, default=1.0
        Range of the pixel values.
    win_size : int, default=7
        Odd side of the window, at most the smaller image side.
    color : bool, default=False
        Whether the last axis holds channels.

    Returns
    -------
    ssim : float or ndarray of shape (n,)
        One value per image, in [-1, 1]; a float for a single image.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.metrics import ssim
    >>> rng = np.random.default_rng(0)
    >>> img = rng.random((32, 32))
    >>> ssim(img, img)
    1.0
    >>> bool(ssim(img, np.clip(img + 0.2 * rng.standard_normal(img.shape), 0, 1)) < 0.9)
    True
    """
    data_range = check_float(data_range, "data_range", min_val=0.0)
    if data_range == 0:
        raise ValueError("data_range must be > 0; got 0.0.")
    win_size = check_int(win_size, "win_size", min_val=3)
    if win_size % 2 == 0:
        raise ValueError(f"win_size must be odd; got {win_size}.")
    ref, tst, batch = _check_pair(reference, test, color)
    if min(ref.shape[1:3]) < win_size:
        raise ValueError(f"win_size ({win_size}) exceeds the image size "
                         f"{ref.shape[1:3]}; pass a smaller odd win_size.")
    size = (1, win_size, win_size, 1)
    n_window = win_size ** 2
    cov_norm = n_window / (n_window - 1)

    def mean(a):
        return uniform_filter(a, size=size)

    ux, uy = mean(ref), mean(tst)
    vx = cov_norm * (mean(ref * ref) - ux * ux)
    vy = cov_norm * (mean(tst * tst) - uy * uy)
    vxy = cov_norm * (mean(ref * tst) - ux * uy)
    c1, c2 = (0.01 * data_range) ** 2, (0.03 * data_range) ** 2
    s = ((2 * ux * uy + c1) * (2 * vxy + c2)) / ((ux ** 2 + uy ** 2 + c1) * (vx + vy + c2))
    pad = (win_size - 1) // 2
    s = s[:, pad:s.shape[1] - pad, pad:s.shape[2] - pad, :]
    out = s.mean(axis=(1, 2)).mean(axis=1)
    return out if batch else float(out[0])

"""The low-pass / high-pass split that convolutional sparse coding works on."""
import numpy as np

from sparsetools.convolutional import _fft
from sparsetools.image._denoise import _as_images
from sparsetools.utils._validation import check_bool, check_float, check_int

__all__ = ["tikhonov_split"]


def tikhonov_split(images, reg=5.0, n_pad=16, *, color=False):
    r"""Split images into a smooth low-pass part and the high-pass rest.

    The low-pass part solves, per image and channel,

    .. math:: \min_x \tfrac12 \|x - s\|_2^2 + \tfrac{reg}{2}
              \big(\|\nabla_{rows} x\|_2^2 + \|\nabla_{cols} x\|_2^2\big)

    with first differences as the gradient, in closed form in the Fourier
    domain, on the image padded by `n_pad` mirrored pixels on every side
    (the boundary treatment of SPORCO's ``tikhonov_filter``, whose results
    this matches). Convolutional sparse coding then models the high-pass
    part ``s - x``, and a reconstruction adds the low-pass part back.

    Parameters
    ----------
    images : array-like of shape (h, w), (n, h, w), (h, w, c) or (n, h, w, c)
        Channels last with ``color=True``.
    reg : float, default=5.0
        Weight of the gradient penalty; larger is smoother.
    n_pad : int, default=16
        Mirrored pixels added on each side before filtering (repeated
        mirror images when it exceeds the image size, as ``numpy.pad``).
    color : bool, default=False
        Whether the last axis holds channels.

    Returns
    -------
    low, high : ndarray, each of the shape of `images`
        ``low + high == images``; float32 kept, other dtypes float64.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.convolutional import tikhonov_split
    >>> image = np.add.outer(np.arange(8.0), np.arange(8.0)) / 14
    >>> low, high = tikhonov_split(image, reg=5.0)
    >>> bool(np.allclose(low + high, image))
    True
    """
    reg = check_float(reg, "reg", min_val=0.0)
    n_pad = check_int(n_pad, "n_pad", min_val=0)
    check_bool(color, "color")
    arr, single = _as_images(images, color)               # (n, h, w, c)
    h, w = arr.shape[1:3]
    padded = np.pad(arr, ((0, 0), (n_pad, n_pad), (n_pad, n_pad), (0, 0)), mode="symmetric")
    ph, pw = padded.shape[1:3]
    wy = 4.0 * np.sin(np.pi * np.arange(ph) / ph) ** 2
    wx = 4.0 * np.sin(np.pi * np.arange(pw // 2 + 1) / pw) ** 2
    gain = (1.0 / (1.0 + reg * (wy[:, None] + wx[None, :]))).astype(arr.dtype)
    spec = _fft.rfft2(np.moveaxis(padded, 3, 1))           # (n, c, ph, pw//2+1)
    low = _fft.irfft2(spec * gain, (ph, pw))
    low = np.moveaxis(low, 1, 3)[:, n_pad:n_pad + h, n_pad:n_pad + w].astype(arr.dtype)
    high = arr - low
    if not color:
        low, high = low[..., 0], high[..., 0]
    if single:
        low, high = low[0], high[0]
    return np.ascontiguousarray(low), np.ascontiguousarray(high)

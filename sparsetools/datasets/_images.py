"""Images bundled with scikit-image and scikit-learn, and patches cut from them."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sparsetools.utils._validation import check_float, check_int

__all__ = ["load_gray_images", "load_patches"]

_NAMES = ("camera", "astronaut", "china", "flower")


def load_gray_images(names=_NAMES):
    """Gray-level images in [0, 1] that ship with scikit-image and scikit-learn.

    Parameters
    ----------
    names : sequence of str, default=("camera", "astronaut", "china", "flower")
        Which images: ``"camera"`` and ``"astronaut"`` (scikit-image, 512x512),
        ``"china"`` and ``"flower"`` (scikit-learn's sample images, 427x640).

    Returns
    -------
    images : dict of str to ndarray of shape (h, w)
        float64 images in [0, 1], color ones converted with
        :func:`skimage.color.rgb2gray`.

    Examples
    --------
    >>> from sparsetools.datasets import load_gray_images
    >>> load_gray_images(["camera"])["camera"].shape
    (512, 512)
    """
    from skimage import data as skdata
    from skimage.color import rgb2gray

    if isinstance(names, str):
        names = (names,)
    unknown = [n for n in names if n not in _NAMES]
    if unknown:
        raise ValueError(f"names must be among {_NAMES}; got unknown {unknown}.")
    out = {}
    sample = None
    for name in names:
        if name == "camera":
            out[name] = skdata.camera().astype(np.float64) / 255.0
        elif name == "astronaut":
            out[name] = rgb2gray(skdata.astronaut())
        else:
            if sample is None:
                from sklearn.datasets import load_sample_images

                sample = load_sample_images().images
            out[name] = rgb2gray(sample[0 if name == "china" else 1])
    return out


def load_patches(n_samples=100_000, *, patch_size=8, images=_NAMES, min_norm=0.05,
                 random_state=0, dtype=np.float64):
    """Real image patches, mean removed and scaled to unit norm.

    Every overlapping ``patch_size x patch_size`` patch of the chosen gray
    images is taken, its mean removed; patches whose norm is below
    `min_norm` (flat regions) are dropped, the others scaled to unit norm,
    and `n_samples` of them drawn without replacement.

    Parameters
    ----------
    n_samples : int or None, default=100_000
        Number of patches to return; None returns all of them.
    patch_size : int, default=8
        Side of the square patches.
    images : sequence of str, default=("camera", "astronaut", "china", "flower")
        Source images, see :func:`load_gray_images`.
    min_norm : float, default=0.05
        Patches with a smaller norm after mean removal are dropped.
    random_state : int, default=0
        Seed of the draw.
    dtype : {numpy.float64, numpy.float32}, default=numpy.float64
        dtype of the result.

    Returns
    -------
    patches : ndarray of shape (n_samples, patch_size * patch_size)
        Unit-norm, zero-mean patches, one per row, C-contiguous.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.datasets import load_patches
    >>> P = load_patches(1000, images=["camera"])
    >>> P.shape
    (1000, 64)
    >>> bool(np.allclose(np.linalg.norm(P, axis=1), 1.0))
    True
    """
    patch_size = check_int(patch_size, "patch_size", min_val=1)
    n_samples = check_int(n_samples, "n_samples", min_val=1, allow_none=True)
    min_norm = check_float(min_norm, "min_norm", min_val=0.0)
    dtype = np.dtype(dtype)
    if dtype not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64; got {dtype}.")
    pools = []
    for img in load_gray_images(images).values():
        P = sliding_window_view(img, (patch_size, patch_size)).reshape(-1, patch_size ** 2)
        P = P - P.mean(axis=1, keepdims=True)
        norms = np.linalg.norm(P, axis=1)
        keep = norms >= max(min_norm, np.finfo(np.float64).tiny)
        pools.append(P[keep] / norms[keep, None])
    pool = np.concatenate(pools)
    if n_samples is None:
        return np.ascontiguousarray(pool, dtype=dtype)
    if n_samples > pool.shape[0]:
        raise ValueError(f"n_samples must be at most {pool.shape[0]} for these images "
                         f"and patch_size; got {n_samples}.")
    rng = np.random.default_rng(random_state)
    idx = rng.choice(pool.shape[0], n_samples, replace=False)
    return np.ascontiguousarray(pool[idx], dtype=dtype)

"""Denoising by sparse coding every overlapping patch over a dictionary."""
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from sparsetools.coding._dispatch import check_coder, run_coder
from sparsetools.image._patches import _check_stride, _coverage, _pair, _positions
from sparsetools.utils._validation import check_bool, check_array, check_float, float_dtype

__all__ = ["denoise_sparse", "noise_tolerance", "patch_coding_plan", "remove_patch_means"]

#: Patches coded at once: bounds the memory of the patches and their codes.
_CHUNK = 8192
#: Standard deviations of the noise energy above its mean at which coding
#: stops: the gain 1.15 of Elad & Aharon (2006) for 8x8 patches,
#: 64 (1.15 sigma)^2 = sigma^2 (64 + Z sqrt(2 * 64)).
_Z = (1.15 ** 2 - 1.0) * 64 / np.sqrt(2 * 64)


def noise_tolerance(sigma, n_values, n_means=0):
    """Squared-residual tolerance for patches of `n_values` values with
    Gaussian noise of deviation `sigma`, `n_means` means removed.

    The noise left in such a patch has ``m = n_values - n_means`` degrees of
    freedom, and its squared norm ``sigma^2 chi^2_m`` mean ``m sigma^2`` and
    deviation ``sqrt(2 m) sigma^2``; coding stops ``1.82`` deviations above
    the mean, which for 8x8 gray patches is Elad & Aharon's ``64 (1.15
    sigma)^2`` and stays at the same quantile for other patch sizes and for
    color.
    """
    m = max(n_values - n_means, 0)
    return float(sigma ** 2 * (m + _Z * np.sqrt(2.0 * m)))


def patch_coding_plan(n_components, n_features, *, sigma=None, tol=None,
                      n_nonzero_coefs=None, n_means=0, n_jobs=None):
    """The OMP plan that codes patches of width `n_features`.

    With `sigma`, the squared-residual tolerance is
    :func:`noise_tolerance` (``n_means``: means removed from each patch) and
    at most half the patch width of atoms are used unless `n_nonzero_coefs`
    says otherwise; with `tol`, that tolerance; otherwise `n_nonzero_coefs`
    atoms (OMP's default when None). Returns ``(plan, tol)`` with the
    tolerance in force (None without one).
    """
    sigma = check_float(sigma, "sigma", min_val=0.0, allow_none=True)
    tol = check_float(tol, "tol", min_val=0.0, allow_none=True)
    if sigma is not None and tol is not None:
        raise ValueError(f"give sigma or tol, not both; got sigma={sigma!r} and "
                         f"tol={tol!r}.")
    if sigma is not None:
        tol = noise_tolerance(sigma, n_features, n_means)
        if n_nonzero_coefs is None:
            n_nonzero_coefs = max(1, min(n_features // 2, n_components))
    plan = check_coder("omp", n_components, n_features, n_nonzero_coefs=n_nonzero_coefs,
                       tol=tol, n_jobs=n_jobs)
    return plan, tol


def _as_images(images, color):
    """(n, h, w, c) float images and whether the input was a single image."""
    ndim = np.ndim(images)
    spatial = ndim - (1 if color else 0)
    if spatial not in (2, 3):
        expected = "(h, w, c) or (n, h, w, c)" if color else "(h, w) or (n, h, w)"
        raise ValueError(f"images must have shape {expected} (color={color}); got "
                         f"{np.shape(images)}.")
    arr = check_array(images, "images", ndim=ndim, shape_doc="of images")
    single = spatial == 2
    if single:
        arr = arr[None]
    if not color:
        arr = arr[..., None]
    return arr, single


def denoise_sparse(images, dictionary, patch_size, *, stride=1, color=False, sigma=None,
                   tol=None, n_nonzero_coefs=None, remove_mean=True, n_jobs=None):
    """Denoise images by sparse-coding every patch over a dictionary.

    Every patch (on a grid of `stride`, the last row and column touching the
    borders) is coded by OMP over `dictionary` and replaced by its
    reconstruction; each pixel becomes the mean of the reconstructions that
    cover it. With `sigma`, OMP stops once a patch's squared residual is
    below what the noise alone would leave (the rule of K-SVD denoising,
    Elad & Aharon, 2006: ``64 (1.15 sigma)^2`` for 8x8 gray patches; see
    :func:`noise_tolerance`). Patches are coded in chunks, so memory stays
    bounded.

    Parameters
    ----------
    images : array-like
        A gray image ``(h, w)`` or batch ``(n, h, w)``; with `color`, a color
        image ``(h, w, c)`` or batch ``(n, h, w, c)``.
    dictionary : array-like of shape (n_components, ph * pw * c)
        Atoms as rows, in the layout of flattened patches (row by row, then
        channels).
    patch_size : int or (int, int)
        Patch height and width.
    stride : int or (int, int), default=1
        Steps between patches, at most the patch size.
    color : bool, default=False
        Whether the last axis holds channels.
    sigma : float, default=None
        Standard deviation of the noise, in the units of the images; sets the
        OMP tolerance. Exclusive with `tol`.
    tol : float, default=None
        OMP's tolerance on the squared norm of each patch's residual.
    n_nonzero_coefs : int, default=None
        Most atoms per patch. None: half the patch width with `sigma`, no
        limit with `tol`, OMP's default (a tenth of the width) otherwise.
    remove_mean : bool, default=True
        Code each patch without its mean (per channel), and add the mean
        back; the dictionary should have been learned the same way.
    n_jobs : int, default=None
        Threads for coding; None means 1, -1 all cores.

    Returns
    -------
    denoised : ndarray of the shape of `images`
        float32 if `images` and `dictionary` are float32, float64 otherwise.

    See Also
    --------
    DictionaryDenoiser : Learns the dictionary, then calls this.

    References
    ----------
    .. [1] M. Elad and M. Aharon, "Image denoising via sparse and redundant
       representations over learned dictionaries", IEEE Trans. Image
       Processing 15(12), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.dictionary import overcomplete_dct
    >>> from sparsetools.image import denoise_sparse
    >>> from sparsetools.metrics import psnr
    >>> from skimage import data
    >>> clean = data.camera()[:128, :128] / 255.0
    >>> noisy = clean + np.random.default_rng(0).normal(0, 0.1, clean.shape)
    >>> D = overcomplete_dct(8, 256)
    >>> out = denoise_sparse(noisy, D, 8, stride=2, sigma=0.1)
    >>> out.shape
    (128, 128)
    >>> bool(psnr(clean, out) > psnr(clean, noisy) + 5)
    True
    """
    check_bool(color, "color")
    check_bool(remove_mean, "remove_mean")
    arr, single = _as_images(images, color)
    D = check_array(dictionary, "dictionary", shape_doc="(n_components, n_features)")
    dtype = float_dtype(arr.dtype, D.dtype)
    arr, D = arr.astype(dtype, copy=False), D.astype(dtype, copy=False)
    n, h, w, c = arr.shape
    ph, pw = _pair(patch_size, "patch_size")
    stride = _check_stride(stride, ph, pw)
    if ph > h or pw > w:
        raise ValueError(f"patch_size {(ph, pw)} is larger than the images ({h}, {w}).")
    if D.shape[1] != ph * pw * c:
        raise ValueError(
            f"dictionary atoms have {D.shape[1]} values but patches of size "
            f"{(ph, pw)} with {c} channel(s) have {ph * pw * c}.")
    plan, _ = patch_coding_plan(D.shape[0], D.shape[1], sigma=sigma, tol=tol,
                                n_means=c if remove_mean else 0,
                                n_nonzero_coefs=n_nonzero_coefs, n_jobs=n_jobs)
    out = _denoise(arr, D, (ph, pw), stride, plan, remove_mean)
    out = out if color else out[..., 0]
    return out[0] if single else out


def remove_patch_means(P, n_channels):
    """Subtract from each flattened patch (rows of P, pixels then channels) its
    mean in each channel, in place; returns the means, (n_patches, 1, c)."""
    view = P.reshape(len(P), -1, n_channels)
    means = view.mean(axis=1, keepdims=True)
    view -= means
    return means


def _work_units(n, ny, nx):
    """(first image, end image, first patch row, end patch row) blocks of
    about _CHUNK patches: whole images when they are small, bands of patch
    rows of one image when they are large."""
    per_image = ny * nx
    if per_image >= _CHUNK:
        rows = max(1, _CHUNK // nx)
        for i in range(n):
            for a0 in range(0, ny, rows):
                yield i, i + 1, a0, min(a0 + rows, ny)
    else:
        group = _CHUNK // per_image
        for i0 in range(0, n, group):
            yield i0, min(i0 + group, n), 0, ny


def _denoise(arr, D, patch_size, stride, plan, remove_mean):
    """Denoised (n, h, w, c) images from validated (n, h, w, c) images."""
    from sparsetools._numba._patches import add_patches  # numba loads on first use

    n, h, w, c = arr.shape
    ph, pw = patch_size
    ys, xs = _positions(h, ph, stride[0]), _positions(w, pw, stride[1])
    sums = np.zeros_like(arr)
    for i0, i1, a0, a1 in _work_units(n, len(ys), len(xs)):
        y0, y1 = ys[a0], ys[a1 - 1] + ph
        rel = ys[a0:a1] - y0
        windows = sliding_window_view(arr[i0:i1, y0:y1], (ph, pw, c), axis=(1, 2, 3))
        P = windows[:, :, :, 0][:, rel][:, :, xs]   # (m, len(rel), len(xs), ph, pw, c)
        shape = P.shape
        P = np.ascontiguousarray(P).reshape(-1, ph * pw * c)
        means = remove_patch_means(P, c) if remove_mean else None
        P = run_coder(plan, P, D) @ D
        if remove_mean:
            P.reshape(len(P), -1, c)[...] += means
        add_patches(P.reshape(shape), rel, xs, sums[i0:i1, y0:y1])
    counts = np.multiply.outer(_coverage(ys, ph, h), _coverage(xs, pw, w))
    sums /= counts[None, :, :, None].astype(sums.dtype)
    return sums

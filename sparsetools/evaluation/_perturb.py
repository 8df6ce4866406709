"""The non-adversarial perturbations of an evaluation: Gaussian noise and low-pass."""
import numpy as np
from scipy import ndimage

__all__ = ["gaussian_noise_like", "low_pass"]


def gaussian_noise_like(X, delta, clip, rng):
    """``X`` plus Gaussian noise whose std, per row, is that of the row of `delta`.

    So the noise has the energy of the perturbation `delta` (paper 001's
    control: noise "of the same standard deviation"), then clipped to `clip`.
    """
    std = delta.reshape(delta.shape[0], -1).std(axis=1)
    noise = rng.standard_normal(X.shape) * std.reshape((-1,) + (1,) * (X.ndim - 1))
    out = X + noise
    if clip is not None:
        out = np.clip(out, clip[0], clip[1])
    return out.astype(X.dtype, copy=False)


def low_pass(X, image_shape, sigma):
    """Rows of images of `image_shape` blurred by a Gaussian of `sigma` pixels
    (over height and width only; borders reflected)."""
    images = X.reshape((X.shape[0],) + tuple(image_shape))
    sig = (0, sigma, sigma) + (0,) * (images.ndim - 3)
    return ndimage.gaussian_filter(images, sig, mode="reflect").reshape(X.shape)

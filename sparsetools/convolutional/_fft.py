"""Real 2-D FFTs over the last two axes, with ``scipy.fft`` and its workers.

Convolutions here are circular on the grid of the problem, filters anchored
at the top-left corner (the origin of the DFT), as in SPORCO: the map ``z``
of filter ``f`` contributes ``sum_{a,b} f[a, b] z[y - a, x - b]`` (indices
modulo the grid).
"""
import numpy as np
import scipy.fft as sfft

__all__ = ["rfft2", "rfft2_sparse", "irfft2", "filter_spectra", "complex_dtype"]

#: Above this fraction of non-zero rows, :func:`rfft2_sparse` does the plain FFT.
_SPARSE_ROWS = 0.5


def complex_dtype(dtype):
    return np.dtype(np.complex64) if np.dtype(dtype) == np.float32 else np.dtype(np.complex128)


def rfft2(x, workers=1):
    """Real FFT over the last two axes (dtype kept: float32 gives complex64)."""
    return sfft.rfft2(x, axes=(-2, -1), workers=workers)


def rfft2_sparse(x):
    """:func:`rfft2` of ``(..., h, w)`` maps that are mostly zero: the real
    FFTs along the rows are done for the non-zero rows only, then the complex
    FFTs along the columns for all. The same arithmetic as :func:`rfft2`
    (``scipy.fft`` transforms the last axis first), so the same result."""
    rows = x.reshape(-1, x.shape[-1])
    nonzero = rows.any(axis=1)
    if nonzero.mean() > _SPARSE_ROWS:
        return rfft2(x)
    half = np.zeros((rows.shape[0], x.shape[-1] // 2 + 1), dtype=complex_dtype(x.dtype))
    half[nonzero] = sfft.rfft(rows[nonzero], axis=-1)
    return sfft.fft(half.reshape(x.shape[:-1] + half.shape[-1:]), axis=-2, overwrite_x=True)


def irfft2(xf, shape, workers=1):
    """Inverse of :func:`rfft2` for a grid of ``shape`` (h, w)."""
    return sfft.irfft2(xf, s=shape, axes=(-2, -1), workers=workers)


def filter_spectra(filters, grid, workers=1):
    """Spectra ``(c, n_filters, h, w // 2 + 1)`` of filters ``(c, n_filters,
    fh, fw)`` zero-padded to the grid ``(h, w)`` at the top-left corner."""
    c, m, fh, fw = filters.shape
    padded = np.zeros((c, m) + tuple(grid), dtype=filters.dtype)
    padded[:, :, :fh, :fw] = filters
    return np.ascontiguousarray(rfft2(padded, workers))

"""The overcomplete 2-D DCT dictionary of the K-SVD literature."""
import math

import numpy as np

from sparsetools.utils._validation import check_int

__all__ = ["overcomplete_dct"]


def overcomplete_dct(patch_size=8, n_components=256):
    """Separable overcomplete DCT dictionary for square image patches.

    A 1-D dictionary of ``m = sqrt(n_components)`` cosines of length
    `patch_size`, ``cos(pi * k * (i + 1/2) / m)`` for ``k = 0..m-1`` with the
    mean removed from every atom but the first, is formed and each 2-D atom
    is the outer product of two 1-D atoms (Aharon, Elad & Bruckstein, 2006).
    With ``n_components == patch_size ** 2`` this is the orthonormal DCT-II
    basis.

    Parameters
    ----------
    patch_size : int, default=8
        Side of the square patches; atoms have ``patch_size ** 2`` features.
    n_components : int, default=256
        Number of atoms; a perfect square, at least ``patch_size ** 2``.

    Returns
    -------
    dictionary : ndarray of shape (n_components, patch_size ** 2)
        Unit-norm atoms, one per row, float64; the first atom is constant.

    References
    ----------
    .. [1] M. Aharon, M. Elad and A. Bruckstein, "K-SVD: An algorithm for
       designing overcomplete dictionaries for sparse representation", IEEE
       Trans. Signal Processing 54(11), 2006.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.dictionary import overcomplete_dct
    >>> D = overcomplete_dct(8, 256)
    >>> D.shape
    (256, 64)
    >>> bool(np.allclose(np.linalg.norm(D, axis=1), 1.0))
    True
    >>> B = overcomplete_dct(8, 64)
    >>> bool(np.allclose(B @ B.T, np.eye(64)))
    True
    """
    patch_size = check_int(patch_size, "patch_size", min_val=1)
    n_components = check_int(n_components, "n_components", min_val=1)
    m = math.isqrt(n_components)
    if m * m != n_components or m < patch_size:
        raise ValueError(
            "n_components must be a perfect square of at least patch_size ** 2 = "
            f"{patch_size ** 2}; got {n_components}.")
    i = np.arange(patch_size) + 0.5
    k = np.arange(m)
    basis = np.cos(np.pi * np.outer(i, k) / m)  # (patch_size, m)
    basis[:, 1:] -= basis[:, 1:].mean(axis=0)
    basis /= np.linalg.norm(basis, axis=0)
    # atom (a, b) = outer(basis[:, a], basis[:, b]) flattened row-major
    atoms = np.einsum("ia,jb->abij", basis, basis).reshape(m * m, patch_size ** 2)
    return np.ascontiguousarray(atoms)

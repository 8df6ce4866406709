"""The threshold coder: correlations with the atoms, thresholded."""
import numpy as np

from sparsetools.utils._threads import blas_threads, effective_n_threads
from sparsetools.utils._validation import (
    all_finite,
    check_coding_inputs,
    check_float,
    check_option,
)

__all__ = ["threshold"]

_MODES = ("soft", "hard")


def threshold(X, dictionary, *, alpha, mode="soft", positive=False, n_jobs=None):
    """Codes of the rows of `X` by thresholding their correlations with the atoms.

    The cheapest coder: ``c = x @ dictionary.T`` for every row ``x``, then
    ``sign(c) * max(|c| - alpha, 0)`` (``mode="soft"``, scikit-learn's
    ``threshold`` algorithm of ``sparse_encode``) or ``c * (|c| > alpha)``
    (``mode="hard"``). With an orthonormal dictionary the soft code is the
    lasso solution and the hard code the l0-penalised one; otherwise it is a
    one-step approximation. The product is computed in place, so memory is
    that of the codes.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals, one per row. float32 and float64 are kept; other dtypes are
        converted to float64.
    dictionary : array-like of shape (n_components, n_features)
        Atoms, one per row.
    alpha : float
        Threshold, >= 0.
    mode : {"soft", "hard"}, default="soft"
        Soft thresholding (shrinks the kept correlations by `alpha`) or hard
        thresholding (keeps them as they are).
    positive : bool, default=False
        Keep only positive codes (negative ones become zero).
    n_jobs : int, default=None
        BLAS threads for the product. None means 1, -1 all cores.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
        float32 if `X` and `dictionary` are both float32, float64 otherwise.

    See Also
    --------
    lasso : The exact l1-penalised codes.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools import threshold
    >>> D = np.eye(3)
    >>> threshold([[0.5, -2.0, 1.5]], D, alpha=1.0)
    array([[ 0. , -1. ,  0.5]])
    >>> threshold([[0.5, -2.0, 1.5]], D, alpha=1.0, mode="hard")
    array([[ 0. , -2. ,  1.5]])
    >>> threshold([[0.5, -2.0, 1.5]], D, alpha=1.0, positive=True)
    array([[0. , 0. , 0.5]])
    """
    X, D = check_coding_inputs(X, dictionary)
    alpha, mode, positive, n_threads = check_threshold_params(alpha, mode, positive,
                                                              n_jobs)
    return encode_threshold(X, D, alpha, mode, positive, n_threads)


def check_threshold_params(alpha, mode, positive, n_jobs):
    """Validate the threshold coder's hyper-parameters."""
    alpha = check_float(alpha, "alpha", min_val=0.0)
    mode = check_option(mode, "mode", _MODES)
    if not isinstance(positive, (bool, np.bool_)):
        raise TypeError(f"positive must be a bool; got {positive!r} of type "
                        f"{type(positive).__name__}.")
    return alpha, mode, bool(positive), effective_n_threads(n_jobs)


def encode_threshold(X, D, alpha, mode, positive, n_threads):
    """Threshold codes of validated, finite X over D of the same dtype."""
    codes = np.empty((X.shape[0], D.shape[0]), dtype=X.dtype)
    with blas_threads(n_threads), np.errstate(over="ignore", invalid="ignore"):
        np.matmul(X, D.T, out=codes)
    if not all_finite(codes):
        raise ValueError(
            f"The correlations overflow {X.dtype}: X or the dictionary is too "
            "large for this dtype.")
    if positive:
        np.maximum(codes, 0, out=codes)
    if mode == "soft":
        magnitude = np.abs(codes)
        magnitude -= alpha
        np.maximum(magnitude, 0, out=magnitude)
        np.copysign(magnitude, codes, out=codes)
    else:
        codes[np.abs(codes) <= alpha] = 0
    return codes

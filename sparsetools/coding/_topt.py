"""Top-T sign codes: the coefficient selection and activation of paper 003."""
import numpy as np
import scipy.sparse as sp

from sparsetools._lib import _topt as _lib
from sparsetools.utils._threads import blas_single_thread, effective_n_threads
from sparsetools.utils._validation import check_coding_inputs, check_float, check_int

__all__ = ["topt_codes", "check_topt_params"]

#: Patches whose correlations are computed at once (one GEMM).
_CHUNK = 16384


def check_topt_params(n_components, n_top, beta, epsilon):
    """Validated (n_top, beta, epsilon) for a dictionary of `n_components` atoms."""
    n_top = check_int(n_top, "n_top", min_val=1, max_val=n_components)
    beta = check_float(beta, "beta", min_val=0.0)
    epsilon = check_float(epsilon, "epsilon", min_val=0.0)
    return n_top, beta, epsilon


def topt_codes(X, dictionary, *, n_top=15, beta=3.0, epsilon=8 / 255, n_jobs=None):
    """Top-T sign codes of the rows of `X` over `dictionary` (eq. 3 of [1]_).

    Each row ``x`` is correlated with every atom, ``c = D @ x``; the `n_top`
    correlations of largest magnitude are kept (ties: the lower atom index
    first) and each becomes ``sign(c_l) * ||d_l||_1`` when ``|c_l| >= beta *
    epsilon * ||d_l||_1``, and 0 otherwise. ``epsilon * ||d_l||_1`` is the
    most an l-infinity perturbation of size `epsilon` can change ``c_l``, so
    a kept coefficient has a margin of `beta` such perturbations. Selection
    and activation run in C, threaded over rows.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals (flattened patches), one per row.
    dictionary : array-like of shape (n_components, n_features)
        Atoms as rows (unit l2 norm in the paper).
    n_top : int, default=15
        Coefficients kept per row, 1 <= n_top <= n_components.
    beta : float, default=3.0
        Threshold in units of ``epsilon * ||d_l||_1``, >= 0.
    epsilon : float, default=8/255
        The l-infinity perturbation size the threshold is set against, >= 0.
    n_jobs : int, default=None
        Threads over rows; None means 1, -1 all cores.

    Returns
    -------
    codes : scipy.sparse.csr_array of shape (n_samples, n_components)
        Values ``+-||d_l||_1``, at most `n_top` per row; float32 if `X` and
        the dictionary are float32, float64 otherwise.

    References
    ----------
    .. [1] S. Gopalakrishnan, Z. Marzi, U. Madhow and R. Pedarsani,
       "Combating adversarial attacks using sparse representations", 2018
       (the paper in ``papers/003``).

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools.coding import topt_codes
    >>> D = np.eye(4)
    >>> X = np.array([[0.5, -0.2, 0.01, 0.3]])
    >>> topt_codes(X, D, n_top=2, beta=1.0, epsilon=0.1).toarray()
    array([[1., 0., 0., 1.]])
    >>> topt_codes(-X, D, n_top=3, beta=1.0, epsilon=0.1).toarray()
    array([[-1.,  1.,  0., -1.]])
    """
    X, D = check_coding_inputs(X, dictionary)
    n_top, beta, epsilon = check_topt_params(D.shape[0], n_top, beta, epsilon)
    n_threads = effective_n_threads(n_jobs)
    return encode_topt(X, D, n_top, beta, epsilon, n_threads)


def encode_topt(X, D, n_top, beta, epsilon, n_threads):
    """Top-T sign codes of validated X over D (same dtype) as a CSR array."""
    n, k = X.shape[0], D.shape[0]
    l1 = np.ascontiguousarray(np.abs(D).sum(axis=1), dtype=X.dtype)
    idx = np.empty((n, n_top), dtype=np.intp)
    val = np.empty((n, n_top), dtype=X.dtype)
    count = np.empty(n, dtype=np.intp)
    work = np.empty((max(n_threads, 1), n_top), dtype=np.intp)
    with blas_single_thread():
        for start in range(0, n, _CHUNK):
            stop = min(start + _CHUNK, n)
            corr = np.ascontiguousarray(X[start:stop] @ D.T)
            _lib.topt(corr, l1, n_top, beta * epsilon, idx[start:stop], val[start:stop],
                      count[start:stop], work, n_threads)
    keep = np.arange(n_top)[None, :] < count[:, None]
    indptr = np.zeros(n + 1, dtype=np.int64)
    np.cumsum(count, out=indptr[1:])
    # 32-bit indices when they fit, as scikit-learn's estimators require
    index_type = np.int32 if max(k, int(indptr[-1])) < 2**31 else np.int64
    return sp.csr_array((val[keep], idx[keep].astype(index_type),
                         indptr.astype(index_type)), shape=(n, k))

"""Orthogonal Matching Pursuit (classic and order-recursive) on the compiled Batch-OMP kernel."""
import numpy as np

from sparsetools._lib import _gram_coders as _lib
from sparsetools.coding._gram import gram_encode
from sparsetools.utils._threads import effective_n_threads
from sparsetools.utils._validation import (
    check_coding_inputs,
    check_float,
    check_int,
    check_option,
)

__all__ = ["orthogonal_mp"]

_METHODS = {"omp": _lib.METHOD_OMP, "ormp": _lib.METHOD_ORMP}


def orthogonal_mp(X, dictionary, *, n_nonzero_coefs=None, tol=None, method="omp",
                  n_jobs=None):
    """Sparse codes of the rows of `X` by Orthogonal Matching Pursuit.

    For each row ``x`` of `X`, atoms (rows of `dictionary`) are selected
    greedily, and the code holds the least-squares coefficients of ``x`` on
    the selected atoms, so that ``x ~= code @ dictionary``. Selection stops
    after `n_nonzero_coefs` atoms or once the squared residual
    ``||x - code @ dictionary||^2`` is at most `tol`, whichever comes first,
    or earlier when the residual is zero to working precision or every
    remaining atom is linearly dependent on the selected ones.

    The Gram matrix is computed once per call, the correlations of a chunk of
    signals with all atoms in one matrix product, and the greedy part runs in
    C with a progressively updated Cholesky factorisation (Batch-OMP), on
    ``n_jobs`` threads with the GIL released.

    Parameters
    ----------
    X : array-like of shape (n_samples, n_features)
        Signals, one per row. float32 and float64 are kept; other dtypes are
        converted to float64. Read-only and non-contiguous arrays are accepted.
    dictionary : array-like of shape (n_components, n_features)
        Atoms, one per row. They need not have unit norm: ``"omp"`` ranks
        atoms by their raw correlation with the residual (as scikit-learn
        does), ``"ormp"`` by the residual reduction, which is scale-free.
    n_nonzero_coefs : int, default=None
        Maximum number of atoms per signal, in ``[1, n_components]``. At most
        ``min(n_features, n_components)`` atoms can be linearly independent,
        so no code has more non-zeros than that. When both this and `tol` are
        None, ``max(int(0.1 * n_features), 1)`` as in scikit-learn.
    tol : float, default=None
        Stop once the squared residual norm is at most `tol` (>= 0). Unlike
        scikit-learn, where `tol` overrides `n_nonzero_coefs`, both limits
        apply; with `n_nonzero_coefs` None only `tol` limits the number of
        atoms.
    method : {"omp", "ormp"}, default="omp"
        Greedy rule. ``"omp"``: classic OMP, the atom most correlated with the
        residual (scikit-learn's ``orthogonal_mp_gram``). ``"ormp"``:
        order-recursive OMP, also called orthogonal least squares, the atom
        whose addition leaves the smallest residual (SPAMS's ``omp``).
    n_jobs : int, default=None
        Threads over signals. None means 1, -1 all cores. BLAS is held to one
        thread inside the threaded region.

    Returns
    -------
    codes : ndarray of shape (n_samples, n_components)
        Dense codes, float32 if `X` and `dictionary` are both float32,
        float64 otherwise.

    See Also
    --------
    SparseCoder : The same coder as a scikit-learn transformer.

    References
    ----------
    .. [1] Y. C. Pati, R. Rezaiifar and P. S. Krishnaprasad, "Orthogonal
       matching pursuit", Asilomar Conference, 1993.
    .. [2] S. Chen, S. A. Billings and W. Luo, "Orthogonal least squares
       methods and their application to non-linear system identification",
       Int. J. Control, 1989 (ORMP / OLS).
    .. [3] R. Rubinstein, M. Zibulevsky and M. Elad, "Efficient implementation
       of the K-SVD algorithm using Batch Orthogonal Matching Pursuit",
       Technion CS-2008-08, 2008.

    Examples
    --------
    >>> import numpy as np
    >>> from sparsetools import orthogonal_mp
    >>> rng = np.random.default_rng(0)
    >>> D = rng.standard_normal((50, 20))
    >>> D /= np.linalg.norm(D, axis=1, keepdims=True)
    >>> X = rng.standard_normal((3, 2)) @ D[[4, 7]]
    >>> codes = orthogonal_mp(X, D, n_nonzero_coefs=2)
    >>> codes.shape
    (3, 50)
    >>> [sorted(np.flatnonzero(c).tolist()) for c in codes]
    [[4, 7], [4, 7], [4, 7]]
    >>> bool(np.allclose(codes @ D, X))
    True
    """
    X, D = check_coding_inputs(X, dictionary)
    n_components, n_features = D.shape
    k, tol, method_code, n_threads = check_omp_params(
        n_components, n_features, n_nonzero_coefs, tol, method, n_jobs)
    return encode(X, D, k, tol, method_code, n_threads)


def check_omp_params(n_components, n_features, n_nonzero_coefs, tol, method, n_jobs):
    """Validate the OMP hyper-parameters for a dictionary of the given shape.

    Returns ``(n_nonzero_coefs, tol, method_code, n_threads)`` with the
    defaults of :func:`orthogonal_mp` resolved.
    """
    method = check_option(method, "method", tuple(_METHODS))
    n_nonzero_coefs = check_int(n_nonzero_coefs, "n_nonzero_coefs", min_val=1,
                                max_val=n_components, allow_none=True)
    tol = check_float(tol, "tol", min_val=0.0, allow_none=True)
    n_threads = effective_n_threads(n_jobs)
    if n_nonzero_coefs is None:
        n_nonzero_coefs = (max(int(0.1 * n_features), 1) if tol is None
                           else n_components)
    return n_nonzero_coefs, tol, _METHODS[method], n_threads


def encode(X, D, n_nonzero_coefs, tol, method, n_threads):
    """Batch-OMP codes of validated, C-contiguous, finite X over D.

    The codes are computed in the dtype of `X`; see
    :func:`sparsetools.coding._gram.gram_encode`.
    """
    n_components, n_features = D.shape
    # No more than n_features atoms can be linearly independent.
    max_k = min(n_nonzero_coefs, n_features, n_components)

    def run(ex, ed, X, D, G, gdiag, thresh, codes, corr, work, support, coef,
            n_threads):
        tol_arg = -1.0
        if tol is not None:
            # in the scaled units; inf when tol dwarfs every signal (stop at once)
            with np.errstate(over="ignore", under="ignore"):
                tol_arg = float(np.ldexp(tol, -2 * ex))
        _lib.omp_encode(X, D, G, gdiag, thresh, codes, corr, work, support, coef,
                        max_k, tol_arg, method, n_threads)

    codes, _ = gram_encode(X, D, width=max_k,
                           workspace_size=_lib.omp_workspace_size(n_components, max_k),
                           n_threads=n_threads, run=run)
    return codes

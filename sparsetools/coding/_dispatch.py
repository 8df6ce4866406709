"""One entry to every coder for the estimators: validate once, then code or decode.

SparseCoder and DictionaryLearner both code rows with a coder chosen by
name; this module maps the name to its parameter checks and its encoder,
so each estimator holds hyper-parameters only.
"""
from sparsetools.coding._lasso import (
    check_lasso_params,
    encode_cd,
    encode_fista_checked,
    encode_lars,
)
from sparsetools.coding._lca import _DEFAULT_TOL, check_lca_params, encode_lca
from sparsetools.coding._omp import check_omp_params, encode
from sparsetools.coding._threshold import check_threshold_params, encode_threshold
from sparsetools.utils._validation import check_array, check_float, check_option

__all__ = ["ALGORITHMS", "check_coder", "run_coder", "decode"]

ALGORITHMS = ("omp", "ormp", "lasso_lars", "lasso_cd", "fista", "threshold", "lca")
_LASSO_METHODS = {"lasso_lars": "lars", "lasso_cd": "cd", "fista": "fista"}


def check_coder(algorithm, n_components, n_features, *, n_nonzero_coefs=None, tol=None,
                alpha=None, positive=False, max_iter=None, n_jobs=None):
    """Validate a coder's hyper-parameters for a dictionary of the given shape.

    `alpha` None means 1.0 (scikit-learn's ``transform_alpha``). Returns a
    plan for :func:`run_coder`.
    """
    check_option(algorithm, "algorithm", ALGORITHMS)
    alpha = 1.0 if alpha is None else alpha
    if algorithm in ("omp", "ormp"):
        params = check_omp_params(n_components, n_features, n_nonzero_coefs, tol,
                                  algorithm, n_jobs)
    elif algorithm in _LASSO_METHODS:
        params = check_lasso_params(n_components, n_features, alpha,
                                    _LASSO_METHODS[algorithm], positive, max_iter, tol,
                                    n_jobs)
    elif algorithm == "lca":
        # LCA with the soft transfer, whose fixed point is the lasso code with
        # alpha = threshold, integrated with the fast (Nesterov) scheme.
        alpha = check_float(alpha, "alpha", min_val=0.0)
        params = check_lca_params(alpha, "soft", positive, 1.0, None, max_iter,
                                  _DEFAULT_TOL if tol is None else tol, "nesterov",
                                  n_jobs)
    else:
        params = check_threshold_params(alpha, "soft", positive, n_jobs)
    return algorithm, params


def run_coder(plan, X, D):
    """Codes of validated, C-contiguous, finite X over D with a checked plan."""
    algorithm, params = plan
    if algorithm in ("omp", "ormp"):
        return encode(X, D, *params)
    if algorithm == "threshold":
        return encode_threshold(X, D.astype(X.dtype, copy=False), *params)
    if algorithm == "lca":
        return encode_lca(X, D.astype(X.dtype, copy=False), *params)[0]
    alpha, method, positive, max_iter, tol, n_threads = params
    if method == "lars":
        return encode_lars(X, D, alpha, positive, max_iter, n_threads)
    encoder = encode_cd if method == "cd" else encode_fista_checked
    return encoder(X, D, alpha, positive, max_iter, tol, n_threads)


def decode(codes, D):
    """``codes @ D`` for codes of shape (n_samples, n_atoms), validated."""
    codes = check_array(codes, "X", shape_doc="(n_samples, n_components)")
    if codes.shape[1] != D.shape[0]:
        raise ValueError(
            f"X has {codes.shape[1]} columns but the dictionary has "
            f"{D.shape[0]} atoms; codes must have shape (n_samples, {D.shape[0]}).")
    return codes @ D.astype(codes.dtype, copy=False)

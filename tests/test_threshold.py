"""Tests of sparsetools.threshold, the thresholded-correlation coder."""
import numpy as np
import pytest
from sklearn.decomposition import sparse_encode

from sparsetools import lasso, threshold

RNG_SEEDS = [0, 1, 2]


def _problem(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = rng.standard_normal((25, 10))
    X = rng.standard_normal((40, 10))
    return X.astype(dtype), D.astype(dtype)


@pytest.mark.parametrize("seed", RNG_SEEDS)
@pytest.mark.parametrize("positive", [False, True])
def test_soft_threshold_equals_scikit_learn_sparse_encode(seed, positive):
    X, D = _problem(seed)
    ours = threshold(X, D, alpha=0.8, positive=positive)
    theirs = sparse_encode(X, D, algorithm="threshold", alpha=0.8, positive=positive)
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-12)


@pytest.mark.parametrize("seed", RNG_SEEDS)
def test_hard_threshold_keeps_correlations_above_alpha(seed):
    X, D = _problem(seed)
    corr = X @ D.T
    codes = threshold(X, D, alpha=1.5, mode="hard")
    np.testing.assert_allclose(codes, np.where(np.abs(corr) > 1.5, corr, 0.0),
                               rtol=0, atol=1e-12)
    pos = threshold(X, D, alpha=1.5, mode="hard", positive=True)
    np.testing.assert_allclose(pos, np.where(corr > 1.5, corr, 0.0), rtol=0, atol=1e-12)


def test_soft_threshold_is_the_lasso_solution_for_an_orthonormal_dictionary():
    rng = np.random.default_rng(3)
    Q, _ = np.linalg.qr(rng.standard_normal((12, 12)))
    X = rng.standard_normal((20, 12))
    for positive in (False, True):
        np.testing.assert_allclose(threshold(X, Q, alpha=0.4, positive=positive),
                                   lasso(X, Q, alpha=0.4, positive=positive),
                                   rtol=0, atol=1e-12)


@pytest.mark.parametrize("mode", ["soft", "hard"])
def test_float32_is_kept_and_agrees_with_float64(mode):
    X, D = _problem(4)
    c64 = threshold(X, D, alpha=0.5, mode=mode)
    c32 = threshold(X.astype(np.float32), D.astype(np.float32), alpha=0.5, mode=mode)
    assert c32.dtype == np.float32
    near_threshold = np.abs(np.abs(X @ D.T) - 0.5) < 1e-4
    np.testing.assert_allclose(c32[~near_threshold], c64[~near_threshold], rtol=0,
                               atol=1e-5)


def test_n_jobs_gives_identical_codes():
    X, D = _problem(5)
    np.testing.assert_array_equal(threshold(X, D, alpha=0.5),
                                  threshold(X, D, alpha=0.5, n_jobs=2))


def test_alpha_zero_gives_the_correlations():
    X, D = _problem(6)
    np.testing.assert_allclose(threshold(X, D, alpha=0.0), X @ D.T, rtol=0, atol=1e-12)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(alpha=-0.1), ValueError, "alpha must be >= 0"),
    (dict(alpha=np.nan), ValueError, "alpha must be finite"),
    (dict(alpha="a"), TypeError, "alpha must be a float"),
    (dict(alpha=0.1, mode="medium"), ValueError, "mode must be one of 'soft', 'hard'"),
    (dict(alpha=0.1, positive=1), TypeError, "positive must be a bool"),
    (dict(alpha=0.1, n_jobs=0), ValueError, "n_jobs must be a non-zero int"),
])
def test_bad_parameters_raise_naming_the_parameter(kwargs, error, match):
    X, D = _problem(7)
    with pytest.raises(error, match=match):
        threshold(X, D, **kwargs)


def test_bad_arrays_raise_naming_the_parameter():
    X, D = _problem(8)
    with pytest.raises(ValueError, match="X has 9 features"):
        threshold(X[:, :9], D, alpha=0.1)
    with pytest.raises(ValueError, match="dictionary contains NaN"):
        threshold(X, np.full_like(D, np.nan), alpha=0.1)
    with pytest.raises(ValueError, match="X must be a 2-D array"):
        threshold(X[0], D, alpha=0.1)


def test_overflowing_correlations_raise():
    X, D = _problem(9)
    with pytest.raises(ValueError, match="correlations overflow"):
        threshold(X * 1e200, D * 1e200, alpha=0.1)

"""Tests of sparsetools.lasso.

The code ``a`` of a signal ``x`` minimises ``0.5 * ||x - a @ D||^2 +
alpha * ||a||_1`` (SPAMS's ``lambda1`` convention), with ``a >= 0`` when
``positive``. Tiny random problems check the exact solution against the
coordinate-descent reference of tests/_reference.py (itself checked against
scikit-learn's ``Lasso``) and the optimality (KKT) conditions; real image
patches check agreement with SPAMS's ``lasso`` and scikit-learn's
``sparse_encode`` where the numbers mean something.

``method="lars"`` (homotopy, exact) is the first method; the iterative ones
are tested once they exist: a probe at import time tells whether
``lasso(..., method=m)`` refuses `m` with a ValueError naming ``method``.
"""
import concurrent.futures
import functools

import numpy as np
import pytest
import scipy.optimize
import scipy.sparse as sp
from sklearn.decomposition import sparse_encode
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import Lasso

from sparsetools import lasso
from sparsetools.datasets import load_patches

from _reference import (
    lasso_duality_gap,
    lasso_kkt_violation,
    lasso_objective,
    lasso_reference,
)

# Tiny problems: 12 signals of 10 features, 25 atoms.
N_SAMPLES, N_FEATURES, N_COMPONENTS = 12, 10, 25
SEEDS = (0, 1, 4)
# From about 9 non-zeros per code (of at most 10) down to about 4.
ALPHAS = (0.1, 0.5, 1.0)

# Real patches: 3,000 8x8 patches of the camera image and a dictionary of 256
# other patches of the same image.
N_PATCH_SIGNALS, N_PATCH_ATOMS = 3000, 256
# alpha = 0.18 gives codes of about 10 non-zeros on these patches (measured
# with SPAMS: mean 10.75, from 1 to 22; 8.86 with positive=True).
PATCH_ALPHA = 0.18
PATCH_NNZ_BAND = {False: (10.0, 11.5), True: (8.0, 10.0)}
# scikit-learn's coordinate descent loops over signals in Python: fewer signals.
N_SKLEARN_SIGNALS = 300

# KKT violations, relative to ||x|| * max ||d_j|| (see lasso_kkt_violation).
KKT_TOL = {np.float64: 1e-9, np.float32: 1e-4}


ITERATIVE_METHODS = ["cd", "fista"]


def _unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _tiny_problem(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((N_COMPONENTS, N_FEATURES)))
    # Rows of different energies, so that one alpha cuts them differently.
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)) * rng.uniform(0.5, 2.0, (N_SAMPLES, 1))
    return X.astype(dtype), D.astype(dtype)


@functools.lru_cache(maxsize=None)
def _cached_reference(seed, dtype, alpha, positive):
    X, D = _tiny_problem(seed, dtype)
    codes = _reference_codes(X, D, alpha, positive)
    codes.setflags(write=False)
    return codes


def _reference_codes(X, D, alpha, positive=False):
    X64, D64 = np.asarray(X, np.float64), np.asarray(D, np.float64)
    return np.array([lasso_reference(x, D64, alpha, positive) for x in X64])


def _support_match(a, b):
    """Per row: whether the two codes have exactly the same non-zero positions."""
    return np.all((a != 0) == (b != 0), axis=1)


def _rel_objective_diff(X, D, codes, ref, alpha):
    """Per row, (objective(codes) - objective(ref)) / objective(ref)."""
    f = lasso_objective(X, D, codes, alpha)
    f_ref = lasso_objective(X, D, ref, alpha)
    return (f - f_ref) / f_ref


@pytest.fixture(scope="module")
def patches():
    """(X, D): 3,000 real unit-norm patches and a dictionary of 256 other patches."""
    P = load_patches(N_PATCH_SIGNALS + N_PATCH_ATOMS, images=["camera"], random_state=5)
    return P[N_PATCH_ATOMS:], P[:N_PATCH_ATOMS]


@pytest.fixture(scope="module")
def patch_codes(patches):
    """lars codes of the patches at PATCH_ALPHA, by positive (computed once)."""
    X, D = patches
    return {positive: lasso(X, D, alpha=PATCH_ALPHA, positive=positive)
            for positive in (False, True)}


# --------------------------------------------------------------------------
# The reference itself
# --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("positive", [False, True])
def test_reference_matches_sklearn_lasso_with_alpha_over_n_features(seed, alpha, positive):
    # scikit-learn's Lasso on the design D.T minimises
    # ||x - D.T a||^2 / (2 n_features) + alpha_sk ||a||_1.
    X, D = _tiny_problem(seed)
    ref = _cached_reference(seed, np.float64, alpha, positive)
    sk = Lasso(alpha=alpha / N_FEATURES, fit_intercept=False, positive=positive,
               tol=1e-14, max_iter=100_000).fit(D.T, X.T).coef_
    np.testing.assert_array_equal(ref != 0, sk != 0)
    np.testing.assert_allclose(ref, sk, rtol=0, atol=1e-9)
    assert np.all(np.abs(_rel_objective_diff(X, D, ref, sk, alpha)) < 1e-12)
    assert np.all(lasso_kkt_violation(X, D, ref, alpha, positive) < 1e-12)
    energy = 0.5 * np.sum(X ** 2, axis=1)
    gaps = [lasso_duality_gap(x, D, a, alpha, positive) for x, a in zip(X, ref)]
    # Zero to the rounding of primal and dual, each of the order of ||x||^2.
    assert np.all(np.abs(gaps) <= 1e-13 * energy)
    if positive:
        assert np.all(ref >= 0)


def test_kkt_checker_flags_non_optimal_codes():
    X, D = _tiny_problem(0)
    alpha = 0.5
    ref = _cached_reference(0, np.float64, alpha, False)
    assert np.all(lasso_kkt_violation(X, D, ref, alpha) < 1e-12)
    # A support coefficient off by 1 %, an atom added, the zero code.
    off = ref.copy()
    j = np.argmax(np.abs(ref[0]))
    off[0, j] *= 1.01
    assert lasso_kkt_violation(X, D, off, alpha)[0] > 1e-4
    extra = ref.copy()
    extra[1, np.flatnonzero(ref[1] == 0)[0]] = 0.1
    assert lasso_kkt_violation(X, D, extra, alpha)[1] > 1e-3
    assert np.all(lasso_kkt_violation(X, D, np.zeros_like(ref), alpha) > 0)
    # Negative coefficients violate the positive problem.
    assert np.all(lasso_kkt_violation(X, D, ref, alpha, positive=True)[np.any(ref < 0, axis=1)]
                  > 0)


# --------------------------------------------------------------------------
# lars against the reference on tiny problems
# --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("positive", [False, True])
def test_float64_lars_matches_reference(seed, alpha, positive):
    X, D = _tiny_problem(seed)
    codes = lasso(X, D, alpha=alpha, positive=positive)
    ref = _cached_reference(seed, np.float64, alpha, positive)
    assert isinstance(codes, np.ndarray)
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, rtol=0, atol=1e-8)
    assert np.all(np.abs(_rel_objective_diff(X, D, codes, ref, alpha)) < 1e-10)
    assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < KKT_TOL[np.float64])
    if positive:
        assert np.all(codes >= 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", ALPHAS)
@pytest.mark.parametrize("positive", [False, True])
def test_float32_lars_matches_reference_to_float32_tolerance(seed, alpha, positive):
    X, D = _tiny_problem(seed, np.float32)
    codes = lasso(X, D, alpha=alpha, positive=positive)
    # The reference solves the same float32 values in float64.
    ref = _cached_reference(seed, np.float32, alpha, positive)
    assert codes.dtype == np.float32
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < KKT_TOL[np.float32])
    assert np.all(np.abs(_rel_objective_diff(X, D, codes, ref, alpha)) < 1e-5)
    scale = np.maximum(np.abs(ref).max(axis=1, keepdims=True), 1.0)
    assert np.all(np.abs(codes - ref) <= 1e-3 * scale)
    if positive:
        assert np.all(codes >= 0)


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("positive", [False, True])
def test_lars_on_non_unit_atoms_matches_reference(seed, positive):
    # Nothing assumes unit-norm atoms: the penalty is on the raw coefficients.
    X, D = _tiny_problem(seed)
    rng = np.random.default_rng(100 + seed)
    D = D * rng.uniform(0.1, 10.0, (N_COMPONENTS, 1))
    alpha = 0.5
    codes = lasso(X, D, alpha=alpha, positive=positive)
    ref = _reference_codes(X, D, alpha, positive)
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, rtol=0, atol=1e-8)
    assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < KKT_TOL[np.float64])


@pytest.mark.parametrize("positive", [False, True])
def test_scaling_signal_and_alpha_together_scales_the_codes(positive):
    X, D = _tiny_problem(4)
    codes = lasso(X, D, alpha=0.5, positive=positive)
    for s in (4.0, 0.125, 3.0):
        scaled = lasso(X * s, D, alpha=0.5 * s, positive=positive)
        np.testing.assert_array_equal(scaled != 0, codes != 0)
        np.testing.assert_allclose(scaled, codes * s, rtol=1e-10, atol=1e-12 * s)


def test_support_grows_as_alpha_decreases_on_average():
    X, D = _tiny_problem(5)
    nnz = [np.count_nonzero(lasso(X, D, alpha=a), axis=1).mean() for a in (2.0, 1.0, 0.5, 0.1)]
    assert nnz == sorted(nnz)
    assert nnz[0] < nnz[-1]


# --------------------------------------------------------------------------
# Iterative methods
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", ITERATIVE_METHODS)
@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("positive", [False, True])
def test_iterative_methods_reach_the_reference_objective(method, seed, positive):
    X, D = _tiny_problem(seed)
    alpha = 0.5
    codes = lasso(X, D, alpha=alpha, positive=positive, method=method)
    ref = _cached_reference(seed, np.float64, alpha, positive)
    assert codes.dtype == np.float64
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    assert np.all(_rel_objective_diff(X, D, codes, ref, alpha) < 1e-6)
    assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < 1e-3)
    if positive:
        assert np.all(codes >= 0)


@pytest.mark.parametrize("method", ITERATIVE_METHODS)
@pytest.mark.parametrize("positive", [False, True])
def test_iterative_methods_match_lars_on_patches(patches, patch_codes, method, positive):
    X, D = patches
    X = X[:500]
    codes = lasso(X, D, alpha=PATCH_ALPHA, positive=positive, method=method)
    lars = patch_codes[positive][:500]
    assert np.all(_rel_objective_diff(X, D, codes, lars, PATCH_ALPHA) < 1e-6)
    assert np.all(lasso_kkt_violation(X, D, codes, PATCH_ALPHA, positive) < 1e-3)


@pytest.mark.parametrize("method", ITERATIVE_METHODS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_iterative_methods_keep_the_dtype(method, dtype):
    X, D = _tiny_problem(6, dtype)
    codes = lasso(X, D, alpha=0.5, method=method)
    assert codes.dtype == dtype
    assert np.all(np.isfinite(codes))


# --------------------------------------------------------------------------
# Where the answer is known in closed form
# --------------------------------------------------------------------------

@pytest.mark.parametrize("positive", [False, True])
def test_alpha_at_least_max_correlation_gives_zero_codes(positive):
    X, D = _tiny_problem(7)
    corr = X @ D.T
    c_max = corr.max(axis=1) if positive else np.abs(corr).max(axis=1)
    # A whole call at the largest threshold: all zero.
    np.testing.assert_array_equal(lasso(X, D, alpha=float(c_max.max()), positive=positive), 0.0)
    # Per row: zero exactly where alpha >= max_j |(D x)_j|.
    alpha = float(np.median(c_max))
    codes = lasso(X, D, alpha=alpha, positive=positive)
    zero = c_max <= alpha
    assert 0 < zero.sum() < N_SAMPLES
    np.testing.assert_array_equal(codes[zero], 0.0)
    assert np.all(np.count_nonzero(codes[~zero], axis=1) > 0)
    # Just below the threshold of one row, its code has one atom: the most
    # correlated one, with the soft-thresholded coefficient.
    i = int(np.argmax(c_max))
    just_below = float(c_max[i]) * (1 - 1e-6)
    code = lasso(X[[i]], D, alpha=just_below, positive=positive)[0]
    j = int(np.argmax(corr[i] if positive else np.abs(corr[i])))
    np.testing.assert_array_equal(np.flatnonzero(code), [j])
    np.testing.assert_allclose(code[j], np.sign(corr[i, j]) * (c_max[i] - just_below),
                               rtol=1e-6)


def test_positive_with_only_negative_correlations_gives_zero_codes():
    # Only the atoms anti-correlated with the signal: every (D x)_j < 0.
    X, D = _tiny_problem(8)
    x = X[0]
    D_neg = D[(D @ x) < 0]
    assert D_neg.shape[0] > 1
    codes = lasso(x[None], D_neg, alpha=1e-3, positive=True)
    np.testing.assert_array_equal(codes, 0.0)
    # Without the constraint the same problem has non-zero codes.
    assert np.count_nonzero(lasso(x[None], D_neg, alpha=1e-3)) > 0


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_zero_on_full_rank_undercomplete_dictionary_gives_least_squares(seed):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((6, N_FEATURES)))
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    codes = lasso(X, D, alpha=0.0)
    expected = np.linalg.lstsq(D.T, X.T, rcond=None)[0].T
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("seed", SEEDS)
def test_alpha_zero_positive_gives_non_negative_least_squares(seed):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((6, N_FEATURES)))
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    codes = lasso(X, D, alpha=0.0, positive=True)
    expected = np.array([scipy.optimize.nnls(D.T, x)[0] for x in X])
    np.testing.assert_array_equal(codes != 0, expected != 0)
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-9)


@pytest.mark.parametrize("positive", [False, True])
def test_single_atom_is_soft_thresholding(positive):
    d = np.array([[0.6, 0.8]]) * 2.0  # norm 2
    X = np.array([[3.0, 4.0], [-3.0, -4.0], [0.3, 0.4], [4.0, -3.0]])
    # <d, x> = 10, -10, 1, 0; a = sign(c) max(|c| - alpha, 0) / ||d||^2
    codes = lasso(X, d, alpha=2.0, positive=positive)
    expected = [[2.0], [0.0 if positive else -2.0], [0.0], [0.0]]
    np.testing.assert_array_equal(codes != 0, np.asarray(expected) != 0)
    np.testing.assert_allclose(codes, expected, rtol=1e-14, atol=0)


@pytest.mark.parametrize("positive", [False, True])
def test_orthonormal_dictionary_is_soft_thresholding_of_the_correlations(positive):
    rng = np.random.default_rng(9)
    Q = np.linalg.qr(rng.standard_normal((N_FEATURES, N_FEATURES)))[0]
    X = rng.standard_normal((N_SAMPLES, N_FEATURES))
    alpha = 0.7
    codes = lasso(X, Q, alpha=alpha, positive=positive)
    corr = X @ Q.T
    if positive:
        expected = np.maximum(corr - alpha, 0.0)
    else:
        expected = np.sign(corr) * np.maximum(np.abs(corr) - alpha, 0.0)
    np.testing.assert_array_equal(codes != 0, expected != 0)
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# Ties
# --------------------------------------------------------------------------

@pytest.mark.parametrize("alpha", [0.0, 0.1, 0.5])
def test_atoms_tied_at_the_first_breakpoint_both_join(alpha):
    # Both atoms have correlation 1 with x; the first to join (atom 0) ties
    # with atom 1 for the whole path, and the optimum uses atom 1 only:
    # a = (0, (1 - alpha) / 2), with atom 0 exactly at the boundary.
    X = np.array([[1.0, 0.0, 0.0]])
    D = np.array([[1.0, 1.0, 1.0], [1.0, 0.0, 1.0]])
    codes = lasso(X, D, alpha=alpha)
    np.testing.assert_allclose(codes, [[0.0, (1 - alpha) / 2]], rtol=0, atol=1e-12)
    assert lasso_kkt_violation(X, D, codes, alpha)[0] < KKT_TOL[np.float64]


@pytest.mark.parametrize("X, D, alpha, expected", [
    # D x = (2, 2): tied at lambda_max.
    ([[2.0, 2.0]], [[3.0, -2.0], [2.0, -1.0]], 1.0, [0.0, 0.2]),
    # D x = (6, -6, 2): atoms 1 and 2 tie at the second breakpoint.
    ([[3.0, 2.0, -3.0]], [[1.0, 0.0, -1.0], [-3.0, 3.0, 1.0], [-2.0, 1.0, -2.0]], 0.5,
     [157 / 44, 9 / 22, 0.0]),
])
def test_positive_codes_stay_non_negative_through_ties(X, D, alpha, expected):
    X, D = np.array(X), np.array(D)
    codes = lasso(X, D, alpha=alpha, positive=True)
    assert np.all(codes >= 0)
    np.testing.assert_allclose(codes[0], expected, rtol=0, atol=1e-12)
    np.testing.assert_allclose(codes[0], lasso_reference(X[0], D, alpha, positive=True),
                               rtol=0, atol=1e-12)


@pytest.mark.parametrize("dtype, X, D, expected", [
    # alpha = 1 is exactly where atom 0 leaves the path (D x = (9, -9, 9)).
    (np.float64, [[-3.0, 0.0]], [[-3.0, 2.0], [3.0, 2.0], [-3.0, 0.0]], [0.0, 0.0, 8 / 9]),
    (np.float32, [[-1.0, -2.0]], [[1.0, -2.0], [0.0, -1.0]], [0.0, 1.0]),
])
def test_positive_codes_are_not_negative_when_alpha_is_a_breakpoint(dtype, X, D, expected):
    codes = lasso(np.array(X, dtype), np.array(D, dtype), alpha=1.0, positive=True)
    assert np.all(codes >= 0)
    atol = 1e-6 if dtype == np.float32 else 1e-12
    np.testing.assert_allclose(codes[0], expected, rtol=0, atol=atol)


@pytest.mark.parametrize("alpha", [0.03, 0.0])
def test_atom_that_left_can_rejoin_at_once_with_the_opposite_sign(alpha):
    # On this path atom 3 leaves (its coefficient reaches zero from below)
    # and its correlation then reaches +lambda before any other event.
    rng = np.random.default_rng(0)
    D = _unit_rows(rng.standard_normal((6, N_FEATURES)))
    x = rng.standard_normal((N_SAMPLES, N_FEATURES))[:1]
    codes = lasso(x, D, alpha=alpha)
    if alpha == 0:
        expected = np.linalg.lstsq(D.T, x[0], rcond=None)[0]
    else:
        expected = lasso_reference(x[0], D, alpha)
    assert codes[0, 3] > 0
    np.testing.assert_allclose(codes[0], expected, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", range(8))
@pytest.mark.parametrize("positive", [False, True])
def test_small_integer_problems_with_ties_reach_the_optimum(seed, positive):
    # Small integers make exact ties between correlations, duplicated and
    # opposite atoms, zero atoms and rank deficiency common; the optimum may
    # not be unique, its objective is.
    rng = np.random.default_rng(1000 + seed)
    D = rng.integers(-3, 4, (8, 4)).astype(np.float64)
    X = rng.integers(-3, 4, (10, 4)).astype(np.float64)
    for alpha in (0.5, 2.0):
        codes = lasso(X, D, alpha=alpha, positive=positive)
        ref = _reference_codes(X, D, alpha, positive)
        if positive:
            assert np.all(codes >= 0)
        f, f_ref = lasso_objective(X, D, codes, alpha), lasso_objective(X, D, ref, alpha)
        assert np.all(f <= f_ref + 1e-10 * np.maximum(f_ref, 1.0)), (alpha, f - f_ref)
        assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < KKT_TOL[np.float64])


# --------------------------------------------------------------------------
# Degenerate cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("positive", [False, True])
def test_zero_signals_give_zero_codes(dtype, positive):
    X, D = _tiny_problem(0, dtype)
    X[[1, 4]] = 0
    codes = lasso(X, D, alpha=0.1, positive=positive)
    np.testing.assert_array_equal(codes[[1, 4]], 0.0)
    assert np.all(np.count_nonzero(codes[[0, 2, 3]], axis=1) > 0)
    np.testing.assert_array_equal(lasso(np.zeros((3, N_FEATURES), dtype), D, alpha=0.0), 0.0)


@pytest.mark.parametrize("positive", [False, True])
def test_zero_atoms_get_zero_coefficients(positive):
    X, D = _tiny_problem(3)
    D[[0, 7, 15]] = 0
    alpha = 0.1
    codes = lasso(X, D, alpha=alpha, positive=positive)
    assert np.all(np.isfinite(codes))
    np.testing.assert_array_equal(codes[:, [0, 7, 15]], 0.0)
    assert np.all(lasso_kkt_violation(X, D, codes, alpha, positive) < KKT_TOL[np.float64])


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("alpha", [0.1, 0.5])
@pytest.mark.parametrize("positive", [False, True])
def test_duplicated_atoms_give_the_optimal_objective(seed, alpha, positive):
    # The solution is no longer unique (the two copies can share their
    # coefficient in any proportion of the same sign); the objective is.
    X, D = _tiny_problem(seed)
    D_dup = np.vstack([D, D[[2, 2, 11]]])
    codes = lasso(X, D_dup, alpha=alpha, positive=positive)
    assert np.all(np.isfinite(codes))
    ref = _cached_reference(seed, np.float64, alpha, positive)
    # Reference on the dictionary without copies: the same optimal objective.
    assert np.all(np.abs(_rel_objective_diff(X, D_dup, codes, np.hstack(
        [ref, np.zeros((N_SAMPLES, 3))]), alpha)) < 1e-10)
    assert np.all(lasso_kkt_violation(X, D_dup, codes, alpha, positive) < KKT_TOL[np.float64])
    # Copies never carry coefficients of opposite signs.
    for j, copy in ((2, N_COMPONENTS), (2, N_COMPONENTS + 1), (11, N_COMPONENTS + 2)):
        assert np.all(codes[:, j] * codes[:, copy] >= 0)
    merged = codes[:, :N_COMPONENTS].copy()
    merged[:, 2] += codes[:, N_COMPONENTS] + codes[:, N_COMPONENTS + 1]
    merged[:, 11] += codes[:, N_COMPONENTS + 2]
    np.testing.assert_allclose(merged, ref, rtol=0, atol=1e-8)


@pytest.mark.parametrize("positive", [False, True])
def test_signal_equal_to_an_atom(positive):
    _, D = _tiny_problem(1)
    X = 3.0 * D[[4, 9]]
    alpha = 0.5
    codes = lasso(X, D, alpha=alpha, positive=positive)
    ref = _reference_codes(X, D, alpha, positive)
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, rtol=0, atol=1e-8)


def test_rank_deficient_dictionary_gives_the_optimal_objective():
    rng = np.random.default_rng(6)
    # 12 atoms in a 3-dimensional subspace of R^8.
    D = _unit_rows(rng.standard_normal((12, 3)) @ rng.standard_normal((3, 8)))
    X = rng.standard_normal((5, 8))
    for alpha in (0.0, 1e-3, 0.5):
        codes = lasso(X, D, alpha=alpha)
        assert np.all(np.isfinite(codes))
        ref = _reference_codes(X, D, alpha) if alpha > 0 else None
        if ref is not None:
            assert np.all(np.abs(_rel_objective_diff(X, D, codes, ref, alpha)) < 1e-9)
        assert np.all(lasso_kkt_violation(X, D, codes, alpha) < KKT_TOL[np.float64])


# --------------------------------------------------------------------------
# Real patches: SPAMS, scikit-learn, float32
# --------------------------------------------------------------------------

@pytest.mark.parametrize("positive", [False, True])
def test_patch_codes_have_about_ten_non_zeros(patch_codes, positive):
    nnz = np.count_nonzero(patch_codes[positive], axis=1)
    lo, hi = PATCH_NNZ_BAND[positive]
    assert lo <= nnz.mean() <= hi
    assert nnz.min() >= 1  # no patch is within alpha of orthogonal to every atom


@pytest.mark.parametrize("positive", [False, True])
def test_lars_matches_spams_lasso_on_patches(patches, patch_codes, positive):
    spams = pytest.importorskip("spams")
    X, D = patches
    codes = patch_codes[positive]
    ref = spams.lasso(np.asfortranarray(X.T), D=np.asfortranarray(D.T), lambda1=PATCH_ALPHA,
                      mode=2, pos=positive, numThreads=1)
    ref = sp.csc_matrix(ref).toarray().T
    assert np.all(np.abs(_rel_objective_diff(X, D, codes, ref, PATCH_ALPHA)) < 1e-9)
    same = _support_match(codes, ref)
    assert same.mean() >= 0.99
    np.testing.assert_allclose(codes[same], ref[same], rtol=0, atol=1e-6)


@pytest.mark.parametrize("positive", [False, True])
def test_lars_meets_kkt_conditions_on_patches(patches, patch_codes, positive):
    X, D = patches
    codes = patch_codes[positive]
    assert np.all(lasso_kkt_violation(X, D, codes, PATCH_ALPHA, positive)
                  < KKT_TOL[np.float64])
    if positive:
        assert np.all(codes >= 0)


@pytest.mark.parametrize("positive", [False, True])
def test_lars_objective_matches_sklearn_sparse_encode_lasso_cd(patches, patch_codes, positive):
    # sparse_encode divides alpha by n_features before handing it to Lasso,
    # whose loss is divided by 2 * n_features: its alpha is ours (and SPAMS's
    # lambda1), per signal.
    X, D = patches
    X = X[:N_SKLEARN_SIGNALS]
    codes = patch_codes[positive][:N_SKLEARN_SIGNALS]
    ref = sparse_encode(X, D, algorithm="lasso_cd", alpha=PATCH_ALPHA, positive=positive,
                        max_iter=10_000)
    rel = _rel_objective_diff(X, D, codes, ref, PATCH_ALPHA)
    # lars is exact; coordinate descent stops at a duality gap of 1e-8 ||x||^2.
    assert np.all(rel <= 1e-12)
    assert np.all(rel >= -1e-7)
    assert _support_match(codes, ref).mean() >= 0.95


@pytest.mark.parametrize("positive", [False, True])
def test_float32_agrees_with_float64_on_patches(patches, patch_codes, positive):
    X, D = patches
    c64 = patch_codes[positive]
    c32 = lasso(X.astype(np.float32), D.astype(np.float32), alpha=PATCH_ALPHA,
                positive=positive)
    assert c32.dtype == np.float32
    same = _support_match(c32, c64)
    assert same.mean() >= 0.99
    # float32 epsilon times the condition number of the support's Gram
    # matrix (measured: 3e-5 at most).
    np.testing.assert_allclose(c32[same], c64[same], rtol=0, atol=1e-3)
    assert np.all(np.abs(_rel_objective_diff(X, D, c32, c64, PATCH_ALPHA)) < 1e-5)
    assert np.all(lasso_kkt_violation(X, D, c32, PATCH_ALPHA, positive) < KKT_TOL[np.float32])


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------

@pytest.mark.parametrize("positive", [False, True])
def test_n_jobs_gives_bitwise_identical_codes(patches, patch_codes, positive):
    X, D = patches
    serial = lasso(X, D, alpha=PATCH_ALPHA, positive=positive, n_jobs=1)
    np.testing.assert_array_equal(serial, patch_codes[positive])  # n_jobs=None
    for n_jobs in (2, -1):
        threaded = lasso(X, D, alpha=PATCH_ALPHA, positive=positive, n_jobs=n_jobs)
        np.testing.assert_array_equal(threaded, serial)


def test_concurrent_python_threads_match_serial(patches):
    X, D = patches
    blocks = [X[i * 500:(i + 1) * 500] for i in range(6)]
    settings = [dict(alpha=PATCH_ALPHA), dict(alpha=0.1, positive=True)]
    jobs = [(b, s) for b in blocks for s in settings]
    serial = [lasso(b, D, **s) for b, s in jobs]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        # Every job twice, so that threads share inputs.
        futures = [pool.submit(lasso, b, D, **s) for b, s in jobs + jobs]
        results = [f.result() for f in futures]
    for i, res in enumerate(results):
        np.testing.assert_array_equal(res, serial[i % len(jobs)])


# --------------------------------------------------------------------------
# dtypes and memory layouts
# --------------------------------------------------------------------------

@pytest.mark.parametrize("x_dtype, d_dtype, out_dtype", [
    (np.float32, np.float32, np.float32),
    (np.float64, np.float64, np.float64),
    (np.float32, np.float64, np.float64),
    (np.float64, np.float32, np.float64),
    (np.int64, np.float64, np.float64),
    (np.int32, np.float32, np.float64),
    (np.int64, np.int64, np.float64),
    (np.bool_, np.float64, np.float64),
    (np.float16, np.float64, np.float64),
    (np.float16, np.float32, np.float64),
    (np.float16, np.float16, np.float64),
])
def test_output_dtype_table(x_dtype, d_dtype, out_dtype):
    rng = np.random.default_rng(7)
    X = rng.integers(-3, 4, (N_SAMPLES, N_FEATURES)).astype(x_dtype)
    X[0] = 1  # at least one non-zero signal, also for bool
    if np.dtype(d_dtype).kind == "i":
        D = rng.integers(-2, 3, (N_COMPONENTS, N_FEATURES)).astype(d_dtype)
    else:
        D = _unit_rows(rng.standard_normal((N_COMPONENTS, N_FEATURES))).astype(d_dtype)
    alpha = 0.3
    codes = lasso(X, D, alpha=alpha)
    assert codes.dtype == out_dtype
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    # Same codes as on float64 copies of the same values.
    ref = lasso(X.astype(np.float64), D.astype(np.float64), alpha=alpha)
    atol = 1e-3 if out_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(codes, ref, rtol=0, atol=atol)
    assert np.count_nonzero(codes[0]) > 0


@pytest.mark.parametrize("positive", [False, True])
def test_read_only_fortran_and_strided_inputs_give_same_codes(positive):
    X, D = _tiny_problem(8)
    expected = lasso(X, D, alpha=0.3, positive=positive)

    X_ro, D_ro = X.copy(), D.copy()
    X_ro.setflags(write=False)
    D_ro.setflags(write=False)
    X_wide = np.zeros((N_SAMPLES * 2, N_FEATURES * 3))
    X_wide[::2, ::3] = X
    D_wide = np.zeros((N_COMPONENTS, N_FEATURES * 2))
    D_wide[:, 1::2] = D
    variants = {
        "read-only": (X_ro, D_ro),
        "fortran": (np.asfortranarray(X), np.asfortranarray(D)),
        "strided": (X_wide[::2, ::3], D_wide[:, 1::2]),
        "transposed views": (np.ascontiguousarray(X.T).T, np.ascontiguousarray(D.T).T),
        "lists": (X.tolist(), D.tolist()),
    }
    for name, (Xv, Dv) in variants.items():
        codes = lasso(Xv, Dv, alpha=0.3, positive=positive)
        np.testing.assert_array_equal(codes, expected, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_are_not_modified(dtype):
    X, D = _tiny_problem(9, dtype)
    X_fortran = np.asfortranarray(X)
    X_before, D_before, F_before = X.copy(), D.copy(), X_fortran.copy()
    lasso(X, D, alpha=0.2)
    lasso(X_fortran, D, alpha=0.2, positive=True, n_jobs=2)
    np.testing.assert_array_equal(X, X_before)
    np.testing.assert_array_equal(D, D_before)
    np.testing.assert_array_equal(X_fortran, F_before)


def test_numpy_scalar_alpha_is_accepted():
    X, D = _tiny_problem(10)
    expected = lasso(X, D, alpha=0.5)
    for alpha in (np.float64(0.5), np.float32(0.5), 0.5):
        np.testing.assert_array_equal(lasso(X, D, alpha=alpha), expected)
    np.testing.assert_array_equal(lasso(X, D, alpha=1), lasso(X, D, alpha=1.0))
    np.testing.assert_array_equal(lasso(X, D, alpha=np.int64(1)), lasso(X, D, alpha=1.0))


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

def _ok():
    return _tiny_problem(10)


def _with_value(A, value):
    A = A.copy()
    A[1, 2] = value
    return A


@pytest.mark.parametrize("which, value", [("X", np.nan), ("X", np.inf), ("X", -np.inf),
                                          ("dictionary", np.nan), ("dictionary", np.inf)])
def test_non_finite_values_raise(which, value):
    X, D = _ok()
    if which == "X":
        X = _with_value(X, value)
    else:
        D = _with_value(D, value)
    with pytest.raises(ValueError, match=f"{which} contains NaN or infinity"):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("X, match", [
    (np.zeros((0, N_FEATURES)), "X is empty"),
    (np.zeros((3, 0)), "X is empty"),
    (np.zeros(N_FEATURES), "X must be a 2-D array"),
    (np.zeros((2, 3, N_FEATURES)), "X must be a 2-D array"),
    (5.0, "X must be a 2-D array"),
    (np.zeros((3, N_FEATURES + 1)), r"X has 11 features"),
    (np.zeros((3, N_FEATURES - 1)), r"X has 9 features"),
])
def test_bad_X_shapes_raise_value_error(X, match):
    _, D = _ok()
    with pytest.raises(ValueError, match=match):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("D, match", [
    (np.zeros((0, N_FEATURES)), "dictionary is empty"),
    (np.zeros((N_COMPONENTS, 0)), "dictionary is empty"),
    (np.zeros(N_FEATURES), "dictionary must be a 2-D array"),
    (np.zeros((2, 3, N_FEATURES)), "dictionary must be a 2-D array"),
])
def test_bad_dictionary_shapes_raise_value_error(D, match):
    X, _ = _ok()
    with pytest.raises(ValueError, match=match):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("params, error, match", [
    (dict(alpha=-1.0), ValueError, "alpha"),
    (dict(alpha=-1e-300), ValueError, "alpha"),
    (dict(alpha=np.nan), ValueError, "alpha"),
    (dict(alpha=np.inf), ValueError, "alpha"),
    (dict(alpha=-np.inf), ValueError, "alpha"),
    (dict(alpha="0.1"), TypeError, "alpha"),
    (dict(alpha=None), TypeError, "alpha"),
    (dict(alpha=[0.1]), TypeError, "alpha"),
    (dict(alpha=0.1 + 0j), TypeError, "alpha"),
    (dict(alpha=True), TypeError, "alpha"),
    (dict(alpha=0.1, method="foo"), ValueError, "method"),
    (dict(alpha=0.1, method="LARS"), ValueError, "method"),
    (dict(alpha=0.1, method=None), ValueError, "method"),
    (dict(alpha=0.1, n_jobs=0), ValueError, "n_jobs"),
    (dict(alpha=0.1, n_jobs=1.5), TypeError, "n_jobs"),
    # Documented in the docstring: positive a bool, max_iter an int >= 1,
    # tol a float >= 0 (unused by lars, validated all the same).
    (dict(alpha=0.1, positive="yes"), TypeError, "positive"),
    (dict(alpha=0.1, max_iter=0), ValueError, "max_iter"),
    (dict(alpha=0.1, max_iter=2.5), TypeError, "max_iter"),
    (dict(alpha=0.1, tol=-1.0), ValueError, "tol"),
    (dict(alpha=0.1, tol=np.nan), ValueError, "tol"),
])
def test_bad_parameters_raise_naming_the_parameter(params, error, match):
    X, D = _ok()
    with pytest.raises(error, match=match):
        lasso(X, D, **params)


def test_max_iter_cutting_the_path_warns_and_returns_finite_codes(patches):
    from sklearn.exceptions import ConvergenceWarning

    X, D = patches
    X = X[:200]
    with pytest.warns(ConvergenceWarning, match="max_iter"):
        codes = lasso(X, D, alpha=PATCH_ALPHA, max_iter=2)
    assert np.all(np.isfinite(codes))
    # Every join counts as a step, the first one (at alpha_max) included.
    assert np.count_nonzero(codes, axis=1).max() <= 2
    # Objective still no worse than the zero code.
    assert np.all(lasso_objective(X, D, codes, PATCH_ALPHA)
                  <= 0.5 * np.sum(X ** 2, axis=1) * (1 + 1e-12))


def test_alpha_is_required_and_keyword_only():
    X, D = _ok()
    with pytest.raises(TypeError, match="alpha"):
        lasso(X, D)
    with pytest.raises(TypeError, match="positional"):
        lasso(X, D, 0.1)


@pytest.mark.parametrize("which", ["X", "dictionary"])
def test_complex_input_raises_type_error(which):
    X, D = _ok()
    if which == "X":
        X = X + 1j
    else:
        D = D.astype(np.complex128)
    with pytest.raises(TypeError, match=f"{which} must be real-valued"):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("which", ["X", "dictionary"])
def test_non_numeric_input_raises_type_error(which):
    X, D = _ok()
    if which == "X":
        X = np.full((3, N_FEATURES), "a")
    else:
        D = np.full((N_COMPONENTS, N_FEATURES), "atom")
    with pytest.raises(TypeError, match=f"{which} must hold numbers"):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("which", ["X", "dictionary"])
def test_scipy_sparse_input_raises_type_error(which):
    X, D = _ok()
    if which == "X":
        X = sp.csr_matrix(X)
    else:
        D = sp.csr_array(D)
    with pytest.raises(TypeError, match=f"{which} must be a dense array"):
        lasso(X, D, alpha=0.1)


@pytest.mark.parametrize("method, unit", [("cd", "rounds"), ("fista", "iterations")])
def test_iterative_methods_warn_with_the_duality_gap_left(patches, method, unit):
    from sklearn.exceptions import ConvergenceWarning

    X, D = patches
    with pytest.warns(ConvergenceWarning,
                      match=rf"max_iter=1 {unit} on \d+ of 50 signals; the largest "
                            r"duality gap left is [0-9.e+-]+ of the objective"):
        codes = lasso(X[:50], D, alpha=PATCH_ALPHA, method=method, max_iter=1, tol=0.0)
    assert np.all(np.isfinite(codes))


def test_cd_warning_quotes_the_same_largest_gap_with_threads(patches):
    # the largest duality gap left is kept per thread; it must not be mixed
    # up between threads (it once was a variable shared by the OpenMP team)
    X, D = patches
    messages = []
    for n_jobs in (1, 2):
        with pytest.warns(ConvergenceWarning) as record:
            lasso(X[:2000], D, alpha=0.05, method="cd", max_iter=2, n_jobs=n_jobs)
        messages.append(str(record[0].message))
    assert messages[0] == messages[1]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("shape", [(1, 5), (100, 30), (256, 64), (300, 64)])
def test_gram_matrix_is_symmetric_and_the_same_for_any_number_of_threads(dtype, shape):
    from sparsetools.coding._gram import gram_matrix

    D = np.random.default_rng(0).standard_normal(shape).astype(dtype)
    G1, d1 = gram_matrix(D, 1)
    G2, d2 = gram_matrix(D, 2)
    np.testing.assert_array_equal(G1, G2)
    np.testing.assert_array_equal(G1, G1.T)
    np.testing.assert_array_equal(d1, np.diagonal(G1))
    np.testing.assert_array_equal(d1, d2)
    reference = D.astype(np.float64) @ D.T.astype(np.float64)
    tol = 1e-5 if dtype == np.float32 else 1e-13
    np.testing.assert_allclose(G1, reference, rtol=0, atol=tol * np.abs(reference).max())

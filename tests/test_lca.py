"""Tests of sparsetools.coding.lca, LCACoder and SparseCoder(algorithm="lca").

The dynamics ``u' = D x - u - (D D^T - I) a``, ``a = T(u)`` are checked
step by step against the plain NumPy reference below (every transfer
function, both integrators) on tiny random problems whose atoms enter and
leave the active set; with the soft transfer the fixed point is checked
against the lasso optimum (sparsetools' exact LARS and SPAMS) on real image
patches.
"""
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils.estimator_checks import estimator_checks_generator

from sparsetools import SparseCoder, lasso
from sparsetools.coding import LCACoder, lca
from sparsetools.coding import _lca as lca_module
from sparsetools.coding._lca import largest_gram_eigenvalue
from sparsetools.datasets import load_patches

from _reference import lasso_objective
from test_coder import (
    CHECK_WIDTHS,
    DEFAULT_WIDTH,
    FLOAT32_DICTIONARY_CHECKS,
    _check_id,
    _check_name,
)

# Tiny problems: 12 signals of 10 features, 25 unit-norm atoms.
N_SAMPLES, N_FEATURES, N_COMPONENTS = 12, 10, 25
THRESHOLD = {"soft": 0.4, "hard": 0.6}
EULER_STEP = 0.1          # dt / tau; ||G||_2 is about 6 here, 2 / 6 is the limit
STEPS = (1, 2, 3, 7, 30, 120)

# Real patches: 200 8x8 patches of the camera image, 256 other patches as atoms.
N_PATCH_SIGNALS, N_PATCH_ATOMS = 200, 256
PATCH_THRESHOLD = 0.18    # about 10 non-zeros per code (see test_lasso.py)
# Tight enough for the objective to be within 1e-4 of the optimum (measured:
# 2e-5 for Euler, 3e-7 for Nesterov on these patches).
PATCH_TOL = 1e-4


def _unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _tiny_problem(seed=0, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((N_COMPONENTS, N_FEATURES)))
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)) * rng.uniform(0.5, 2.0, (N_SAMPLES, 1))
    return X.astype(dtype), D.astype(dtype)


# --------------------------------------------------------------------------
# The NumPy reference: the same dynamics, batched, written for clarity
# --------------------------------------------------------------------------

def transfer_reference(u, c, transfer, positive):
    """a = T(u): the four transfer functions of sparsetools.coding.lca."""
    active = u > c if positive else np.abs(u) > c
    if transfer == "hard":
        return np.where(active, u, 0.0)
    return np.where(active, u - c * np.sign(u), 0.0)


def lca_reference(X, D, c, transfer, positive, eta, n_steps, integrator="euler"):
    """(u, a) after `n_steps` steps of the LCA dynamics from u = 0, in float64.

    Euler: u += eta (b - u - (G - I) a), a = T(u). Nesterov: the same step
    from v = u_k + beta_k (u_k - u_{k-1}), with FISTA's beta and the momentum
    dropped (t = 1) on the rows where the step opposes it.
    """
    X, D = np.asarray(X, np.float64), np.asarray(D, np.float64)
    G, B = D @ D.T, X @ D.T

    def T(u):
        return transfer_reference(u, c, transfer, positive)

    u = np.zeros_like(B)
    if integrator == "euler":
        for _ in range(n_steps):
            a = T(u)
            u = u + eta * (B - u - a @ G + a)
        return u, T(u)
    v, t = u.copy(), np.ones(len(B))
    for _ in range(n_steps):
        av = T(v)
        velocity = B - v - av @ G + av
        w = v + eta * velocity
        step = w - u
        t_next = (1 + np.sqrt(1 + 4 * t * t)) / 2
        restart = np.einsum("ij,ij->i", velocity, step) < 0
        beta = np.where(restart, 0.0, (t - 1) / t_next)
        t = np.where(restart, 1.0, t_next)
        v = w + beta[:, None] * step
        u = w
    return u, T(u)


def _run(X, D, n_steps, **kw):
    """lca for exactly n_steps steps (tol 0), its ConvergenceWarning silenced."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return lca(X, D, max_iter=n_steps, tol=0.0, return_potentials=True, **kw)


def _nesterov_step(D):
    return 1.0 / max(1.0, largest_gram_eigenvalue(D))


# --------------------------------------------------------------------------
# Step by step against the reference
# --------------------------------------------------------------------------

@pytest.mark.parametrize("transfer", ["soft", "hard"])
@pytest.mark.parametrize("positive", [False, True])
def test_reference_trajectories_have_atoms_entering_and_leaving(transfer, positive):
    # The tiny problems must exercise the incremental update of (G - I) a:
    # atoms that become active, and atoms that become inactive again.
    X, D = _tiny_problem()
    c = THRESHOLD[transfer]
    prev = np.zeros((N_SAMPLES, N_COMPONENTS), bool)
    entered = left = 0
    for k in range(1, 60):
        _, a = lca_reference(X, D, c, transfer, positive, EULER_STEP, k)
        now = a != 0
        entered += np.sum(now & ~prev)
        left += np.sum(prev & ~now)
        prev = now
    assert entered > N_SAMPLES
    assert left > 0
    assert 0 < prev.sum(axis=1).mean() < N_FEATURES


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
@pytest.mark.parametrize("transfer", ["soft", "hard"])
@pytest.mark.parametrize("positive", [False, True])
def test_float64_steps_match_the_numpy_reference(integrator, transfer, positive):
    X, D = _tiny_problem(1)
    c = THRESHOLD[transfer]
    eta = EULER_STEP if integrator == "euler" else _nesterov_step(D)
    for n_steps in STEPS:
        codes, u = _run(X, D, n_steps, threshold=c, transfer=transfer, positive=positive,
                        dt=EULER_STEP, integrator=integrator)
        u_ref, a_ref = lca_reference(X, D, c, transfer, positive, eta, n_steps, integrator)
        assert codes.dtype == np.float64
        np.testing.assert_allclose(u, u_ref, rtol=0, atol=1e-12 * np.abs(u_ref).max(),
                                   err_msg=f"{n_steps} steps")
        np.testing.assert_array_equal(codes != 0, a_ref != 0, err_msg=f"{n_steps} steps")
        np.testing.assert_allclose(codes, a_ref, rtol=0, atol=1e-12 * np.abs(u_ref).max())
        if positive:
            assert np.all(codes >= 0)


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
@pytest.mark.parametrize("transfer", ["soft", "hard"])
def test_float32_steps_match_the_reference_to_float32_precision(integrator, transfer):
    X, D = _tiny_problem(2, np.float32)
    c = THRESHOLD[transfer]
    eta = EULER_STEP if integrator == "euler" else _nesterov_step(D)
    for n_steps in (1, 5, 20):
        codes, u = _run(X, D, n_steps, threshold=c, transfer=transfer, dt=EULER_STEP,
                        integrator=integrator)
        u_ref, _ = lca_reference(X, D, c, transfer, False, eta, n_steps, integrator)
        assert codes.dtype == np.float32 and u.dtype == np.float32
        np.testing.assert_allclose(u, u_ref, rtol=0, atol=1e-5 * np.abs(u_ref).max())


def test_tau_sets_the_time_scale_of_the_euler_step():
    # Only dt / tau matters to the Euler step.
    X, D = _tiny_problem(3)
    one = _run(X, D, 40, threshold=0.4, dt=0.1, tau=1.0)
    two = _run(X, D, 40, threshold=0.4, dt=0.25, tau=2.5)
    np.testing.assert_allclose(one[1], two[1], rtol=0, atol=1e-13)
    np.testing.assert_allclose(one[0], two[0], rtol=0, atol=1e-13)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("transfer", ["soft", "hard"])
@pytest.mark.parametrize("positive", [False, True])
def test_codes_are_the_transfer_of_the_returned_potentials(dtype, transfer, positive):
    X, D = _tiny_problem(4, dtype)
    c = THRESHOLD[transfer]
    codes, u = lca(X, D, threshold=c, transfer=transfer, positive=positive,
                   return_potentials=True)
    expected = transfer_reference(u, dtype(c), transfer, positive).astype(dtype)
    np.testing.assert_array_equal(codes, expected)


# --------------------------------------------------------------------------
# The fixed point of the soft transfer is the lasso optimum
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def patches():
    """(X, D): real unit-norm camera patches and a dictionary of 256 other patches."""
    P = load_patches(N_PATCH_SIGNALS + N_PATCH_ATOMS, images=["camera"], random_state=5)
    return P[N_PATCH_ATOMS:], P[:N_PATCH_ATOMS]


@pytest.fixture(scope="module")
def lasso_optimum(patches):
    """Per-signal lasso objective at PATCH_THRESHOLD (exact LARS), by positive."""
    X, D = patches
    return {positive: lasso_objective(X, D, lasso(X, D, alpha=PATCH_THRESHOLD,
                                                  positive=positive), PATCH_THRESHOLD)
            for positive in (False, True)}


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("positive", [False, True])
def test_soft_lca_reaches_the_lasso_optimum_on_patches(patches, lasso_optimum, integrator,
                                                       dtype, positive):
    X, D = patches
    codes = lca(X.astype(dtype), D.astype(dtype), threshold=PATCH_THRESHOLD,
                positive=positive, integrator=integrator, tol=PATCH_TOL, max_iter=20_000)
    assert codes.dtype == dtype
    f = lasso_objective(X, D, codes, PATCH_THRESHOLD)
    rel = (f - lasso_optimum[positive]) / lasso_optimum[positive]
    # Every signal within 1e-4 of its optimum, and never below it by more
    # than rounding (the optimum is exact).
    assert rel.max() < 1e-4
    assert rel.min() > -1e-6
    nnz = np.count_nonzero(codes, axis=1).mean()
    assert (8.0 if positive else 9.5) < nnz < 12.0
    if positive:
        assert np.all(codes >= 0)


@pytest.mark.parametrize("positive", [False, True])
def test_soft_lca_reaches_the_spams_lasso_objective(patches, positive):
    spams = pytest.importorskip("spams")
    X, D = patches
    ref = spams.lasso(np.asfortranarray(X.T), D=np.asfortranarray(D.T),
                      lambda1=PATCH_THRESHOLD, mode=2, pos=positive, numThreads=1)
    f_ref = lasso_objective(X, D, ref.toarray().T, PATCH_THRESHOLD)
    codes = lca(X, D, threshold=PATCH_THRESHOLD, positive=positive, integrator="nesterov",
                tol=PATCH_TOL)
    f = lasso_objective(X, D, codes, PATCH_THRESHOLD)
    assert np.max((f - f_ref) / f_ref) < 1e-4


def test_default_tolerance_leaves_euler_close_to_the_optimum(patches, lasso_optimum):
    # The documented accuracy of the defaults (tol=1e-2): about 0.1 % for
    # Euler, far less for Nesterov, on average over real patches.
    X, D = patches
    for integrator, bound in (("euler", 3e-3), ("nesterov", 1e-4)):
        codes = lca(X, D, threshold=PATCH_THRESHOLD, integrator=integrator)
        f = lasso_objective(X, D, codes, PATCH_THRESHOLD)
        assert np.mean(f) / np.mean(lasso_optimum[False]) - 1 < bound, integrator


def test_soft_fixed_point_satisfies_the_lca_equation(patches):
    # At the fixed point u = D x - (G - I) a.
    X, D = patches
    codes, u = lca(X[:50], D, threshold=PATCH_THRESHOLD, integrator="nesterov", tol=1e-9,
                   max_iter=20_000, return_potentials=True)
    G = D @ D.T
    np.testing.assert_allclose(u, X[:50] @ D.T - codes @ G + codes, rtol=0, atol=1e-7)


def test_nesterov_needs_far_fewer_steps_than_euler(patches):
    # Measured on these patches (mean objective above the optimum): Nesterov
    # 1.2e-3 after 60 steps and 6e-5 after 120; Euler at dt = 0.05 tau (the
    # largest stable step is 0.051 here) 2.8e-3 after 120 and 9e-5 after 480.
    X, D = patches
    f_opt = lasso_objective(X, D, lasso(X, D, alpha=PATCH_THRESHOLD), PATCH_THRESHOLD).mean()

    def gap(integrator, n_steps):
        codes, _ = _run(X, D, n_steps, threshold=PATCH_THRESHOLD, dt=0.05,
                        integrator=integrator)
        return lasso_objective(X, D, codes, PATCH_THRESHOLD).mean() / f_opt - 1

    assert gap("nesterov", 60) < 2e-3 < gap("euler", 120)
    assert gap("nesterov", 120) < gap("euler", 480)


# --------------------------------------------------------------------------
# Threads, dtypes, scaling, degenerate data
# --------------------------------------------------------------------------

@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
@pytest.mark.parametrize("n_signals", [700, 101])  # chunks of 256; of 51 and 50
def test_one_and_two_threads_give_identical_codes(integrator, n_signals):
    X = load_patches(n_signals, images=["camera"], random_state=2)
    D = load_patches(128, images=["camera"], random_state=3)
    one, u1 = lca(X, D, threshold=0.2, integrator=integrator, n_jobs=1,
                  return_potentials=True)
    two, u2 = lca(X, D, threshold=0.2, integrator=integrator, n_jobs=2,
                  return_potentials=True)
    np.testing.assert_array_equal(one, two)
    np.testing.assert_array_equal(u1, u2)
    assert np.count_nonzero(one) > 0


@pytest.mark.parametrize("dtype", [np.int64, np.uint8, np.float16])
def test_other_input_dtypes_give_float64_codes(dtype):
    X, D = _tiny_problem(5)
    X_int = np.round(X * 10).clip(0, 50).astype(dtype)
    codes = lca(X_int, D, threshold=1.0)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes, lca(X_int.astype(np.float64), D, threshold=1.0))


def test_float32_data_with_float64_dictionary_gives_float64_codes():
    X, D = _tiny_problem(5)
    assert lca(X.astype(np.float32), D, threshold=0.4).dtype == np.float64


@pytest.mark.parametrize("dtype, exponent", [(np.float64, 900), (np.float64, -900),
                                             (np.float32, 100), (np.float32, -100),
                                             (np.float64, 7)])
@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
def test_scaling_signal_and_threshold_by_a_power_of_two_scales_the_codes(dtype, exponent,
                                                                         integrator):
    # The dynamics are equivariant: u, a and the threshold scale with x. Far
    # from 1 the signals are scaled back internally (exactly), so the codes
    # agree to the last bit.
    X, D = _tiny_problem(6, dtype)
    codes, u = lca(X, D, threshold=0.4, integrator=integrator, return_potentials=True)
    scaled, u_scaled = lca(np.ldexp(X, exponent), D, threshold=float(np.ldexp(0.4, exponent)),
                           integrator=integrator, return_potentials=True)
    assert scaled.dtype == dtype
    np.testing.assert_array_equal(scaled, np.ldexp(codes, exponent))
    np.testing.assert_array_equal(u_scaled, np.ldexp(u, exponent))


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
@pytest.mark.parametrize("transfer", ["soft", "hard"])
def test_zero_signals_and_zero_atoms_give_zero_codes(integrator, transfer):
    X, D = _tiny_problem(7)
    X[[2, 5]] = 0
    D[[0, 9]] = 0
    codes, u = lca(X, D, threshold=0.3, transfer=transfer, integrator=integrator,
                   return_potentials=True)
    np.testing.assert_array_equal(codes[[2, 5]], 0.0)
    np.testing.assert_array_equal(u[[2, 5]], 0.0)
    np.testing.assert_array_equal(codes[:, [0, 9]], 0.0)
    assert np.all(np.count_nonzero(codes, axis=1)[[0, 1, 3, 4]] > 0)


def test_threshold_above_every_correlation_gives_zero_codes():
    X, D = _tiny_problem(8)
    c = float(np.abs(X @ D.T).max())
    np.testing.assert_array_equal(lca(X, D, threshold=c), 0.0)
    np.testing.assert_array_equal(lca(X, D, threshold=c, transfer="hard"), 0.0)


def test_threshold_zero_soft_lca_is_least_squares():
    # c = 0: T is the identity, the fixed point solves G a = D x.
    rng = np.random.default_rng(9)
    D = _unit_rows(rng.standard_normal((4, 10)))
    X = rng.standard_normal((3, 10))
    codes = lca(X, D, threshold=0.0, integrator="nesterov", tol=1e-10, max_iter=50_000)
    expected = np.linalg.lstsq(D.T, X.T, rcond=None)[0].T
    np.testing.assert_allclose(codes, expected, rtol=0, atol=1e-8)


def test_read_only_and_strided_inputs_are_accepted():
    X, D = _tiny_problem(10)
    expected = lca(X, D, threshold=0.4)
    X_ro, D_ro = X.copy(), D.copy()
    X_ro.setflags(write=False)
    D_ro.setflags(write=False)
    np.testing.assert_array_equal(lca(X_ro, D_ro, threshold=0.4), expected)
    wide = np.zeros((N_SAMPLES, 2 * N_FEATURES))
    wide[:, ::2] = X
    np.testing.assert_array_equal(lca(wide[:, ::2], np.asfortranarray(D), threshold=0.4),
                                  expected)


def test_largest_gram_eigenvalue_matches_numpy(monkeypatch):
    rng = np.random.default_rng(11)
    for shape in ((30, 8), (8, 30), (40, 40)):
        D = rng.standard_normal(shape)
        exact = np.linalg.eigvalsh(D @ D.T)[-1]
        got = largest_gram_eigenvalue(D)
        assert exact <= got <= exact * (1 + 2e-6)
    # The Lanczos branch for large dictionaries, deterministic.
    monkeypatch.setattr(lca_module, "_DENSE_EIG_MAX", 5)
    D = rng.standard_normal((30, 8))
    exact = np.linalg.eigvalsh(D @ D.T)[-1]
    got = largest_gram_eigenvalue(D)
    assert exact * (1 - 1e-7) <= got <= exact * (1 + 2e-6)
    assert largest_gram_eigenvalue(D) == got
    assert largest_gram_eigenvalue(np.zeros((3, 4))) == 0.0


# --------------------------------------------------------------------------
# Steps, convergence and errors
# --------------------------------------------------------------------------

def test_default_euler_step_is_lowered_for_coherent_dictionaries():
    # 60 coherent atoms: ||G||_2 is about 56, so dt = 0.05 tau is unstable
    # and refused, while dt=None takes tau / ||G||_2 and converges.
    rng = np.random.default_rng(12)
    D = _unit_rows(1.0 + 0.3 * rng.standard_normal((60, 10)))
    X = rng.standard_normal((5, 10)) + 3.0
    L = largest_gram_eigenvalue(D)
    assert L > 40
    with pytest.raises(ValueError, match=r"dt is too large for this dictionary: the Euler "
                                         r"step dt / tau = 0\.05 must be below 2 / "):
        lca(X, D, threshold=0.1, dt=0.05)
    codes = lca(X, D, threshold=0.1, tol=1e-6, max_iter=200_000)
    assert np.all(np.isfinite(codes))
    f = lasso_objective(X, D, codes, 0.1)
    f_opt = lasso_objective(X, D, lasso(X, D, alpha=0.1), 0.1)
    assert np.max((f - f_opt) / f_opt) < 1e-6
    # The Nesterov integrator takes its own stable step: dt is not used.
    np.testing.assert_array_equal(lca(X, D, threshold=0.1, dt=0.9, integrator="nesterov"),
                                  lca(X, D, threshold=0.1, integrator="nesterov"))


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
def test_dictionary_far_from_unit_norm_warns_instead_of_stalling_silently(integrator):
    # ||G||_2 ~ 1e301: the stable step is ~1e-301, nothing can move in a
    # bounded number of steps (100,000 Euler steps by default), and the
    # warning says so.
    X, D = _tiny_problem(20)
    with pytest.warns(ConvergenceWarning, match=r"reached max_iter=(100000|1000) steps"):
        codes = lca(X, D * 1e150, threshold=0.4, integrator=integrator)
    assert np.all(np.isfinite(codes))


@pytest.mark.parametrize("integrator", ["euler", "nesterov"])
def test_max_iter_reached_warns_with_the_change_left(integrator):
    X, D = _tiny_problem(13)
    with pytest.warns(ConvergenceWarning,
                      match=rf"LCA \({integrator}\) reached max_iter=3 steps on 12 of 12 "
                            r"signals; the largest relative change of the potentials left "
                            r"is [0-9.e+-]+ per tau \(tol 1\.0e-02\)"):
        codes = lca(X, D, threshold=0.4, max_iter=3, integrator=integrator)
    assert np.all(np.isfinite(codes))


def test_default_max_iter_covers_fifty_time_constants():
    X, D = _tiny_problem(14)
    # 50 tau at dt = 0.1 tau is 500 steps: 499 steps plus a step from the
    # warning's count.
    with pytest.warns(ConvergenceWarning, match="max_iter=500 steps"):
        lca(X, D, threshold=0.4, dt=0.1, tol=0.0)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(threshold=-0.1), ValueError, "threshold must be >= 0"),
    (dict(threshold=float("nan")), ValueError, "threshold must be finite"),
    (dict(threshold="0.1"), TypeError, "threshold must be a float"),
    (dict(transfer="sigmoid"), ValueError, "transfer must be one of 'soft', 'hard'"),
    (dict(positive="yes"), TypeError, "positive must be a bool"),
    (dict(tau=0.0), ValueError, r"tau must be > 0; got 0\.0"),
    (dict(tau=-1.0), ValueError, "tau must be > 0"),
    (dict(tau=float("inf")), ValueError, "tau must be finite"),
    (dict(dt=0.0), ValueError, r"dt must be > 0; got 0\.0"),
    (dict(dt=-0.05), ValueError, "dt must be > 0"),
    (dict(dt=1.5), ValueError, r"dt must be <= tau .*got dt=1\.5 and tau=1\.0"),
    (dict(dt=0.3, tau=0.2), ValueError, "dt must be <= tau"),
    (dict(max_iter=0), ValueError, r"max_iter must be an int in the range \[1, \d+\]; got 0"),
    (dict(max_iter=2.5), TypeError, "max_iter must be an int"),
    (dict(max_iter=2**70), ValueError, r"max_iter must be an int in the range \[1, "),
    (dict(tol=-1e-3), ValueError, "tol must be >= 0"),
    (dict(tol=None), TypeError, "tol must be a float"),
    (dict(integrator="rk4"), ValueError, "integrator must be one of 'euler', 'nesterov'"),
    (dict(return_potentials=1), TypeError, "return_potentials must be a bool"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a non-zero int"),
])
def test_bad_parameters_raise_naming_the_parameter(kwargs, error, match):
    X, D = _tiny_problem(15)
    kwargs = {"threshold": 0.4, **kwargs}
    with pytest.raises(error, match=match):
        lca(X, D, **kwargs)


@pytest.mark.parametrize("X, D, match", [
    (np.full((3, 10), np.nan), np.eye(4, 10), "X contains NaN or infinity"),
    (np.ones((3, 10)), np.full((4, 10), np.inf), "dictionary contains NaN or infinity"),
    (np.ones((3, 9)), np.eye(4, 10), "X has 9 features per row but dictionary atoms have 10"),
    (np.ones(10), np.eye(4, 10), "X must be a 2-D array"),
    (np.ones((3, 10)), np.ones(10), "dictionary must be a 2-D array"),
    (np.ones((0, 10)), np.eye(4, 10), "X is empty"),
    (np.ones((3, 10), np.float32), np.full((4, 10), 1e20, np.float32),
     "dictionary is too large for float32: D @ D.T overflows"),
])
def test_bad_data_raise_naming_the_argument(X, D, match):
    with pytest.raises(ValueError, match=match):
        lca(X, D, threshold=0.1)


# --------------------------------------------------------------------------
# LCACoder and SparseCoder(algorithm="lca")
# --------------------------------------------------------------------------

def _coder_for_check(name):
    rng = np.random.default_rng(0)
    dictionary = _unit_rows(rng.normal(size=(5, CHECK_WIDTHS.get(name, DEFAULT_WIDTH))))
    if name in FLOAT32_DICTIONARY_CHECKS:
        dictionary = dictionary.astype(np.float32)
    return LCACoder(dictionary)


def _all_checks():
    # Per-check dictionary widths, as for SparseCoder (tests/test_coder.py).
    template = LCACoder(np.eye(5, DEFAULT_WIDTH))
    for _, check in estimator_checks_generator(template, legacy=True):
        name = _check_name(check)
        yield pytest.param(_coder_for_check(name), check, id=_check_id(check))


@pytest.mark.parametrize("estimator, check", list(_all_checks()))
def test_sklearn_estimator_checks(estimator, check):
    check(clone(estimator))


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("params", [
    dict(), dict(transfer="hard", threshold=0.6, positive=True),
    dict(integrator="nesterov", tol=1e-4, tau=2.0),
    dict(dt=0.05, transform_max_iter=50, tol=0.0)])
def test_lca_coder_transform_equals_lca(dtype, params):
    X, D = _tiny_problem(16)
    X = X.astype(dtype)
    coder = LCACoder(D, **params)
    kwargs = {"threshold": 0.1, **params}
    if "transform_max_iter" in kwargs:
        kwargs["max_iter"] = kwargs.pop("transform_max_iter")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter=50, tol=0
        codes = coder.fit(X).transform(X)
        expected = lca(X, D.astype(dtype), **kwargs)
    assert codes.dtype == dtype
    np.testing.assert_array_equal(codes, expected)
    assert coder.n_components_ == N_COMPONENTS
    np.testing.assert_allclose(coder.inverse_transform(codes), codes @ D.astype(dtype),
                               rtol=1e-6)
    assert coder.inverse_transform(codes).dtype == dtype


def test_lca_coder_feature_names_and_transform_without_fit():
    X, D = _tiny_problem(17)
    coder = LCACoder(D, threshold=0.3)
    codes = coder.transform(X)
    assert not hasattr(coder, "n_features_in_")
    np.testing.assert_array_equal(clone(coder).fit(X).transform(X), codes)
    names = coder.fit(X).get_feature_names_out()
    np.testing.assert_array_equal(names, [f"lcacoder{i}" for i in range(N_COMPONENTS)])


@pytest.mark.parametrize("params, error, match", [
    (dict(dt=2.0), ValueError, "dt must be <= tau"),
    (dict(integrator="heun"), ValueError, "integrator must be one of"),
    (dict(threshold=-1.0), ValueError, "threshold must be >= 0"),
])
@pytest.mark.parametrize("method", ["fit", "transform"])
def test_lca_coder_bad_parameters_raise_at_fit_and_transform(params, error, match, method):
    X, D = _tiny_problem(18)
    with pytest.raises(error, match=match):
        getattr(LCACoder(D, **params), method)(X)


@pytest.mark.parametrize("positive", [False, True])
def test_sparse_coder_lca_is_soft_nesterov_lca_with_alpha_as_threshold(patches, positive):
    X, D = patches
    coder = SparseCoder(D, algorithm="lca", alpha=PATCH_THRESHOLD, positive=positive,
                        tol=1e-4, transform_max_iter=5000)
    codes = coder.fit(X).transform(X)
    expected = lca(X, D, threshold=PATCH_THRESHOLD, positive=positive,
                   integrator="nesterov", tol=1e-4, max_iter=5000)
    np.testing.assert_array_equal(codes, expected)
    f = lasso_objective(X, D, codes, PATCH_THRESHOLD)
    f_opt = lasso_objective(X, D, lasso(X, D, alpha=PATCH_THRESHOLD, positive=positive),
                            PATCH_THRESHOLD)
    assert np.max((f - f_opt) / f_opt) < 1e-4


@pytest.mark.parametrize("params, error, match", [
    (dict(alpha=-1.0), ValueError, "alpha must be >= 0"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(transform_max_iter=0), ValueError, r"max_iter must be an int in the range \[1, "),
])
def test_sparse_coder_lca_bad_parameters_name_them(params, error, match):
    X, D = _tiny_problem(19)
    with pytest.raises(error, match=match):
        SparseCoder(D, algorithm="lca", **params).transform(X)

"""Property-based robustness tests of sparsetools.orthogonal_mp, lasso and lca.

Hypothesis throws small shapes, awkward values (zeros, repeated values and
rows, huge and tiny magnitudes, subnormals), every parameter combination and
both dtypes at the coder. It must either return finite codes of the right
shape and dtype whose residual is never larger than the signal, or raise
ValueError / TypeError; it must never crash, hang or return garbage.
"""
import warnings

import numpy as np
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.exceptions import ConvergenceWarning

from sparsetools import lasso, orthogonal_mp
from sparsetools.coding import lca

from _reference import lasso_kkt_violation, lasso_objective

# How much larger than ||x|| the residual ||x - a D|| may come out, relative
# to ||x||. Mathematically it is never larger (least squares on the support).
RESIDUAL_RTOL = {np.float32: 1e-3, np.float64: 1e-6}


def _values(dtype):
    width = 32 if dtype == np.float32 else 64
    finite = st.floats(allow_nan=False, allow_infinity=False, width=width)
    moderate = st.floats(-10.0, 10.0, width=width)
    # Frequent exact zeros and repeated values make zero atoms, zero signals,
    # duplicated atoms and ties.
    special = st.sampled_from([0.0, 1.0, -1.0, 0.5])
    return st.one_of(special, moderate, finite)


@st.composite
def problems(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n_samples = draw(st.integers(1, 20))
    n_features = draw(st.integers(1, 12))
    n_components = draw(st.integers(1, 30))
    X = draw(arrays(dtype, (n_samples, n_features), elements=_values(dtype)))
    D = draw(arrays(dtype, (n_components, n_features), elements=_values(dtype)))
    if n_components > 1 and draw(st.booleans()):
        # An exact copy of one atom somewhere else in the dictionary.
        src, dst = draw(st.permutations(range(n_components)))[:2]
        D[dst] = D[src]
    if draw(st.booleans()):
        # One scale for the whole dictionary or signal set, far from 1.
        exponent = draw(st.integers(-120, 120) if dtype == np.float32
                        else st.integers(-1000, 1000))
        target = D if draw(st.booleans()) else X
        with np.errstate(over="ignore", under="ignore"):
            target[...] = np.ldexp(target, exponent)
        if not np.all(np.isfinite(target)):
            target[~np.isfinite(target)] = 0
    k = draw(st.one_of(st.none(), st.integers(1, n_components)))
    tol = draw(st.one_of(st.none(), st.just(0.0),
                         st.floats(0.0, 1e30, allow_nan=False, allow_infinity=False)))
    method = draw(st.sampled_from(["omp", "ormp"]))
    n_jobs = draw(st.sampled_from([None, 1, 2]))
    return X, D, k, tol, method, n_jobs


def _row_scale_exponents(X):
    """Per row, e such that max|x| * 2**-e is in [0.5, 1) (0 for zero rows)."""
    m = np.max(np.abs(X.astype(np.float64)), axis=1)
    return np.where(m > 0, np.frexp(m)[1], 0)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems())
def test_orthogonal_mp_returns_valid_codes_or_raises(problem):
    X, D, k, tol, method, n_jobs = problem
    X_before, D_before = X.copy(), D.copy()
    try:
        codes = orthogonal_mp(X, D, n_nonzero_coefs=k, tol=tol, method=method,
                              n_jobs=n_jobs)
    except (ValueError, TypeError) as exc:
        # The only data-dependent failures: codes that overflow the dtype, or
        # that would lose more than half their precision to underflow.
        assert "overflow" in str(exc) or "underflow" in str(exc)
        return
    finally:
        np.testing.assert_array_equal(X, X_before)
        np.testing.assert_array_equal(D, D_before)
    n_samples, n_features = X.shape
    n_components = D.shape[0]
    assert isinstance(codes, np.ndarray)
    assert codes.shape == (n_samples, n_components)
    assert codes.dtype == X.dtype
    assert np.all(np.isfinite(codes))

    if k is None:
        k = max(int(0.1 * n_features), 1) if tol is None else n_components
    nnz = np.count_nonzero(codes, axis=1)
    assert np.all(nnz <= min(k, n_features))
    # Zero signals and zero atoms.
    zero_rows = ~np.any(X != 0, axis=1)
    assert np.all(nnz[zero_rows] == 0)
    zero_atoms = ~np.any(D != 0, axis=1)
    assert np.all(codes[:, zero_atoms] == 0)

    # ||x - a D|| <= ||x|| with each row rescaled by a power of two (exact)
    # so that nothing overflows or underflows in float64.
    e = _row_scale_exponents(X)[:, None]
    x = np.ldexp(X.astype(np.float64), -e)
    with np.errstate(over="ignore", under="ignore"):
        a = np.ldexp(codes.astype(np.float64), -e)
        recon = a @ D.astype(np.float64)
    if not np.all(np.isfinite(recon)):
        # Ill-conditioned products beyond float64 cannot be checked here.
        return
    residual = np.linalg.norm(x - recon, axis=1)
    norm = np.linalg.norm(x, axis=1)
    # A code below the dtype's normal range has lost precision the dtype does
    # not have (float32 atoms 1e16 apart, signals of 1e-29): its row's
    # residual is not checked.
    representable = ~np.any((codes != 0) & (np.abs(codes) < np.finfo(X.dtype).tiny),
                            axis=1)
    assert np.all((residual <= norm * (1 + RESIDUAL_RTOL[X.dtype.type]) + 1e-300)
                  | ~representable)


# --------------------------------------------------------------------------
# sparsetools.lasso
# --------------------------------------------------------------------------
#
# Same idea: any shapes, values, alpha, positive, dtype and n_jobs. lasso must
# return finite codes of the right shape and dtype that do not do worse than
# the zero code and meet the optimality (KKT) conditions to a loose
# tolerance, or raise ValueError / TypeError (codes that overflow the dtype,
# or would all underflow it).

# How much above the objective of the zero code, 0.5 ||x||^2, the objective
# may come out, relative to it. Mathematically it is never above.
LASSO_OBJECTIVE_RTOL = {np.float32: 1e-3, np.float64: 1e-6}
# KKT violations (relative to ||x|| max ||d_j||) allowed, in units of the
# rounding error of the correlations D (x - a D): eps * n_components *
# (1 + max ||d_j|| ||a||_1 / ||x||).
LASSO_KKT_ULPS = 1e4


LASSO_METHODS = ["lars", "cd", "fista"]


@st.composite
def lasso_problems(draw):
    dtype = draw(st.sampled_from([np.float32, np.float64]))
    n_samples = draw(st.integers(1, 20))
    n_features = draw(st.integers(1, 12))
    n_components = draw(st.integers(1, 30))
    X = draw(arrays(dtype, (n_samples, n_features), elements=_values(dtype)))
    D = draw(arrays(dtype, (n_components, n_features), elements=_values(dtype)))
    if n_components > 1 and draw(st.booleans()):
        # An exact copy (or the opposite) of one atom elsewhere in the dictionary.
        src, dst = draw(st.permutations(range(n_components)))[:2]
        D[dst] = D[src] if draw(st.booleans()) else -D[src]
    if draw(st.booleans()):
        # One scale for the whole dictionary or signal set, far from 1.
        exponent = draw(st.integers(-120, 120) if dtype == np.float32
                        else st.integers(-1000, 1000))
        target = D if draw(st.booleans()) else X
        with np.errstate(over="ignore", under="ignore"):
            target[...] = np.ldexp(target, exponent)
        if not np.all(np.isfinite(target)):
            target[~np.isfinite(target)] = 0
    if draw(st.booleans()):
        # alpha relative to the largest correlation: the interesting range.
        with np.errstate(over="ignore", under="ignore", invalid="ignore"):
            c_max = float(np.max(np.abs(X.astype(np.float64) @ D.T.astype(np.float64))))
        fraction = draw(st.one_of(st.sampled_from([0.0, 1.0]), st.floats(0.0, 1.5)))
        alpha = fraction * c_max if np.isfinite(fraction * c_max) else 1.0
    else:
        alpha = draw(st.one_of(
            st.sampled_from([0.0, 5e-324, 1e-300, 1e-30, 1.0, 1e30, 1e39, 1e300]),
            st.floats(0.0, 1e3, allow_nan=False, allow_infinity=False)))
    positive = draw(st.booleans())
    method = draw(st.sampled_from(LASSO_METHODS))
    n_jobs = draw(st.sampled_from([None, 1, 2]))
    return X, D, float(alpha), positive, method, n_jobs


def _near_dependent_lasso_problem(d_2_9, d_9_0):
    """Falsifying examples of the LARS dependence test (alpha = 0, float64).

    Signals of 2.8e15, a rank-4 dictionary of entries 2.2e16: repeated
    atoms, near-parallel ones and one with a small pivot. The last signal is
    atom 8 (over 8). The homotopy reached the zero residual, then followed
    rounding noise and let atom 15, in the span of the active atoms {8, 2, 9,
    0}, join on a squared distance of noise just above 1000 eps: codes with a
    KKT violation of 0.26 and, with the second dictionary, an objective 23
    times that of the zero code.
    """
    v = float.fromhex("0x1.3a0b8aac0761ap+51")
    X = np.full((9, 10), v)
    X[8, 9] = 0.0
    D = np.full((16, 10), 8 * v)
    D[0, 0] = D[2, 0] = D[8, 9] = D[15, 7] = 0.0
    D[2, 7] = float.fromhex("0x1.20dd3387278afp+54")
    D[2, 9] = float.fromhex(d_2_9)
    D[9, 0] = float.fromhex(d_9_0)
    return X, D, 0.0, False, "lars", None


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lasso_problems())
@example(_near_dependent_lasso_problem("-0x1.e2b99ea00d51ep+52", "-0x1.13e07fe2a6773p+53"))
@example(_near_dependent_lasso_problem("-0x1.e2b99ea00d522p+54", "-0x1.09f03ff1533a4p+52"))
# Coordinate descent, float32: two parallel atoms 1e22 times smaller than the
# largest, whose Gram entries are subnormal (an indefinite 2 x 2 block): the
# sweeps diverged to NaN codes.
@example((np.ones((1, 11), np.float32),
          np.array([[2.0 ** 73] + [0.0] * 10, [0.0] * 11, [0.0] * 11,
                    [0.0] * 5 + [1.5] + [0.0] * 5, [0.0] * 5 + [1.0] + [0.0] * 5],
                   dtype=np.float32),
          0.0, False, "cd", None))
def test_lasso_returns_valid_codes_or_raises(problem):
    X, D, alpha, positive, method, n_jobs = problem
    X_before, D_before = X.copy(), D.copy()
    try:
        with warnings.catch_warnings():
            if method in ("cd", "fista"):
                # The iterative solvers may run out of iterations on
                # ill-conditioned problems (alpha = 0 with near-parallel atoms,
                # or atoms 1e6 apart in norm) and say so; the homotopy is exact
                # and must never warn.
                warnings.simplefilter("ignore", ConvergenceWarning)
            codes = lasso(X, D, alpha=alpha, positive=positive, method=method,
                          n_jobs=n_jobs)
    except (ValueError, TypeError) as exc:
        # The only data-dependent failures: codes that overflow the dtype, or
        # that would all underflow it.
        assert "overflow" in str(exc) or "underflow" in str(exc)
        return
    finally:
        np.testing.assert_array_equal(X, X_before)
        np.testing.assert_array_equal(D, D_before)
    n_samples, n_features = X.shape
    n_components = D.shape[0]
    dtype = X.dtype.type
    assert isinstance(codes, np.ndarray)
    assert codes.shape == (n_samples, n_components)
    assert codes.dtype == X.dtype
    assert np.all(np.isfinite(codes))
    if positive:
        assert np.all(codes >= 0)
    # Zero signals and zero atoms.
    zero_rows = ~np.any(X != 0, axis=1)
    assert np.all(codes[zero_rows] == 0)
    zero_atoms = ~np.any(D != 0, axis=1)
    assert np.all(codes[:, zero_atoms] == 0)

    # Rescale each row of X by 2**-e and D by 2**-f (exact) so that nothing
    # overflows in float64; the codes scale by 2**(f - e), alpha by 2**(-e - f).
    e = _row_scale_exponents(X)
    f = int(np.frexp(np.max(np.abs(D.astype(np.float64))))[1]) if np.any(D != 0) else 0
    with np.errstate(over="ignore", under="ignore"):
        x = np.ldexp(X.astype(np.float64), -e[:, None])
        d = np.ldexp(D.astype(np.float64), -f)
        a = np.ldexp(codes.astype(np.float64), (f - e)[:, None])
        alphas = np.ldexp(alpha, -e - f)
        recon = a @ d
    if not (np.all(np.isfinite(a)) and np.all(np.isfinite(recon))):
        # Ill-conditioned products beyond float64 cannot be checked here.
        return
    # alpha beyond float64 in these units dwarfs every correlation: zero codes.
    huge = ~np.isfinite(alphas)
    assert np.all(codes[huge] == 0)
    # Atoms so much smaller than the largest one that their squared norms
    # underflow in the dtype (lasso scales D as a whole, by at most 2**-f)
    # have no reliable Gram entries: rows that use one are not checked
    # further (a known limitation, as for orthogonal_mp).
    eps, tiny = np.finfo(dtype).eps, np.finfo(dtype).tiny
    with np.errstate(under="ignore", over="ignore"):
        atom_norms = np.linalg.norm(d, axis=1)
        threshold = np.ldexp(np.sqrt(tiny / eps), max(-f, 0))
    unreliable = (atom_norms > 0) & (atom_norms < threshold)
    keep = ~huge & ~np.any(codes[:, unreliable] != 0, axis=1)
    x, a, alphas = x[keep], a[keep], alphas[keep]
    if x.shape[0] == 0:
        return

    d_max = np.max(atom_norms)
    x_norm = np.linalg.norm(x, axis=1)
    # What underflows where lasso works: it may scale X as a whole by 2**-g
    # (so signals far smaller than the largest one of the call lose their
    # low bits) and D by 2**-f, and the signals, correlations and codes it
    # works with are held to multiples of the smallest normal number there.
    # In these units (x by 2**-e, D by 2**-f) those steps are at most tiny
    # times 2**(g - e), 2**(g - e + max(-f, 0)) and 2**(g - e + max(f, 0)).
    g = max(int(np.frexp(np.max(np.abs(X.astype(np.float64))))[1]), 0)
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        signal_quantum = np.ldexp(tiny, g - e[keep])
        corr_quantum = np.ldexp(tiny, g - e[keep] + max(-f, 0))
        code_quantum = np.ldexp(tiny, g - e[keep] + max(f, 0))
        # the residual ||x - a D|| these steps can move
        residual_slack = (2 * np.sqrt(n_features) * signal_quantum
                          + 2 * n_components * d_max * code_quantum)

    # No worse than the zero code.
    zero_objective = 0.5 * x_norm ** 2
    objective = lasso_objective(x, d, a, alphas)
    with np.errstate(over="ignore", invalid="ignore"):
        slack = np.where(x_norm > 0, x_norm * residual_slack + residual_slack ** 2, 0.0)
    assert np.all(objective <= zero_objective * (1 + LASSO_OBJECTIVE_RTOL[dtype]) + slack
                  + 1e-300)

    # Codes are zero where alpha is above every correlation (with a margin
    # for the rounding of the correlations in the working dtype).
    corr = x @ d.T
    c_max = corr.max(axis=1) if positive else np.abs(corr).max(axis=1)
    with np.errstate(over="ignore"):  # an infinite margin (subnormal rows): no test
        above = alphas > c_max + 1e3 * eps * n_features * x_norm * d_max + 2 * corr_quantum
    assert np.all(a[above] == 0)

    if method != "lars":
        return
    # Optimality: exact up to rounding for the homotopy, and up to what
    # underflows.
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        growth = np.where(x_norm > 0, d_max * np.sum(np.abs(a), axis=1) / x_norm, 0.0)
        underflow = np.where(x_norm > 0,
                             (residual_slack * d_max + 2 * corr_quantum) / (x_norm * d_max),
                             0.0)
    # An atom whose component off the active atoms' span has a squared norm
    # under 1000 eps of its own never joins (numerically dependent); its
    # correlation with the residual can then exceed alpha by up to
    # sqrt(1000 eps) ||d|| ||r|| (found by the fuzz test: atoms 1e-7 apart).
    dependence = np.sqrt(1000 * eps)
    tolerance = (LASSO_KKT_ULPS * eps * n_components * (1 + growth) + underflow
                 + dependence)
    violation = lasso_kkt_violation(x, d, a, alphas, positive)
    assert np.all(violation <= tolerance), (violation, tolerance)


# --------------------------------------------------------------------------
# sparsetools.coding.lca
# --------------------------------------------------------------------------
#
# Any shapes, values, threshold, transfer function, integrator, time step and
# dtype. lca must return finite codes and potentials of the right shape and
# dtype, with zero codes for zero signals and zero atoms and non-negative
# codes when positive, or raise ValueError / TypeError saying why (codes that
# overflow or underflow the dtype, a time step too large for the dictionary,
# a dictionary whose Gram matrix or stable step is beyond the dtype).

LCA_ERRORS = ("overflow", "underflow", "dt is too large", "dictionary is too large")


@st.composite
def lca_problems(draw):
    X, D, alpha, positive, _, n_jobs = draw(lasso_problems())
    transfer = draw(st.sampled_from(["soft", "hard"]))
    integrator = draw(st.sampled_from(["euler", "nesterov"]))
    tau = draw(st.sampled_from([1.0, 0.5, 1e-3, 1e3]))
    dt = draw(st.one_of(st.none(), st.floats(1e-6, 1.0).map(lambda f: f * tau)))
    # None: the default number of steps (up to 100,000 Euler steps), with a
    # tolerance that a few steps reach on these tiny problems
    max_iter = draw(st.one_of(st.integers(1, 300), st.none()))
    tol = draw(st.sampled_from([0.0, 1e-8, 1e-2, 1.0, 1e30]) if max_iter is not None
               else st.sampled_from([1e-2, 1.0, 1e30]))
    return X, D, alpha, transfer, positive, tau, dt, max_iter, tol, integrator, n_jobs


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lca_problems())
def test_lca_returns_finite_codes_or_raises(problem):
    X, D, alpha, transfer, positive, tau, dt, max_iter, tol, integrator, n_jobs = problem
    X_before, D_before = X.copy(), D.copy()
    try:
        with warnings.catch_warnings():
            # max_iter is small on purpose: running out of steps is expected
            warnings.simplefilter("ignore", ConvergenceWarning)
            codes, potentials = lca(X, D, threshold=alpha, transfer=transfer,
                                    positive=positive, tau=tau, dt=dt, max_iter=max_iter,
                                    tol=tol, integrator=integrator, n_jobs=n_jobs,
                                    return_potentials=True)
    except (ValueError, TypeError) as exc:
        assert any(reason in str(exc) for reason in LCA_ERRORS), str(exc)
        return
    finally:
        np.testing.assert_array_equal(X, X_before)
        np.testing.assert_array_equal(D, D_before)
    shape = (X.shape[0], D.shape[0])
    for out in (codes, potentials):
        assert isinstance(out, np.ndarray)
        assert out.shape == shape
        assert out.dtype == X.dtype
        assert np.all(np.isfinite(out))
    if positive:
        assert np.all(codes >= 0)
    # a = T(u) is u, or u shrunk towards 0, or 0.
    assert np.all(np.abs(codes) <= np.abs(potentials))
    zero_rows = ~np.any(X != 0, axis=1)
    assert np.all(codes[zero_rows] == 0)
    assert np.all(potentials[zero_rows] == 0)
    zero_atoms = ~np.any(D != 0, axis=1)
    assert np.all(codes[:, zero_atoms] == 0)

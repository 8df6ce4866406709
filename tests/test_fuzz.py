"""Property-based robustness test of sparsetools.orthogonal_mp.

Hypothesis throws small shapes, awkward values (zeros, repeated values and
rows, huge and tiny magnitudes, subnormals), every parameter combination and
both dtypes at the coder. It must either return finite codes of the right
shape and dtype whose residual is never larger than the signal, or raise
ValueError / TypeError; it must never crash, hang or return garbage.
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from sparsetools import orthogonal_mp

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
        # The only data-dependent failure: codes that overflow the dtype.
        assert "overflow" in str(exc)
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
    assert np.all(residual <= norm * (1 + RESIDUAL_RTOL[X.dtype.type]) + 1e-300)

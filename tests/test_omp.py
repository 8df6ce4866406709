"""Tests of sparsetools.orthogonal_mp (methods "omp" and "ormp").

Tiny random problems check the exact contract against the NumPy reference of
tests/_reference.py; real image patches check agreement with scikit-learn's
``orthogonal_mp_gram`` (OMP) and SPAMS's ``omp`` (ORMP) where the numbers
mean something.
"""
import concurrent.futures

import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.linear_model import orthogonal_mp_gram

from sparsetools import orthogonal_mp
from sparsetools.datasets import load_patches

from _reference import omp_reference, ormp_reference

METHODS = ("omp", "ormp")
REFERENCES = {"omp": omp_reference, "ormp": ormp_reference}

# Tiny problems: 10 signals of 8 features, 16 atoms.
N_SAMPLES, N_FEATURES, N_COMPONENTS = 10, 8, 16

# Real patches: 8x8 patches of the camera and astronaut images.
N_PATCH_SIGNALS, N_PATCH_ATOMS = 5000, 256
# scikit-learn's orthogonal_mp_gram loops in Python: compare on fewer signals.
N_SKLEARN_SIGNALS = 2000

# float32 coefficients against the float64 reference: relative to the largest
# coefficient of the row (float32 epsilon is 1.2e-7; the 5-atom subsets of a
# random 16 x 8 dictionary have condition numbers up to a few hundred).
F32_RTOL = 1e-4


def _unit_rows(A):
    return A / np.linalg.norm(A, axis=1, keepdims=True)


def _tiny_problem(seed, dtype=np.float64):
    rng = np.random.default_rng(seed)
    D = _unit_rows(rng.standard_normal((N_COMPONENTS, N_FEATURES)))
    # Rows of different energies so that a global tol stops them at different steps.
    X = rng.standard_normal((N_SAMPLES, N_FEATURES)) * rng.uniform(0.5, 2.0, (N_SAMPLES, 1))
    return X.astype(dtype), D.astype(dtype)


def _reference_codes(X, D, method, k, tol):
    k = D.shape[0] if k is None else k
    X64, D64 = np.asarray(X, np.float64), np.asarray(D, np.float64)
    return np.array([REFERENCES[method](x, D64, k, tol) for x in X64])


def _support_match(a, b):
    """Per row: whether the two codes have exactly the same non-zero positions."""
    return np.all((a != 0) == (b != 0), axis=1)


def _sq_residuals(X, D, codes):
    X64, D64, C64 = (np.asarray(A, np.float64) for A in (X, D, codes))
    return np.sum((X64 - C64 @ D64) ** 2, axis=1)


@pytest.fixture(scope="module")
def patches():
    """(X, D): 5,000 real unit-norm patches and a dictionary of 256 other patches."""
    P = load_patches(N_PATCH_SIGNALS + N_PATCH_ATOMS, images=("camera", "astronaut"),
                     random_state=0)
    return P[:N_PATCH_SIGNALS], P[N_PATCH_SIGNALS:]


# --------------------------------------------------------------------------
# Agreement with the NumPy reference on tiny problems
# --------------------------------------------------------------------------

@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k, tol", [(4, None), (6, 3.0), (None, 1.0)])
def test_float64_codes_match_numpy_reference(seed, method, k, tol):
    X, D = _tiny_problem(seed)
    codes = orthogonal_mp(X, D, n_nonzero_coefs=k, tol=tol, method=method)
    ref = _reference_codes(X, D, method, k, tol)
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    assert codes.dtype == np.float64
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, rtol=0, atol=1e-10)


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k, tol", [(4, None), (6, 3.0)])
def test_float32_codes_match_numpy_reference_to_float32_tolerance(seed, method, k, tol):
    X, D = _tiny_problem(seed, np.float32)
    codes = orthogonal_mp(X, D, n_nonzero_coefs=k, tol=tol, method=method)
    ref = _reference_codes(X, D, method, k, tol)
    assert codes.dtype == np.float32
    np.testing.assert_array_equal(codes != 0, ref != 0)
    scale = np.maximum(np.abs(ref).max(axis=1, keepdims=True), 1.0)
    assert np.all(np.abs(codes - ref) <= F32_RTOL * scale)


def test_default_n_nonzero_coefs_is_a_tenth_of_n_features(patches):
    X, D = patches
    codes = orthogonal_mp(X[:500], D)
    # 64 features: max(int(0.1 * 64), 1) = 6 atoms, as in scikit-learn.
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), 6)


# --------------------------------------------------------------------------
# Real patches: scikit-learn, SPAMS, float32
# --------------------------------------------------------------------------

@pytest.mark.filterwarnings("ignore:Orthogonal matching pursuit ended prematurely:RuntimeWarning")
@pytest.mark.parametrize("k", [5, 10])
def test_omp_matches_sklearn_orthogonal_mp_gram_on_patches(patches, k):
    X, D = patches
    X = X[:N_SKLEARN_SIGNALS]
    codes = orthogonal_mp(X, D, n_nonzero_coefs=k, method="omp")
    ref = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=k).T
    same = _support_match(codes, ref)
    assert same.mean() >= 0.999
    np.testing.assert_allclose(codes[same], ref[same], rtol=0, atol=1e-8)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), k)


@pytest.mark.parametrize("k", [5, 10])
def test_ormp_matches_spams_omp_on_patches(patches, k):
    spams = pytest.importorskip("spams")
    X, D = patches
    codes = orthogonal_mp(X, D, n_nonzero_coefs=k, method="ormp")
    ref = spams.omp(np.asfortranarray(X.T), np.asfortranarray(D.T), L=k, eps=0.0,
                    lambda1=0.0, numThreads=1).toarray().T
    same = _support_match(codes, ref)
    assert same.mean() >= 0.999
    np.testing.assert_allclose(codes[same], ref[same], rtol=0, atol=1e-8)


@pytest.mark.parametrize("k", [5, 10])
def test_ormp_residual_never_above_omp_residual_on_average(patches, k):
    # ORMP picks the atom that minimises the next residual: on real data its
    # mean residual is no larger than OMP's.
    X, D = patches
    r_omp = _sq_residuals(X, D, orthogonal_mp(X, D, n_nonzero_coefs=k, method="omp"))
    r_ormp = _sq_residuals(X, D, orthogonal_mp(X, D, n_nonzero_coefs=k, method="ormp"))
    assert r_ormp.mean() <= r_omp.mean()
    # And both explain most of the energy of unit-norm patches.
    assert r_omp.mean() < 0.5


@pytest.mark.parametrize("method", METHODS)
def test_float32_supports_match_float64_on_patches(patches, method):
    X, D = patches
    c64 = orthogonal_mp(X, D, n_nonzero_coefs=10, method=method)
    c32 = orthogonal_mp(X.astype(np.float32), D.astype(np.float32), n_nonzero_coefs=10,
                        method=method)
    assert c32.dtype == np.float32
    same = _support_match(c32, c64)
    assert same.mean() >= 0.99
    np.testing.assert_allclose(c32[same], c64[same], rtol=0, atol=1e-3)


# --------------------------------------------------------------------------
# tol semantics
# --------------------------------------------------------------------------

@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize("k", [8, None])
def test_tol_stops_as_soon_as_squared_residual_is_at_most_tol(patches, method, k):
    X, D = patches
    X = X[:2000]
    tol = 0.1  # patches have unit norm
    codes = orthogonal_mp(X, D, n_nonzero_coefs=k, tol=tol, method=method)
    nnz = np.count_nonzero(codes, axis=1)
    res = _sq_residuals(X, D, codes)
    k_max = D.shape[0] if k is None else k
    # Every code either meets tol or used all its atoms.
    assert np.all((res <= tol * (1 + 1e-9)) | (nnz == k_max))
    # Not one atom too many: the residual before the last atom was above tol.
    # The greedy path for m - 1 atoms is the prefix of the path for m atoms.
    assert np.all(nnz >= 1)  # ||x||^2 = 1 > tol
    for m in np.unique(nnz):
        rows = np.flatnonzero(nnz == m)
        if m == 1:
            before = np.sum(X[rows] ** 2, axis=1)
        else:
            prefix = orthogonal_mp(X[rows], D, n_nonzero_coefs=int(m - 1), method=method)
            assert np.all((prefix == 0) | (codes[rows] != 0))  # support of prefix is a subset
            before = _sq_residuals(X[rows], D, prefix)
        assert np.all(before > tol)


@pytest.mark.parametrize("method", METHODS)
def test_tol_and_n_nonzero_coefs_both_apply(patches, method):
    X, D = patches
    X = X[:1000]
    only_k = orthogonal_mp(X, D, n_nonzero_coefs=4, method=method)
    tol = 0.05
    both = orthogonal_mp(X, D, n_nonzero_coefs=4, tol=tol, method=method)
    nnz = np.count_nonzero(both, axis=1)
    # With a small tol the limit of 4 atoms still holds for most patches
    # (unlike scikit-learn, where tol overrides n_nonzero_coefs) ...
    assert nnz.max() == 4
    assert np.mean(nnz == 4) > 0.8
    np.testing.assert_array_equal(both[nnz == 4], only_k[nnz == 4])
    # ... and the few easy patches stop earlier, once they meet tol.
    assert np.all(_sq_residuals(X[nnz < 4], D, both[nnz < 4]) <= tol * (1 + 1e-9))
    loose = orthogonal_mp(X, D, n_nonzero_coefs=4, tol=0.5, method=method)
    assert np.count_nonzero(loose, axis=1).mean() < np.count_nonzero(only_k, axis=1).mean()


@pytest.mark.parametrize("method", METHODS)
def test_tol_at_least_signal_energy_gives_zero_codes(method):
    X, D = _tiny_problem(0)
    tol = float(np.max(np.sum(X ** 2, axis=1)))
    codes = orthogonal_mp(X, D, tol=tol, method=method)
    np.testing.assert_array_equal(codes, 0.0)


@pytest.mark.parametrize("method", METHODS)
def test_tol_zero_reaches_exact_reconstruction(method):
    X, D = _tiny_problem(1)
    codes = orthogonal_mp(X, D, tol=0.0, method=method)
    # Only n_features atoms can be independent; they span the whole space.
    assert np.count_nonzero(codes, axis=1).max() <= N_FEATURES
    np.testing.assert_allclose(codes @ D, X, rtol=0, atol=1e-10)


# --------------------------------------------------------------------------
# Degenerate cases
# --------------------------------------------------------------------------

@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("method", METHODS)
def test_zero_signals_give_zero_codes(method, dtype):
    X, D = _tiny_problem(0, dtype)
    X[[1, 4]] = 0
    codes = orthogonal_mp(X, D, n_nonzero_coefs=3, method=method)
    np.testing.assert_array_equal(codes[[1, 4]], 0.0)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1)[[0, 2, 3]], 3)


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("method", METHODS)
def test_duplicated_atom_is_never_selected_twice(method, seed):
    # Invariant that holds whichever copy wins: never both copies, and the
    # codes are those of the dictionary without the copy once the two
    # columns are merged.
    X, D = _tiny_problem(seed)
    D_dup = np.vstack([D, D[[2]]])
    codes = orthogonal_mp(X, D_dup, n_nonzero_coefs=5, method=method)
    ref = orthogonal_mp(X, D, n_nonzero_coefs=5, method=method)
    assert not np.any((codes[:, 2] != 0) & (codes[:, -1] != 0))
    merged = codes[:, :-1].copy()
    merged[:, 2] += codes[:, -1]
    np.testing.assert_allclose(merged, ref, rtol=0, atol=1e-10)




@pytest.mark.parametrize("method", METHODS)
def test_residual_reaching_zero_stops_before_n_nonzero_coefs(method):
    rng = np.random.default_rng(5)
    D = _unit_rows(rng.standard_normal((40, 20)))
    X = rng.standard_normal((6, 3)) @ D[[1, 5, 9]]
    codes = orthogonal_mp(X, D, n_nonzero_coefs=10, method=method)
    for code in codes:
        np.testing.assert_array_equal(np.flatnonzero(code), [1, 5, 9])
    np.testing.assert_allclose(codes @ D, X, rtol=0, atol=1e-12)


@pytest.mark.parametrize("method", METHODS)
def test_n_nonzero_coefs_above_n_features_is_capped_by_rank(method):
    X, D = _tiny_problem(2)
    codes = orthogonal_mp(X, D, n_nonzero_coefs=N_COMPONENTS, method=method)
    # Allowed up to n_components, but only n_features atoms can be independent.
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), N_FEATURES)
    np.testing.assert_allclose(codes @ D, X, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_rank_deficient_dictionary_stops_at_its_rank(method):
    rng = np.random.default_rng(6)
    # 12 atoms in a 3-dimensional subspace of R^8.
    D = _unit_rows(rng.standard_normal((12, 3)) @ rng.standard_normal((3, 8)))
    X = rng.standard_normal((5, 8))
    codes = orthogonal_mp(X, D, n_nonzero_coefs=12, method=method)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), 3)
    # The code is the orthogonal projection of X on the span of D.
    Q = np.linalg.qr(D.T)[0][:, :3]
    np.testing.assert_allclose(codes @ D, X @ Q @ Q.T, rtol=0, atol=1e-10)


@pytest.mark.parametrize("method", METHODS)
def test_zero_atoms_are_never_selected(method):
    X, D = _tiny_problem(3)
    D_zero = D.copy()
    D_zero[[0, 7, 15]] = 0
    codes = orthogonal_mp(X, D_zero, n_nonzero_coefs=N_FEATURES, method=method)
    np.testing.assert_array_equal(codes[:, [0, 7, 15]], 0.0)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), N_FEATURES)
    assert np.all(np.isfinite(codes))


@pytest.mark.filterwarnings("ignore:Orthogonal matching pursuit ended prematurely:RuntimeWarning")
@pytest.mark.parametrize("seed", [0, 1, 2])
def test_omp_on_non_unit_atoms_uses_raw_correlations_like_sklearn(seed):
    X, D = _tiny_problem(seed)
    rng = np.random.default_rng(100 + seed)
    D = D * rng.uniform(0.1, 10.0, (N_COMPONENTS, 1))
    codes = orthogonal_mp(X, D, n_nonzero_coefs=4, method="omp")
    ref = orthogonal_mp_gram(D @ D.T, D @ X.T, n_nonzero_coefs=4).T
    np.testing.assert_array_equal(codes != 0, ref != 0)
    np.testing.assert_allclose(codes, ref, rtol=0, atol=1e-10)
    np.testing.assert_allclose(codes, _reference_codes(X, D, "omp", 4, None),
                               rtol=0, atol=1e-10)
    # Raw correlations: the supports differ from those on normalised atoms.
    unit = orthogonal_mp(X, _unit_rows(D), n_nonzero_coefs=4, method="omp")
    assert not np.array_equal(codes != 0, unit != 0)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_ormp_is_invariant_to_atom_norms(seed):
    X, D = _tiny_problem(seed)
    rng = np.random.default_rng(100 + seed)
    scale = rng.uniform(0.1, 10.0, (N_COMPONENTS, 1))
    codes = orthogonal_mp(X, D * scale, n_nonzero_coefs=4, method="ormp")
    unit = orthogonal_mp(X, D, n_nonzero_coefs=4, method="ormp")
    np.testing.assert_array_equal(codes != 0, unit != 0)
    np.testing.assert_allclose(codes * scale.T, unit, rtol=0, atol=1e-10)
    np.testing.assert_allclose(codes, _reference_codes(X, D * scale, "ormp", 4, None),
                               rtol=0, atol=1e-10)


EXTREME_SCALES = {
    np.float64: [(1e200, 1.0), (1e-200, 1.0), (1.0, 1e200), (1.0, 1e-200),
                 (1e200, 1e200), (1e-200, 1e-200), (1e150, 1e150)],
    np.float32: [(1e30, 1.0), (1e-30, 1.0), (1.0, 1e30), (1.0, 1e-30),
                 (1e30, 1e30), (1e-30, 1e-30)],
}
SCALE_RTOL = {np.float64: 1e-12, np.float32: 1e-4}


@pytest.mark.parametrize("method", METHODS)
@pytest.mark.parametrize(
    "dtype, x_scale, d_scale",
    [(dt, sx, sd) for dt, scales in EXTREME_SCALES.items() for sx, sd in scales])
def test_extreme_magnitudes_match_rescaled_problem(method, dtype, x_scale, d_scale):
    X, D = _tiny_problem(4, dtype)
    base = orthogonal_mp(X, D, n_nonzero_coefs=4, method=method)
    Xs = (X.astype(np.float64) * x_scale).astype(dtype)
    Ds = (D.astype(np.float64) * d_scale).astype(dtype)
    codes = orthogonal_mp(Xs, Ds, n_nonzero_coefs=4, method=method)
    assert codes.dtype == dtype
    assert np.all(np.isfinite(codes))
    np.testing.assert_array_equal(codes != 0, base != 0)
    # x ~= a D  =>  (s_x x) ~= (a s_x / s_d) (s_d D)
    rescaled = codes.astype(np.float64) * (d_scale / x_scale)
    scale = np.abs(base).max()
    assert np.abs(rescaled - base).max() <= SCALE_RTOL[dtype] * scale


@pytest.mark.parametrize("dtype, scale", [(np.float64, 1e-150), (np.float64, 1e150),
                                          (np.float32, 1e-30), (np.float32, 1e30)])
@pytest.mark.parametrize("method", METHODS)
def test_tol_scales_with_extreme_signals(method, dtype, scale):
    # tol is a squared norm: scaling X by s and tol by s**2 keeps the codes'
    # supports, also where the signals need internal rescaling.
    X, D = _tiny_problem(5, dtype)
    tol = 3.0
    base = orthogonal_mp(X, D, tol=tol, method=method)
    Xs = (X.astype(np.float64) * scale).astype(dtype)
    codes = orthogonal_mp(Xs, D, tol=tol * scale ** 2, method=method)
    np.testing.assert_array_equal(codes != 0, base != 0)
    assert 0 < np.count_nonzero(base, axis=1).min() < N_FEATURES


OVERFLOW_CASES = [(np.float64, 1e200, 1e-200), (np.float32, 1e30, 1e-30)]


def _overflowing_problem(dtype, big, tiny):
    # Huge signals on tiny atoms need codes of ~1e400 (float64) or ~1e60
    # (float32), which the dtype cannot hold.
    X, D = _tiny_problem(6, dtype)
    Xs = (X.astype(np.float64) * big).astype(dtype)
    Ds = (D.astype(np.float64) * tiny).astype(dtype)
    return Xs, Ds


@pytest.mark.filterwarnings("ignore:overflow encountered in ldexp:RuntimeWarning")
@pytest.mark.parametrize("dtype, big, tiny", OVERFLOW_CASES)
def test_codes_overflowing_the_dtype_raise_value_error(dtype, big, tiny):
    Xs, Ds = _overflowing_problem(dtype, big, tiny)
    with pytest.raises(ValueError, match="The codes overflow .*X is too large"):
        orthogonal_mp(Xs, Ds, n_nonzero_coefs=3)


@pytest.mark.parametrize("dtype, big, tiny", OVERFLOW_CASES)
def test_codes_overflow_error_comes_without_numpy_runtime_warning(dtype, big, tiny):
    # The package reports the overflow with its own ValueError; NumPy's
    # "overflow encountered in ldexp" RuntimeWarning should not leak out
    # first (with warnings as errors it replaces the ValueError).
    Xs, Ds = _overflowing_problem(dtype, big, tiny)
    with pytest.raises(ValueError, match="The codes overflow .*X is too large"):
        orthogonal_mp(Xs, Ds, n_nonzero_coefs=3)


# --------------------------------------------------------------------------
# Threads
# --------------------------------------------------------------------------

@pytest.mark.parametrize("n_samples", [3000, 300, 3])  # 12 chunks; fewer than 256 a thread
@pytest.mark.parametrize("method", METHODS)
def test_n_jobs_gives_bitwise_identical_codes(patches, method, n_samples):
    X, D = patches
    X = X[:n_samples]
    serial = orthogonal_mp(X, D, n_nonzero_coefs=8, method=method, n_jobs=1)
    for n_jobs in (None, 2, -1):
        threaded = orthogonal_mp(X, D, n_nonzero_coefs=8, method=method, n_jobs=n_jobs)
        np.testing.assert_array_equal(threaded, serial)
    assert np.count_nonzero(serial, axis=1).min() == 8


@pytest.mark.parametrize("method", METHODS)
def test_concurrent_python_threads_match_serial(patches, method):
    X, D = patches
    blocks = [X[i * 700:(i + 1) * 700] for i in range(6)]
    serial = [orthogonal_mp(b, D, n_nonzero_coefs=6, method=method) for b in blocks]
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        # Every block twice, so that threads share inputs.
        futures = [pool.submit(orthogonal_mp, b, D, n_nonzero_coefs=6, method=method)
                   for b in blocks + blocks]
        results = [f.result() for f in futures]
    for i, res in enumerate(results):
        np.testing.assert_array_equal(res, serial[i % len(blocks)])


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
    (np.bool_, np.float64, np.float64),
    (np.float16, np.float64, np.float64),
    (np.float16, np.float32, np.float64),
    (np.float16, np.float16, np.float64),
])
def test_output_dtype_table(x_dtype, d_dtype, out_dtype):
    rng = np.random.default_rng(7)
    X = rng.integers(-3, 4, (N_SAMPLES, N_FEATURES)).astype(x_dtype)
    X[0] = 1  # at least one non-zero signal, also for bool
    D = _unit_rows(rng.standard_normal((N_COMPONENTS, N_FEATURES))).astype(d_dtype)
    codes = orthogonal_mp(X, D, n_nonzero_coefs=3)
    assert codes.dtype == out_dtype
    assert codes.shape == (N_SAMPLES, N_COMPONENTS)
    # Same codes as on float64 copies of the same values.
    ref = orthogonal_mp(X.astype(np.float64), D.astype(np.float64), n_nonzero_coefs=3)
    atol = 1e-4 if out_dtype == np.float32 else 1e-12
    np.testing.assert_allclose(codes, ref, rtol=0, atol=atol)
    assert np.count_nonzero(codes[0]) == 3


@pytest.mark.parametrize("method", METHODS)
def test_read_only_fortran_and_strided_inputs_give_same_codes(method):
    X, D = _tiny_problem(8)
    expected = orthogonal_mp(X, D, n_nonzero_coefs=4, method=method)

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
    }
    for name, (Xv, Dv) in variants.items():
        codes = orthogonal_mp(Xv, Dv, n_nonzero_coefs=4, method=method)
        np.testing.assert_array_equal(codes, expected, err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_inputs_are_not_modified(dtype):
    # Extreme magnitudes take the internal rescaling path too.
    for scale in (1.0, 1e30):
        X, D = _tiny_problem(9, dtype)
        X = (X * scale).astype(dtype)
        X_fortran = np.asfortranarray(X)
        X_before, D_before, F_before = X.copy(), D.copy(), X_fortran.copy()
        orthogonal_mp(X, D, n_nonzero_coefs=3, method="omp", tol=0.1)
        orthogonal_mp(X_fortran, D, n_nonzero_coefs=3, method="ormp")
        np.testing.assert_array_equal(X, X_before)
        np.testing.assert_array_equal(D, D_before)
        np.testing.assert_array_equal(X_fortran, F_before)


def test_single_signal_and_single_atom():
    D = np.array([[0.6, 0.8]])
    codes = orthogonal_mp(np.array([[3.0, 4.0]]), D, n_nonzero_coefs=1)
    np.testing.assert_allclose(codes, [[5.0]], rtol=1e-15)
    codes = orthogonal_mp(np.array([[4.0, -3.0]]), D, n_nonzero_coefs=1)
    # Orthogonal to the only atom: nothing to explain, zero code.
    np.testing.assert_allclose(codes, [[0.0]], atol=1e-15)


# --------------------------------------------------------------------------
# Bad input
# --------------------------------------------------------------------------

def _ok():
    X, D = _tiny_problem(10)
    return X, D


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
        orthogonal_mp(X, D, n_nonzero_coefs=2)


@pytest.mark.parametrize("X, match", [
    (np.zeros((0, N_FEATURES)), "X is empty"),
    (np.zeros((3, 0)), "X is empty"),
    (np.zeros(N_FEATURES), "X must be a 2-D array"),
    (np.zeros((2, 3, N_FEATURES)), "X must be a 2-D array"),
    (np.zeros((3, N_FEATURES + 1)), "X has 9 features"),
    (5.0, "X must be a 2-D array"),
])
def test_bad_X_shapes_raise_value_error(X, match):
    _, D = _ok()
    with pytest.raises(ValueError, match=match):
        orthogonal_mp(X, D, n_nonzero_coefs=2)


@pytest.mark.parametrize("D, match", [
    (np.zeros((0, N_FEATURES)), "dictionary is empty"),
    (np.zeros((N_COMPONENTS, 0)), "dictionary is empty"),
    (np.zeros(N_FEATURES), "dictionary must be a 2-D array"),
    (np.zeros((2, 3, N_FEATURES)), "dictionary must be a 2-D array"),
])
def test_bad_dictionary_shapes_raise_value_error(D, match):
    X, _ = _ok()
    with pytest.raises(ValueError, match=match):
        orthogonal_mp(X, D, n_nonzero_coefs=1)


@pytest.mark.parametrize("params, error, match", [
    (dict(n_nonzero_coefs=0), ValueError, r"n_nonzero_coefs must be an int in the range \[1, 16\]"),
    (dict(n_nonzero_coefs=-1), ValueError, r"n_nonzero_coefs must be an int in the range \[1, 16\]"),
    (dict(n_nonzero_coefs=N_COMPONENTS + 1), ValueError,
     r"n_nonzero_coefs must be an int in the range \[1, 16\]; got 17"),
    (dict(n_nonzero_coefs=2.5), TypeError, "n_nonzero_coefs must be an int"),
    (dict(n_nonzero_coefs=True), TypeError, "n_nonzero_coefs must be an int"),
    (dict(n_nonzero_coefs="3"), TypeError, "n_nonzero_coefs must be an int"),
    (dict(tol=-1), ValueError, "tol must be >= 0"),
    (dict(tol=np.nan), ValueError, "tol must be finite"),
    (dict(tol=np.inf), ValueError, "tol must be finite"),
    (dict(tol="a"), TypeError, "tol must be a float"),
    (dict(tol=False), TypeError, "tol must be a float"),
    (dict(method="foo"), ValueError, "method must be one of 'omp', 'ormp'"),
    (dict(method="OMP"), ValueError, "method must be one of 'omp', 'ormp'"),
    (dict(method=None), ValueError, "method must be one of"),
    (dict(n_jobs=0), ValueError, "n_jobs must be a non-zero int"),
    (dict(n_jobs=1.5), TypeError, "n_jobs must be an int"),
])
def test_bad_parameters_raise_naming_the_parameter(params, error, match):
    X, D = _ok()
    with pytest.raises(error, match=match):
        orthogonal_mp(X, D, **params)


def test_n_nonzero_coefs_equal_to_n_components_is_accepted():
    X, D = _ok()
    codes = orthogonal_mp(X, D, n_nonzero_coefs=N_COMPONENTS)
    np.testing.assert_array_equal(np.count_nonzero(codes, axis=1), N_FEATURES)


@pytest.mark.parametrize("which", ["X", "dictionary"])
def test_complex_input_raises_type_error(which):
    X, D = _ok()
    if which == "X":
        X = X + 1j
    else:
        D = D.astype(np.complex128)
    with pytest.raises(TypeError, match=f"{which} must be real-valued"):
        orthogonal_mp(X, D, n_nonzero_coefs=2)


@pytest.mark.parametrize("which", ["X", "dictionary"])
def test_non_numeric_string_input_raises_type_error(which):
    X, D = _ok()
    words = np.full((3, N_FEATURES), "a")
    if which == "X":
        X = words
    else:
        D = np.full((N_COMPONENTS, N_FEATURES), "atom")
    with pytest.raises(TypeError, match=f"{which} must hold numbers"):
        orthogonal_mp(X, D, n_nonzero_coefs=2)


def test_object_array_of_dicts_raises_type_error():
    X, D = _ok()
    X = X.astype(object)
    X[0, 0] = {"a": 1}
    with pytest.raises(TypeError, match="X must hold numbers"):
        orthogonal_mp(X, D, n_nonzero_coefs=2)


def test_ragged_list_raises_value_error():
    _, D = _ok()
    with pytest.raises(ValueError, match="X could not be converted to an array"):
        orthogonal_mp([[1.0] * N_FEATURES, [1.0]], D, n_nonzero_coefs=2)


@pytest.mark.parametrize("which", ["X", "dictionary"])
@pytest.mark.parametrize("fmt", ["csr_matrix", "csr_array", "coo_matrix"])
def test_scipy_sparse_input_raises_type_error(which, fmt):
    X, D = _ok()
    make = getattr(sp, fmt)
    if which == "X":
        X = make(X)
    else:
        D = make(D)
    with pytest.raises(TypeError, match=f"{which} must be a dense array"):
        orthogonal_mp(X, D, n_nonzero_coefs=2)


def test_list_input_is_accepted_like_an_array():
    X, D = _ok()
    codes = orthogonal_mp(X.tolist(), D.tolist(), n_nonzero_coefs=3)
    np.testing.assert_array_equal(codes, orthogonal_mp(X, D, n_nonzero_coefs=3))


@pytest.mark.parametrize("n_jobs", [1, 2])
def test_working_memory_is_bounded_beyond_the_codes(n_jobs):
    # 200,000 signals: apart from the dense codes the result is made of, the
    # call allocates per-thread chunk buffers only, never anything that grows
    # with n_samples (tracemalloc sees NumPy's allocations).
    import tracemalloc

    rng = np.random.default_rng(0)
    D = _unit_rows(rng.standard_normal((64, 16)))
    X = rng.standard_normal((200_000, 16))
    codes_bytes = X.shape[0] * D.shape[0] * 8
    tracemalloc.start()
    try:
        codes = orthogonal_mp(X, D, n_nonzero_coefs=4, method="ormp", n_jobs=n_jobs)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert np.count_nonzero(codes, axis=1).max() == 4
    assert peak - codes_bytes < 2 * 2**20, f"{(peak - codes_bytes) / 2**20:.1f} MiB extra"


def test_float32_atoms_far_smaller_than_the_largest_keep_their_precision():
    # Found by the fuzz tests: the largest entry 2**-32 was "safe", so the
    # dictionary was not scaled, and the Gram entries of the 1e-22 atoms were
    # subnormal: OMP stopped with a residual above the tolerance (0.98 > 0.5).
    a, b = np.float32(7.9409339e-23), np.float32(2.3283064e-10)
    D = np.full((4, 7), a, dtype=np.float32)
    D[0, 0] = D[2, 5] = D[3, 2] = D[3, 5] = 0
    D[1, 1] = b
    X = np.array([[0, 0, 1, 0, 0, 0, 0]], dtype=np.float32)
    for method in METHODS:
        codes = orthogonal_mp(X, D, tol=0.5, method=method)
        residual = np.sum((X.astype(np.float64) - codes.astype(np.float64) @ D) ** 2)
        assert residual <= 0.5

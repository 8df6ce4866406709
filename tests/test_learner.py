"""DictionaryLearner: online, K-SVD and MOD learning on real patches, and the estimator
contract."""
import numpy as np
import pytest
import scipy.sparse as sp
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsetools import DictionaryLearner, lasso, orthogonal_mp
from sparsetools.datasets import load_patches

LAMBDA = 0.1692  # about 10 non-zeros on these patches with 256 atoms


@pytest.fixture(scope="module")
def patches():
    train = load_patches(12_000, images=["astronaut", "china", "flower"], random_state=0)
    test = load_patches(2_000, images=["camera"], random_state=1)
    return train, test


def _heldout(X, D, alpha=LAMBDA):
    A = lasso(X, D, alpha=alpha)
    return float(np.mean(0.5 * np.sum((X - A @ D) ** 2, axis=1) + alpha * np.abs(A).sum(axis=1)))


def test_online_lasso_reaches_spams_traindl_heldout_objective(patches):
    spams = pytest.importorskip("spams")
    train, test = patches
    dl = DictionaryLearner(128, coding="lasso", alpha=LAMBDA, batch_size=256, max_iter=2,
                           tol=0, random_state=0).fit(train)
    n_steps = dl.n_steps_
    D0 = train[np.random.default_rng(0).choice(len(train), 128, replace=False)]
    Ds = spams.trainDL(np.asfortranarray(train.T), D=np.asfortranarray(D0.T),
                       lambda1=LAMBDA, mode=2, batchsize=256, iter=n_steps, numThreads=1,
                       verbose=False)
    Ds = np.ascontiguousarray(Ds.T)
    Ds /= np.linalg.norm(Ds, axis=1, keepdims=True)
    ours, theirs = _heldout(test, dl.components_), _heldout(test, Ds)
    start = _heldout(test, D0 / np.linalg.norm(D0, axis=1, keepdims=True))
    # measured: ours 0.32545, SPAMS 0.32555, initial 0.35101 (94 steps each)
    assert ours < start - 0.01
    assert ours <= theirs * 1.005
    np.testing.assert_allclose(np.linalg.norm(dl.components_, axis=1), 1.0, atol=1e-10)


# measured over 6 iterations: omp 0.1367 -> 0.1045, ormp 0.1313 -> 0.1003,
# lasso 0.3164 -> 0.2926
@pytest.mark.parametrize("coding, params, ratio", [("omp", dict(n_nonzero_coefs=5), 0.8),
                                                   ("ormp", dict(n_nonzero_coefs=5), 0.8),
                                                   ("lasso", dict(alpha=LAMBDA), 0.95)])
def test_mod_objective_never_increases(patches, coding, params, ratio):
    train, _ = patches
    dl = DictionaryLearner(64, algorithm="mod", coding=coding, max_iter=6, tol=0,
                           random_state=0, **params).fit(train[:4000])
    err = np.array(dl.error_)
    assert dl.n_iter_ == 6
    assert np.all(np.diff(err) <= 1e-9 * err[:-1])
    assert err[-1] < ratio * err[0]


def test_online_lca_coding_learns_as_well_as_lasso_coding(patches):
    # LCA coding (soft threshold alpha, Nesterov integrator) converges to the
    # lasso codes, so learning with it must reach the held-out lasso objective
    # that learning with exact LARS codes reaches.
    train, test = patches
    X = train[:6000]
    D0 = X[np.random.RandomState(0).choice(len(X), 128, replace=False)]
    start = _heldout(test, D0 / np.linalg.norm(D0, axis=1, keepdims=True))
    results = {}
    for coding in ("lasso", "lca"):
        dl = DictionaryLearner(128, coding=coding, alpha=LAMBDA, batch_size=256, max_iter=2,
                               tol=0, random_state=0).fit(X)
        results[coding] = _heldout(test, dl.components_)
        assert dl.error_[-1] < dl.error_[0]
    # measured: initial 0.3497, lasso 0.32733, lca 0.32742; training objective
    # per epoch lasso 0.28594 -> 0.27707, lca 0.28594 -> 0.27709
    assert results["lca"] < start - 0.01
    assert results["lca"] <= results["lasso"] * 1.002
    # transform codes by LCA (default tol 1e-2): near the lasso optimum
    # (measured 0.327430 against 0.327425)
    codes, D = dl.transform(test), dl.components_
    objective = np.mean(0.5 * np.sum((test - codes @ D) ** 2, axis=1)
                        + LAMBDA * np.abs(codes).sum(axis=1))
    assert objective <= _heldout(test, D) * 1.001


def test_online_omp_epochs_improve_and_tol_stops_early(patches):
    train, _ = patches
    dl = DictionaryLearner(64, coding="omp", n_nonzero_coefs=5, max_iter=20, tol=0.05,
                           random_state=0).fit(train[:6000])
    assert dl.error_[1] < dl.error_[0]
    assert dl.n_iter_ < 20  # a 5 % improvement threshold ends it early


def test_partial_fit_continues_from_the_current_state(patches):
    train, test = patches
    dl = DictionaryLearner(64, coding="lasso", alpha=LAMBDA, random_state=0)
    dl.partial_fit(train[:3000])
    first, steps = _heldout(test, dl.components_), dl.n_steps_
    for start in range(3000, 12_000, 3000):
        dl.partial_fit(train[start:start + 3000])
    assert dl.n_steps_ > steps
    assert _heldout(test, dl.components_) < first


def test_transform_and_inverse_transform(patches):
    train, test = patches
    dl = DictionaryLearner(64, coding="ormp", n_nonzero_coefs=6, max_iter=2,
                           random_state=0).fit(train[:4000])
    codes = dl.transform(test)
    assert codes.shape == (len(test), 64)
    assert np.count_nonzero(codes, axis=1).max() == 6
    recon = dl.inverse_transform(codes)
    assert np.mean(np.sum((test - recon) ** 2, axis=1)) < np.mean(np.sum(test ** 2, axis=1))
    codes32 = dl.transform(test.astype(np.float32))
    assert codes32.dtype == np.float32


def test_pipeline_with_linear_svc_on_digits():
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    clf = Pipeline([("dict", DictionaryLearner(100, coding="omp", n_nonzero_coefs=8,
                                               max_iter=3, random_state=0)),
                    ("svm", LinearSVC())])
    scores = cross_val_score(clf, X, y, cv=3)
    assert scores.mean() > 0.85  # chance is 0.1


@pytest.mark.parametrize("params, error, match", [
    (dict(n_components=0), ValueError, "n_components must be an int"),
    (dict(algorithm="ksvdx"), ValueError, "algorithm must be one of"),
    (dict(coding="cd"), ValueError, "coding must be one of"),
    (dict(batch_size=0), ValueError, "batch_size must be an int"),
    (dict(max_iter=0), ValueError, "max_iter must be an int"),
    (dict(tol=-1.0), ValueError, "tol must be >= 0"),
    (dict(coding="lasso", alpha=-1.0), ValueError, "alpha must be >= 0"),
    (dict(n_nonzero_coefs=0), ValueError, "n_nonzero_coefs must be an int"),
    (dict(algorithm="ksvd", coding="lasso"), ValueError, "algorithm='ksvd' codes with"),
    (dict(coding="lasso", coding_tol=0.1), ValueError, "coding_tol applies to"),
    (dict(coding="lca", coding_tol=0.1), ValueError, "coding_tol applies to"),
    (dict(algorithm="ksvd", coding="lca"), ValueError, "algorithm='ksvd' codes with"),
    (dict(coding_tol=-0.1), ValueError, "tol must be >= 0"),
])
def test_bad_parameters_raise(params, error, match):
    X = np.random.default_rng(0).standard_normal((50, 8))
    with pytest.raises(error, match=match):
        DictionaryLearner(**{"n_components": 4, **params}).fit(X)


def test_bad_data_raises():
    with pytest.raises(ValueError, match="NaN"):
        DictionaryLearner(4).fit(np.full((10, 3), np.nan))
    dl = DictionaryLearner(4, max_iter=1, random_state=0).fit(
        np.random.default_rng(0).standard_normal((20, 3)))
    with pytest.raises(ValueError, match="features"):
        dl.transform(np.zeros((2, 4)))
    assert not hasattr(DictionaryLearner(4, algorithm="mod"), "partial_fit")


@parametrize_with_checks([DictionaryLearner(n_components=3, max_iter=2, random_state=0),
                          DictionaryLearner(n_components=3, algorithm="mod", coding="lasso",
                                            alpha=0.1, max_iter=2, random_state=0),
                          DictionaryLearner(n_components=3, algorithm="ksvd", max_iter=2,
                                            random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


@pytest.mark.parametrize("K", [12, 32, 100])   # blocks of 16: a part, exactly 2, 6 and a part
def test_compiled_atom_update_equals_a_numpy_loop(K):
    from sparsetools._lib import _learning

    rng = np.random.default_rng(3)
    F = 7
    codes = rng.standard_normal((40, K)) * (rng.random((40, K)) < 0.3)
    codes[:, 4] = 0  # an unused atom
    X = rng.standard_normal((40, F))
    A, B = codes.T @ codes, codes.T @ X
    D = rng.standard_normal((K, F))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    expected = D.copy()
    for j in range(K):  # Mairal et al. (2010), Algorithm 2, one pass
        if A[j, j] <= 1e-10:
            continue
        expected[j] += (B[j] - A[j] @ expected) / A[j, j]
        expected[j] /= max(np.linalg.norm(expected[j]), 1.0)
    unused = _learning.dict_update(D, A, B, 1e-10)
    np.testing.assert_array_equal(unused, [4])
    np.testing.assert_allclose(D, expected, rtol=0, atol=1e-12)


def test_compiled_statistics_equal_the_dense_products():
    from sparsetools._lib import _learning

    rng = np.random.default_rng(4)
    K, F, m = 20, 9, 30
    codes = rng.standard_normal((m, K)) * (rng.random((m, K)) < 0.2)
    codes[3] = 0  # a zero code
    rows = rng.standard_normal((m, F))
    A0 = rng.standard_normal((K, K))
    A0 = A0 @ A0.T
    B0 = rng.standard_normal((K, F))
    A, B = A0.copy(), B0.copy()
    _learning.accumulate_stats(A, B, codes, rows, 0.9, 1.0 / m)
    np.testing.assert_allclose(A, 0.9 * A0 + codes.T @ codes / m, rtol=0, atol=1e-12)
    np.testing.assert_allclose(B, 0.9 * B0 + codes.T @ rows / m, rtol=0, atol=1e-12)


# --------------------------------------------------------------------------
# K-SVD
# --------------------------------------------------------------------------

def _ksvd_reference(D, X, codes):
    """Approximate K-SVD pass written plainly on dense codes (Rubinstein et
    al. 2008, Alg. 5): for each atom, d = E^T g / ||E^T g||, g = E d."""
    D, codes = D.copy(), codes.copy()
    for j in range(D.shape[0]):
        users = np.flatnonzero(codes[:, j])
        if users.size == 0:
            continue
        g = codes[users, j]
        E = X[users] - codes[users] @ D + np.outer(g, D[j])
        d = E.T @ g
        d /= np.linalg.norm(d)
        codes[users, j] = E @ d
        D[j] = d
    return D, codes


def test_ksvd_update_matches_numpy_reference():
    from sparsetools._lib import _learning

    rng = np.random.default_rng(3)
    X = load_patches(300, images=["camera"], random_state=1)
    D = X[rng.choice(300, 20, replace=False)] + 0.01 * rng.standard_normal((20, 64))
    D /= np.linalg.norm(D, axis=1, keepdims=True)
    codes = orthogonal_mp(X, D, n_nonzero_coefs=4)
    codes[:, 7] = 0.0   # an atom no code uses
    expected_D, expected_codes = _ksvd_reference(D, X, codes)

    C = sp.csr_array(codes)
    atoms, coefs = C.indices.astype(np.intp), C.data.copy()
    row_ptr = C.indptr.astype(np.intp)
    col_pos = np.argsort(atoms, kind="stable")
    col_ptr = np.concatenate([[0], np.cumsum(np.bincount(atoms, minlength=20))]).astype(np.intp)
    signal = np.repeat(np.arange(300), np.diff(row_ptr))
    D_new = D.copy()
    unused = _learning.ksvd_update(D_new, X, row_ptr, atoms, coefs, col_ptr,
                                   signal[col_pos], col_pos)
    assert unused.tolist() == [7]
    np.testing.assert_allclose(D_new, expected_D, atol=1e-12)
    got = sp.csr_array((coefs, atoms, row_ptr), shape=codes.shape).toarray()
    np.testing.assert_allclose(got, expected_codes, atol=1e-12)
    # each atom step can only lower the error (fixed supports)
    before = np.linalg.norm(X - codes @ D)
    after = np.linalg.norm(X - got @ D_new)
    assert after < before


def test_ksvd_update_rejects_inconsistent_indices():
    from sparsetools._lib import _learning

    D = np.eye(3, 4)
    X = np.ones((2, 4))
    row_ptr = np.array([0, 1, 2], dtype=np.intp)
    atoms = np.array([0, 5], dtype=np.intp)   # atom 5 out of range
    col_ptr = np.array([0, 1, 2, 2], dtype=np.intp)
    pos = np.array([0, 1], dtype=np.intp)
    with pytest.raises(ValueError, match="K-SVD update"):
        _learning.ksvd_update(D, X, row_ptr, atoms, np.ones(2), col_ptr, pos, pos)


def test_ksvd_learns_patches_and_cleans_dictionary():
    X = load_patches(6000, images=["camera"], random_state=0)
    X -= X.mean(axis=1, keepdims=True)
    dl = DictionaryLearner(64, algorithm="ksvd", n_nonzero_coefs=4, max_iter=6, tol=0,
                           random_state=0).fit(X)
    errors = np.array(dl.error_)
    assert dl.n_iter_ == 6
    # monotone up to the atoms replaced by the clean-up, and a clear gain
    assert errors[-1] < 0.9 * errors[0]
    assert np.all(np.diff(errors) < 1e-3 * errors[0])
    np.testing.assert_allclose(np.linalg.norm(dl.components_, axis=1), 1.0, atol=1e-12)
    G = np.abs(dl.components_ @ dl.components_.T)
    np.fill_diagonal(G, 0)
    assert G.max() <= 0.99 + 1e-12
    # K-SVD reaches about what MOD reaches from the same start
    mod = DictionaryLearner(64, algorithm="mod", n_nonzero_coefs=4, max_iter=6, tol=0,
                            random_state=0).fit(X)
    assert abs(errors[-1] - mod.error_[-1]) < 0.05 * mod.error_[-1]


def test_ksvd_error_constrained_coding():
    X = load_patches(3000, images=["camera"], random_state=0)
    X -= X.mean(axis=1, keepdims=True)
    tol = 64 * 0.08 ** 2
    dl = DictionaryLearner(32, algorithm="ksvd", coding_tol=tol, max_iter=5, tol=0,
                           random_state=0).fit(X)
    codes = dl.transform(X)
    residual = np.sum((X - codes @ dl.components_) ** 2, axis=1)
    # every code stops at the tolerance unless it ran out of atoms
    nnz = (codes != 0).sum(1)
    assert np.all((residual <= tol * (1 + 1e-9)) | (nnz == 32))
    # learning lowers the number of atoms the tolerance needs
    start = DictionaryLearner(32, algorithm="ksvd", coding_tol=tol, max_iter=1,
                              random_state=0).fit(X)
    nnz_start = (start.transform(X) != 0).sum(1)
    assert nnz.mean() < 0.9 * nnz_start.mean()


def test_online_resamples_unused_atoms():
    # 4 distinct signals, 12 atoms: most atoms are never chosen by 1-sparse OMP
    rng = np.random.default_rng(0)
    base = rng.standard_normal((4, 6))
    X = np.repeat(base, 50, axis=0) * rng.uniform(0.5, 2.0, size=(200, 1))
    dl = DictionaryLearner(12, n_nonzero_coefs=1, batch_size=50, max_iter=2, tol=0,
                           random_state=0).fit(X)
    np.testing.assert_allclose(np.linalg.norm(dl.components_, axis=1), 1.0, atol=1e-12)
    # the resampled atoms are (noisy) copies of the data's directions
    cos = np.abs(dl.components_ @ (base / np.linalg.norm(base, axis=1, keepdims=True)).T)
    assert np.all(cos.max(axis=1) > 0.99)


@pytest.mark.parametrize("density", [0.15, 1.0])  # 1.0: the supports' buffer grows
def test_threaded_statistics_equal_the_serial_ones_bitwise(density):
    from sparsetools._lib import _learning

    rng = np.random.default_rng(6)
    K, F, m = 70, 9, 41  # 70 atoms: three ranges of rows, the last one short
    codes = rng.standard_normal((m, K)) * (rng.random((m, K)) < density)
    rows = rng.standard_normal((m, F))
    D = rng.standard_normal((K, F))
    A0 = rng.standard_normal((K, K))
    A0 = A0 @ A0.T
    B0 = rng.standard_normal((K, F))
    out = []
    for n_threads in (1, 2, 3):
        A, B = A0.copy(), B0.copy()
        terms = _learning.accumulate_stats(A, B, codes, rows, 0.7, 0.25, D, n_threads)
        out.append((A, B, terms))
    for A, B, terms in out[1:]:
        np.testing.assert_array_equal(A, out[0][0])
        np.testing.assert_array_equal(B, out[0][1])
        assert terms == out[0][2]
    np.testing.assert_allclose(out[0][0], 0.7 * A0 + 0.25 * codes.T @ codes, atol=1e-12)
    np.testing.assert_allclose(out[0][1], 0.7 * B0 + 0.25 * codes.T @ rows, atol=1e-12)
    assert out[0][2][0] == pytest.approx(0.5 * np.sum((rows - codes @ D) ** 2), rel=1e-13)
    assert out[0][2][1] == pytest.approx(np.abs(codes).sum(), rel=1e-13)


@pytest.mark.parametrize("density", [0.2, 0.9])
def test_online_step_is_the_statistics_then_the_atom_update(density):
    from sparsetools._lib import _learning

    rng = np.random.default_rng(7)
    K, F, m = 24, 9, 30
    codes = rng.standard_normal((m, K)) * (rng.random((m, K)) < density)
    codes[:, 5] = 0  # atom 5 stays unused
    rows = rng.standard_normal((m, F))
    D0 = rng.standard_normal((K, F))
    D0 /= np.linalg.norm(D0, axis=1, keepdims=True)
    A0, B0 = np.zeros((K, K)), np.zeros((K, F))
    A, B, D = A0.copy(), B0.copy(), D0.copy()
    half_sqerr, l1 = _learning.accumulate_stats(A, B, codes, rows, 0.9, 1 / m, D)
    unused = _learning.dict_update(D, A, B, 1e-10 * np.max(np.diagonal(A)))
    for n_threads in (1, 2):
        A2, B2, D2 = A0.copy(), B0.copy(), D0.copy()
        step = _learning.OnlineStep(m, K, F, n_threads)
        h2, l2, unused2 = step(A2, B2, codes, rows, D2, 0.9, 1 / m)
        np.testing.assert_array_equal(A2, A)
        np.testing.assert_array_equal(B2, B)
        np.testing.assert_array_equal(D2, D)
        np.testing.assert_array_equal(unused2, unused)
        np.testing.assert_array_equal(unused2, [5])
        assert (h2, l2) == (half_sqerr, l1)
    with pytest.raises(ValueError, match="inconsistent"):
        step(A2, B2, codes[:-1], rows[:-1], D2, 0.9, 1 / m)


def test_online_learning_agrees_for_any_number_of_threads(patches):
    train, _ = patches
    out = [DictionaryLearner(32, coding="lasso", alpha=LAMBDA, batch_size=128, max_iter=1,
                             random_state=0, n_jobs=n).fit(train[:3000])
           for n in (1, 2)]
    # not bitwise: the coder's chunks, and so the shapes of its GEMMs, follow
    # the number of threads, and BLAS may round them differently
    np.testing.assert_allclose(out[0].components_, out[1].components_, rtol=0, atol=1e-12)
    np.testing.assert_allclose(out[0].error_, out[1].error_, rtol=1e-12)


def test_sparse_objective_equals_the_dense_residual():
    from sparsetools._lib import _learning

    rng = np.random.default_rng(5)
    codes = rng.standard_normal((30, 20)) * (rng.random((30, 20)) < 0.2)
    codes[4] = 0.0
    rows = rng.standard_normal((30, 9))
    D = rng.standard_normal((20, 9))
    A, B = np.eye(20), np.ones((20, 9))
    half_sqerr, l1 = _learning.accumulate_stats(A, B, codes, rows, 0.5, 0.1, D)
    assert half_sqerr == pytest.approx(0.5 * np.sum((rows - codes @ D) ** 2), rel=1e-13)
    assert l1 == pytest.approx(np.abs(codes).sum(), rel=1e-13)
    np.testing.assert_allclose(A, 0.5 * np.eye(20) + 0.1 * codes.T @ codes, atol=1e-13)
    np.testing.assert_allclose(B, 0.5 + 0.1 * codes.T @ rows, atol=1e-13)
    # an empty batch only forgets
    assert _learning.accumulate_stats(A, B, codes[:0], rows[:0], 0.5, 0.1, D) == (0.0, 0.0)
    assert _learning.accumulate_stats(A, B, codes[:0], rows[:0], 1.0, 0.1) is None

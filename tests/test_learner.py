"""DictionaryLearner: online and MOD learning on real patches, and the estimator contract."""
import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.model_selection import cross_val_score
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsetools import DictionaryLearner, lasso
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
                                            alpha=0.1, max_iter=2, random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


def test_compiled_atom_update_equals_a_numpy_loop():
    from sparsetools._lib import _learning

    rng = np.random.default_rng(3)
    K, F = 12, 7
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

"""deep_lca and DeepSparseCoder: the coupled dynamics against references, learning, the
estimator contract, and the LFW experiment of the deep-sparse-coding paper (slow)."""
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.svm import LinearSVC
from sklearn.utils.estimator_checks import parametrize_with_checks

from sparsetools import DeepSparseCoder, LCACoder, deep_lca, lca
from sparsetools.coding._deep_lca import coupled_dynamics
from sparsetools.datasets import load_patches


def _unit_rows(D):
    return D / np.linalg.norm(D, axis=1, keepdims=True)


@pytest.fixture(scope="module")
def net():
    """Real 8x8 patches and a two-layer network: 48 patch atoms, 24 atoms over their codes."""
    X = load_patches(600, images=["camera"], random_state=0)
    X = X / np.maximum(np.linalg.norm(X, axis=1, keepdims=True), 1e-12)
    rng = np.random.default_rng(0)
    D1 = _unit_rows(X[rng.choice(len(X), 48, replace=False)])
    A1 = lca(X, D1, threshold=0.1, positive=True)
    D2 = _unit_rows(A1[rng.choice(np.flatnonzero(A1.any(axis=1)), 24, replace=False)])
    return X, [D1, D2]


# --------------------------------------------------------------------------
# the coupled dynamics
# --------------------------------------------------------------------------

def test_without_feedback_the_first_layer_is_lca_and_the_second_lca_of_it(net):
    X, Ds = net
    a1, a2 = deep_lca(X, Ds, thresholds=[0.1, 0.05], positive=True)
    np.testing.assert_array_equal(a1, lca(X, Ds[0], threshold=0.1, positive=True))
    np.testing.assert_array_equal(a2, lca(a1, Ds[1], threshold=0.05, positive=True))


@pytest.mark.parametrize("positive", [False, True])
def test_coupled_dynamics_without_feedback_reach_the_lca_fixed_point(net, positive):
    # the NumPy coupled integrator (used for feedback > 0) with f = 0 reaches
    # the codes of the compiled kernel run layer after layer
    X, Ds = net
    X = X[:200]
    tight = dict(integrator="nesterov", max_iter=20_000, tol=1e-8)
    ref1 = lca(X, Ds[0], threshold=0.1, positive=positive, **tight)
    ref2 = lca(ref1, Ds[1], threshold=0.05, positive=positive, **tight)
    codes = [np.zeros_like(ref1), np.zeros_like(ref2)]
    pots = [np.zeros_like(ref1), np.zeros_like(ref2)]
    cut, _ = coupled_dynamics(X, Ds, [D @ D.T for D in Ds], [0.1, 0.05], 0.0, positive,
                              0.02, 20_000, 1e-6, codes, pots)
    assert cut == 0
    # measured: max |difference| 1.6e-5 (the coupled run stops at tol 1e-6)
    np.testing.assert_allclose(codes[0], ref1, atol=5e-5)
    np.testing.assert_allclose(codes[1], ref2, atol=5e-5)


def _reference_steps(X, Ds, cs, f, positive, eta, n_steps):
    """The paper's eq. 5-6, one signal at a time, column vectors, plain loops."""
    out_u = [np.zeros((len(X), D.shape[0])) for D in Ds]
    for s, x in enumerate(X):
        Phi = [D.T for D in Ds]  # columns are atoms, as in the paper
        u = [np.zeros(P.shape[1]) for P in Phi]

        def act(v, c):
            a = np.maximum(v - c, 0.0) if positive else np.sign(v) * np.maximum(np.abs(v) - c, 0)
            return a

        for _ in range(n_steps):
            a = [act(v, c) for v, c in zip(u, cs)]
            new = []
            for L in range(len(Phi)):
                below = x if L == 0 else a[L - 1]
                du = -u[L] + Phi[L].T @ below - (Phi[L].T @ Phi[L] @ a[L] - a[L])
                if L + 1 < len(Phi):
                    r = u[L] - Phi[L + 1] @ a[L + 1]
                    du = du - f * r
                new.append(u[L] + eta * du)
            u = new
        for L in range(len(Phi)):
            out_u[L][s] = u[L]
    return out_u


@pytest.mark.parametrize("positive", [False, True])
@pytest.mark.parametrize("n_steps", [1, 2, 7, 40])
def test_coupled_dynamics_match_a_numpy_reference_step_by_step(positive, n_steps):
    rng = np.random.default_rng(3)
    Ds = [_unit_rows(rng.standard_normal((7, 5))), _unit_rows(rng.standard_normal((6, 7))),
          _unit_rows(rng.standard_normal((4, 6)))]
    X = 2.0 * rng.standard_normal((3, 5))
    cs = [0.3, 0.1, 0.05]
    codes, pots = deep_lca(X, Ds, thresholds=cs, feedback=0.7, positive=positive, dt=0.05,
                           max_iter=n_steps, tol=0.0, return_potentials=True)
    ref = _reference_steps(X, Ds, cs, 0.7, positive, 0.05, n_steps)
    for L in range(3):
        np.testing.assert_allclose(pots[L], ref[L], rtol=1e-12, atol=1e-13)
        expected = (np.maximum(ref[L] - cs[L], 0) if positive else
                    np.sign(ref[L]) * np.maximum(np.abs(ref[L]) - cs[L], 0))
        np.testing.assert_allclose(codes[L], expected, rtol=1e-12, atol=1e-13)


@pytest.mark.parametrize("feedback", [0.5, 1.0, 3.0])
def test_converged_state_is_a_fixed_point_of_the_coupled_update(net, feedback):
    X, Ds = net
    X = X[:50]
    cs = [0.1, 0.05]
    (a1, a2), (u1, u2) = deep_lca(X, Ds, thresholds=cs, feedback=feedback, positive=True,
                                  tol=1e-7, max_iter=50_000, return_potentials=True)
    G1, G2 = Ds[0] @ Ds[0].T, Ds[1] @ Ds[1].T
    v1 = X @ Ds[0].T - u1 - (a1 @ G1 - a1) - feedback * (u1 - a2 @ Ds[1])
    v2 = a1 @ Ds[1].T - u2 - (a2 @ G2 - a2)
    # measured: relative velocity 4.7e-8 (layer 1, f = 1) at tol 1e-7
    assert np.linalg.norm(v1) <= 1e-5 * np.linalg.norm(u1)
    assert np.linalg.norm(v2) <= 1e-5 * np.linalg.norm(u2)
    np.testing.assert_array_equal(a1, np.maximum(u1 - cs[0], 0))


def test_feedback_pulls_layer_one_towards_the_reconstruction_from_above(net):
    X, Ds = net
    cs = [0.1, 0.05]
    errors = []
    for f in (0.0, 0.5, 2.0):
        a1, a2 = deep_lca(X, Ds, thresholds=cs, feedback=f, positive=True, tol=1e-3,
                          max_iter=10_000)
        errors.append(float(np.linalg.norm(a1 - a2 @ Ds[1]) / np.linalg.norm(a1)))
    # measured: 0.743, 0.673, 0.621 (relative top-down error of layer 1). The
    # feedback also leaks the potentials (-f u), so activity drops with f: at
    # f = 5 layer 2 is almost silent and the relative error is back to 0.917.
    assert errors[1] < 0.95 * errors[0]
    assert errors[2] < 0.97 * errors[1]


def test_float32_is_kept_and_agrees_with_float64(net):
    X, Ds = net
    X = X[:100]
    c64 = deep_lca(X, Ds, thresholds=[0.1, 0.05], feedback=1.0, positive=True, tol=1e-4,
                   max_iter=10_000)
    c32 = deep_lca(X.astype(np.float32), [D.astype(np.float32) for D in Ds],
                   thresholds=[0.1, 0.05], feedback=1.0, positive=True, tol=1e-4,
                   max_iter=10_000)
    assert all(c.dtype == np.float32 for c in c32)
    for a, b in zip(c32, c64):
        np.testing.assert_allclose(a, b, atol=2e-3)


@pytest.mark.parametrize("kwargs, error, match", [
    (dict(thresholds=-0.1), ValueError, "thresholds must be >= 0"),
    (dict(thresholds=[0.1]), ValueError, "thresholds must have one value per layer"),
    (dict(thresholds=0.1, feedback=-1.0), ValueError, "feedback must be >= 0"),
    (dict(thresholds=0.1, tau=0.0), ValueError, "tau must be > 0"),
    (dict(thresholds=0.1, dt=-0.1), ValueError, "dt must be > 0"),
    (dict(thresholds=0.1, dt=2.0), ValueError, "dt must be <= tau"),
    (dict(thresholds=0.1, feedback=1.0, dt=1.0), ValueError, "dt is too large"),
    (dict(thresholds="a"), TypeError, "thresholds must be a float or a sequence"),
])
def test_deep_lca_bad_parameters_raise(net, kwargs, error, match):
    X, Ds = net
    with pytest.raises(error, match=match):
        deep_lca(X[:5], Ds, **kwargs)


def test_deep_lca_bad_data_raises(net):
    X, Ds = net
    bad = X[:5].copy()
    bad[0, 0] = np.nan
    with pytest.raises(ValueError, match="X contains NaN"):
        deep_lca(bad, Ds, thresholds=0.1)
    with pytest.raises(ValueError, match=r"dictionaries\[1\] has atoms of width 64, but the "
                       r"layer below \(dictionaries\[0\]\) has 48 atoms"):
        deep_lca(X[:5], [Ds[0], Ds[0]], thresholds=0.1)
    with pytest.raises(ValueError, match="dictionaries must be a non-empty list"):
        deep_lca(X[:5], [], thresholds=0.1)
    with pytest.raises(ValueError, match=r"dictionaries\[0\] has atoms of width 64, but X"):
        deep_lca(X[:5, :10], Ds, thresholds=0.1)


# --------------------------------------------------------------------------
# the estimator
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    X = X / np.linalg.norm(X, axis=1, keepdims=True)
    return train_test_split(X, y, test_size=0.3, random_state=0, stratify=y)


def test_one_layer_equals_lca_coder(digits):
    X_train, X_test, _, _ = digits
    dsc = DeepSparseCoder(40, threshold=0.05, n_epochs=1, pretrain_epochs=1,
                          random_state=0).fit(X_train[:300])
    coder = LCACoder(dsc.components_[0], threshold=0.05, positive=True)
    np.testing.assert_array_equal(dsc.transform(X_test), coder.transform(X_test))


def _total_objective(X, Ds, cs, feedback):
    codes = deep_lca(X, Ds, thresholds=cs, feedback=feedback, positive=True)
    inputs = [X] + codes[:-1]
    return float(sum(0.5 * np.sum((z - a @ D) ** 2) + c * np.abs(a).sum()
                     for z, a, D, c in zip(inputs, codes, Ds, cs)) / len(X))


def test_fit_lowers_the_total_reconstruction_objective(digits):
    X_train, X_test, _, _ = digits
    cs = [0.05, 0.02]
    params = dict(threshold=cs, feedback=1.0, random_state=0)
    init = DeepSparseCoder((64, 32), n_epochs=0, pretrain_epochs=0, **params).fit(X_train)
    warm = DeepSparseCoder((64, 32), n_epochs=0, pretrain_epochs=3, **params).fit(X_train)
    full = DeepSparseCoder((64, 32), n_epochs=3, pretrain_epochs=3, **params).fit(X_train)
    objectives = [_total_objective(X_test, m.components_, cs, 1.0) for m in (init, warm, full)]
    # measured (held-out, per sample): init 0.1281, warm start 0.1126, joint 0.1105;
    # per joint epoch (training batches) 0.1128, 0.1096, 0.1077
    assert objectives[1] < 0.95 * objectives[0]
    assert objectives[2] < objectives[1]
    assert full.n_iter_ == 3 and full.error_[-1] < full.error_[0]
    for D in full.components_:
        np.testing.assert_allclose(np.linalg.norm(D, axis=1), 1.0, rtol=1e-12)


def test_pipeline_with_linear_svc_classifies_digits(digits):
    X_train, X_test, y_train, y_test = digits
    clf = Pipeline([("dsc", DeepSparseCoder((64, 32), threshold=[0.05, 0.02], n_epochs=2,
                                            pretrain_epochs=3, random_state=0)),
                    ("svm", LinearSVC())]).fit(X_train, y_train)
    # measured: 0.935 (chance 0.1)
    assert clf.score(X_test, y_test) > 0.9


def test_transform_all_inverse_transform_and_float32(digits):
    X_train, X_test, _, _ = digits
    dsc = DeepSparseCoder((40, 20), threshold=[0.05, 0.02], n_epochs=1, pretrain_epochs=1,
                          random_state=0).fit(X_train[:300])
    a1, a2 = dsc.transform_all(X_test)
    assert a1.shape == (len(X_test), 40) and a2.shape == (len(X_test), 20)
    np.testing.assert_array_equal(dsc.transform(X_test), a2)
    assert a1.min() >= 0 and a2.min() >= 0
    recon = dsc.inverse_transform(a2)
    np.testing.assert_allclose(recon, a2 @ dsc.components_[1] @ dsc.components_[0])
    dsc32 = clone(dsc).fit(X_train[:300].astype(np.float32))
    assert all(D.dtype == np.float32 for D in dsc32.components_)
    assert dsc32.transform(X_test.astype(np.float32)).dtype == np.float32
    with pytest.raises(ValueError, match="X has 5 features, but DeepSparseCoder is"):
        dsc.transform(X_test[:, :5])
    with pytest.raises(ValueError, match="the top layer has 20 atoms"):
        dsc.inverse_transform(a1)


@pytest.mark.parametrize("params, error, match", [
    (dict(layers=()), ValueError, "layers must name at least one layer"),
    (dict(layers=(8, 0)), ValueError, r"layers\[1\] must be an int >= 1"),
    (dict(layers=(8, 2.5)), TypeError, r"layers\[1\] must be an int"),
    (dict(layers="ab"), TypeError, r"layers\[0\] must be an int"),
    (dict(layers=8, threshold=-1.0), ValueError, "thresholds must be >= 0"),
    (dict(layers=8, feedback=-0.5), ValueError, "feedback must be >= 0"),
    (dict(layers=8, tau=-1.0), ValueError, "tau must be > 0"),
    (dict(layers=8, dt=0.0), ValueError, "dt must be > 0"),
    (dict(layers=8, tau=0.5, dt=1.0), ValueError, "dt must be <= tau"),
    (dict(layers=8, learning_rate=0.0), ValueError, r"learning_rate must be in \(0, 1\]"),
    (dict(layers=8, n_epochs=-1), ValueError, "n_epochs must be an int >= 0"),
    (dict(layers=8, batch_size=0), ValueError, "batch_size must be an int >= 1"),
    (dict(layers=8, max_iter=0), ValueError, "max_iter must be an int"),
])
def test_bad_parameters_raise(digits, params, error, match):
    X_train = digits[0][:50]
    with pytest.raises(error, match=match):
        DeepSparseCoder(**params).fit(X_train)


def test_bad_data_raises(digits):
    X = digits[0][:50].copy()
    X[3, 2] = np.nan
    with pytest.raises(ValueError, match="Input X contains NaN"):
        DeepSparseCoder(8).fit(X)


@parametrize_with_checks([DeepSparseCoder((4, 3), n_epochs=2, pretrain_epochs=2,
                                          random_state=0)])
def test_sklearn_estimator_checks(estimator, check):
    check(estimator)


# --------------------------------------------------------------------------
# the paper's experiment on scikit-image's LFW subset, reduced (slow)
# --------------------------------------------------------------------------

@pytest.mark.slow
def test_lfw_deep_sparse_coding_script_reduced(tmp_path):
    import pathlib
    import runpy

    script = pathlib.Path(__file__).resolve().parents[1] / "classifiers" / \
        "lfw_deep_sparse_coding.py"
    main = runpy.run_path(str(script))["main"]
    r = main(["--layers", "64", "32", "--n-epochs", "1", "--pretrain-epochs", "3",
              "--folds", "3", "--json", str(tmp_path / "lfw.json")])
    # measured (3 folds): DSC + LinearSVC 0.800 +- 0.042, raw pixels 0.955 +- 0.024;
    # distance noise / low-pass: DSC top layer 0.055 / 0.056, PCA 0.141 / 0.127
    assert r["dsc_cv_accuracy"] > 0.7  # chance 0.5; below the raw pixels
    assert r["raw_cv_accuracy"] > 0.9
    assert r["dsc_distance_noise"] < 0.6 * r["pca_distance_noise"]
    assert r["dsc_distance_lowpass"] < 0.6 * r["pca_distance_lowpass"]
    assert (tmp_path / "lfw.json").exists()

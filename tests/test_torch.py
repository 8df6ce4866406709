"""sparsetools.torch: the TopTFrontend twin's forward equals the estimator's, and its
backward passes are the documented surrogates. Skipped without torch."""
import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_digits  # noqa: E402

from sparsetools import TopTFrontend  # noqa: E402
from sparsetools.torch import TopTFrontendModule, to_torch  # noqa: E402


@pytest.fixture(scope="module")
def fitted():
    X, _ = load_digits(return_X_y=True)
    X = X / 16.0
    front = TopTFrontend(n_components=48, patch_size=4, stride=3, n_top=5, epsilon=0.05,
                         image_shape=(8, 8), output="dense", max_iter=1,
                         random_state=0).fit(X[:300])
    return front, X[300:340]


def _nchw(rows, shape=(8, 8, 1)):
    return torch.as_tensor(rows.reshape((-1,) + shape)).permute(0, 3, 1, 2).contiguous()


@pytest.mark.parametrize("dtype, atol", [(torch.float64, 1e-12), (torch.float32, 1e-5)])
def test_forward_equals_transform(fitted, dtype, atol):
    front, X = fitted
    module = to_torch(front)
    out = module(_nchw(X).to(dtype))
    assert out.dtype == dtype
    expected = front.transform(X.astype(np.float64 if dtype == torch.float64
                                        else np.float32))
    np.testing.assert_allclose(out.numpy(), expected, atol=atol)


def test_forward_equals_transform_for_color_images():
    rng = np.random.default_rng(0)
    images = rng.random((3, 11, 9, 3))
    front = TopTFrontend(n_components=20, patch_size=(3, 2), stride=2, n_top=4, beta=1.0,
                         color=True, output="dense", max_iter=1, random_state=0).fit(images)
    module = to_torch(front)
    out = module(torch.as_tensor(images).permute(0, 3, 1, 2))
    np.testing.assert_allclose(out.numpy(), front.transform(images), atol=1e-12)


def test_exact_backward_is_zero_and_gradcheck_passes(fitted):
    front, X = fitted
    module = to_torch(front, backward="exact")
    x = _nchw(X[:2]).requires_grad_(True)
    module(x).sum().backward()
    assert torch.count_nonzero(x.grad) == 0
    # piecewise constant: numerical and analytical gradients agree (both 0)
    # away from the jumps
    x = _nchw(X[:1]).requires_grad_(True)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-9, atol=1e-6)


def _manual_surrogate(module, x, through_n, smooth):
    """The correlations on the grid, the kept mask, and the surrogate."""
    corr = torch.nn.functional.conv2d(x, module.weight)[:, :, [0, 3, 4]][:, :, :, [0, 3, 4]]
    corr = corr.permute(0, 2, 3, 1)
    idx = torch.topk(corr.abs(), through_n, dim=-1).indices
    mask = torch.zeros_like(corr, dtype=torch.bool).scatter(-1, idx, True)
    if smooth:
        t, k, l1 = module.beta * module.epsilon, module.steepness, module.l1
        corr = l1 * 0.5 * (torch.tanh(k * (corr / l1 - t)) + torch.tanh(k * (corr / l1 + t)))
    return torch.where(mask, corr, torch.zeros_like(corr)).reshape(x.shape[0], -1)


@pytest.mark.parametrize("backward, top_u", [("identity", None), ("identity", 10),
                                             ("smooth", None), ("smooth", 10)])
def test_bpda_backward_is_the_documented_surrogate(fitted, backward, top_u):
    front, X = fitted
    module = to_torch(front, backward=backward, steepness=4.0, top_u=top_u)
    weights = torch.as_tensor(np.random.default_rng(1).standard_normal((3, 9 * 48)))
    x = _nchw(X[:3]).requires_grad_(True)
    out = module(x)
    np.testing.assert_allclose(out.detach().numpy(), front.transform(X[:3]), atol=1e-12)
    (out * weights).sum().backward()
    y = _nchw(X[:3]).requires_grad_(True)
    (_manual_surrogate(module, y, top_u or 5, backward == "smooth") * weights).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), y.grad.numpy(), atol=1e-12)
    assert torch.count_nonzero(x.grad) > 0


def test_bad_arguments(fitted):
    front, _ = fitted
    with pytest.raises(ValueError, match="backward must be one of"):
        to_torch(front, backward="straight")
    with pytest.raises(ValueError, match="top_u must be in"):
        to_torch(front, top_u=2)
    with pytest.raises(TypeError, match="supports TopTFrontend"):
        to_torch(object())
    with pytest.raises(ValueError, match="x must have shape"):
        to_torch(front)(torch.zeros(1, 3, 8, 8, dtype=torch.float64))
    with pytest.raises(ValueError, match="n_top must be in"):
        TopTFrontendModule(np.eye(4), 2, 1, 9, 1.0, 0.1)


# --------------------------------------------------------------------------
# ExportedClassifier and the digits recipe of classifiers/
# --------------------------------------------------------------------------

import pathlib  # noqa: E402
import runpy  # noqa: E402

from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from sparsetools.torch import ExportedClassifier  # noqa: E402

RECIPE = pathlib.Path(__file__).resolve().parents[1] / "classifiers" / "digits_mlp_export.py"


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    path = tmp_path_factory.mktemp("model") / "mlp.pt2"
    result = runpy.run_path(str(RECIPE))["main"](["--out", str(path)])
    return path, result


def _scale(X):
    return X / 16.0


def test_exported_model_in_a_pipeline_predicts_as_the_model(exported):
    path, result = exported
    # measured: 0.969 test accuracy for the recipe's MLP
    assert result["accuracy"] > 0.93
    X, y = load_digits(return_X_y=True)
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=0.5, random_state=0,
                                                        stratify=y)
    clf = Pipeline([("scale", FunctionTransformer(_scale)),
                    ("net", ExportedClassifier(str(path), input_shape=(64,),
                                               batch_size=100))]).fit(X_train, y_train)
    net = torch.export.load(str(path)).module()
    with torch.no_grad():
        direct = net(torch.as_tensor(X_test / 16.0, dtype=torch.float32)).argmax(1).numpy()
    np.testing.assert_array_equal(clf.predict(X_test), direct)
    assert clf.score(X_test, y_test) == pytest.approx(result["accuracy"])
    proba = clf.predict_proba(X_test[:5])
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(proba.argmax(axis=1), direct[:5])


def test_exported_classifier_bad_input(exported, tmp_path):
    path, _ = exported
    X = np.zeros((4, 64))
    with pytest.raises(ValueError, match="does not exist"):
        ExportedClassifier(str(tmp_path / "none.pt"), input_shape=(64,)).fit(X, [0, 1, 2, 3])
    (tmp_path / "junk.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a TorchScript file"):
        ExportedClassifier(str(tmp_path / "junk.pt"), input_shape=(64,)).fit(X, [0, 1, 2, 3])
    (tmp_path / "junk.pt2").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a torch.export program"):
        ExportedClassifier(str(tmp_path / "junk.pt2"), input_shape=(64,)).fit(X, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="input_shape .* needs 63"):
        ExportedClassifier(str(path), input_shape=(63,)).fit(X, [0, 1, 2, 3])
    with pytest.raises(ValueError, match="10 scores per row but there are 4 classes"):
        ExportedClassifier(str(path), input_shape=(64,)).fit(X, [0, 1, 2, 3])
    with pytest.raises(TypeError, match="model must be"):
        ExportedClassifier(42, input_shape=(64,)).fit(X, [0, 1, 2, 3])


def test_torchscript_files_still_load(exported, tmp_path):
    import warnings

    path, _ = exported
    net = torch.export.load(str(path)).module()
    plain = runpy.run_path(str(RECIPE))["make_mlp"]()
    plain.load_state_dict(net.state_dict())
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        torch.jit.save(torch.jit.script(plain), str(tmp_path / "mlp.pt"))
    X, y = load_digits(return_X_y=True)
    a = ExportedClassifier(str(tmp_path / "mlp.pt"), input_shape=(64,)).fit(X / 16, y)
    b = ExportedClassifier(str(path), input_shape=(64,)).fit(X / 16, y)
    np.testing.assert_array_equal(a.predict(X / 16), b.predict(X / 16))


def test_docstring_examples_run():
    import doctest

    import sparsetools.torch._exported as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# --------------------------------------------------------------------------
# SparseCoder's twin: exact gradients on the support
# --------------------------------------------------------------------------

from sparsetools import SparseCoder  # noqa: E402


@pytest.fixture(scope="module")
def patches_and_atoms():
    from sparsetools.datasets import load_patches

    P = load_patches(300, images=["camera"], random_state=3)
    return P[:40], P[40:140]


@pytest.mark.parametrize("algorithm, params", [
    ("omp", dict(n_nonzero_coefs=4)), ("ormp", dict(n_nonzero_coefs=4)),
    ("lasso_lars", dict(alpha=0.2)), ("lasso_cd", dict(alpha=0.2, tol=1e-12)),
    ("threshold", dict(alpha=0.3)), ("threshold", dict(alpha=0.3, positive=True))])
def test_sparse_coder_twin_forward_and_exact_gradient(patches_and_atoms, algorithm, params):
    X, D = patches_and_atoms
    coder = SparseCoder(D, algorithm=algorithm, **params).fit(X)
    module = to_torch(coder)
    out = module(torch.as_tensor(X))
    np.testing.assert_allclose(out.detach().numpy(), coder.transform(X), atol=1e-8)
    # the support does not change under gradcheck's tiny steps: exact gradient
    x = torch.as_tensor(X[:2]).clone().requires_grad_(True)
    assert torch.autograd.gradcheck(module, (x,), eps=1e-7, atol=1e-5)
    # float32 too
    out32 = module(torch.as_tensor(X[:5], dtype=torch.float32))
    np.testing.assert_allclose(out32.numpy(), coder.transform(X[:5].astype(np.float32)),
                               atol=1e-4)


def test_sparse_coder_twin_refuses_lca(patches_and_atoms):
    X, D = patches_and_atoms
    with pytest.raises(ValueError, match="has no torch twin"):
        to_torch(SparseCoder(D, algorithm="lca", alpha=0.2).fit(X))

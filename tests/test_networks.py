"""The papers' networks, the top-T decoder, export_model / ONNX and the
classifiers/ recipes that train them."""
import doctest
import pathlib
import runpy
import sys

import numpy as np
import pytest

torch = pytest.importorskip("torch")

from sklearn.datasets import load_digits  # noqa: E402
from sklearn.model_selection import train_test_split  # noqa: E402
from sklearn.pipeline import Pipeline  # noqa: E402
from sklearn.preprocessing import FunctionTransformer  # noqa: E402

from sparsetools import TopTFrontend  # noqa: E402
from sparsetools.torch import (  # noqa: E402
    MLP,
    ChannelsLast,
    ConvNet,
    ExportedClassifier,
    ResNet,
    TopTClassifier,
    TopTDecoder,
    export_model,
    to_torch,
    train_classifier,
)

RECIPES = pathlib.Path(__file__).resolve().parents[1] / "classifiers"


@pytest.fixture(autouse=True, scope="module")
def one_thread():
    n = torch.get_num_threads()
    torch.set_num_threads(1)  # these models are tiny: one thread is fastest
    yield
    torch.set_num_threads(n)


def _scale(X):
    return X / 16.0


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return train_test_split(X, y, test_size=0.5, random_state=0, stratify=y)


# --------------------------------------------------------------------------
# shapes
# --------------------------------------------------------------------------

SHAPES = [(1, 8, 8), (1, 28, 28), (3, 32, 32)]


@pytest.mark.parametrize("shape", SHAPES)
@pytest.mark.parametrize("make", [
    lambda s: MLP(s, 10),
    lambda s: ConvNet(s, 10, width=4),
    lambda s: ResNet(s, 10, depth=8, width=4),
], ids=["mlp", "convnet", "resnet"])
def test_network_output_shapes(make, shape):
    net = make(shape)
    x = torch.rand((5,) + shape)
    assert net.eval()(x).shape == (5, 10)
    assert net.train()(x).shape == (5, 10)


def test_table3_layers():
    mlp = MLP((1, 28, 28), 10)
    dense = [m for m in mlp if isinstance(m, torch.nn.Linear)]
    assert [(m.in_features, m.out_features) for m in dense] == [(784, 784), (784, 256),
                                                                 (256, 10)]
    assert [m.p for m in mlp if isinstance(m, torch.nn.Dropout)] == [0.5, 0.2]
    conv = ConvNet((3, 32, 32), 10)
    assert [m.out_channels for m in conv if isinstance(m, torch.nn.Conv2d)] == [
        32, 32, 64, 64, 128, 256]
    assert [m.p for m in conv if isinstance(m, torch.nn.Dropout)] == [0.5, 0.25, 0.25, 0.5]
    assert [m.out_features for m in conv if isinstance(m, torch.nn.Linear)] == [512, 10]
    # ResNet-20: 19 convolutions on the main path and 2 projection shortcuts
    res = ResNet((3, 32, 32), 10)
    convs = [m for m in res.modules() if isinstance(m, torch.nn.Conv2d)]
    assert len(convs) == 21 and sum(m.kernel_size == (1, 1) for m in convs) == 2
    assert sum(p.numel() for p in res.parameters()) == 272_602  # He et al.: 0.27M


def test_channels_last_equals_nchw():
    net = ConvNet((3, 8, 8), 4, width=4).eval()
    x = torch.rand(3, 3, 8, 8)
    wrapped = ChannelsLast(net)
    torch.testing.assert_close(wrapped(x.permute(0, 2, 3, 1)), net(x))


def test_network_bad_arguments():
    with pytest.raises(ValueError, match="input_shape must have 3 entries"):
        ConvNet((8, 8), 10)
    with pytest.raises(ValueError, match="height and width >= 4"):
        ConvNet((1, 3, 8), 10)
    with pytest.raises(ValueError, match="depth must be 6 n \\+ 2"):
        ResNet((1, 8, 8), 10, depth=10)
    with pytest.raises(ValueError, match="dropout must be in"):
        MLP((64,), 10, dropout=1.0)
    with pytest.raises(ValueError, match="dropout must be a float or 2 floats"):
        MLP((64,), 10, dropout=(0.1, 0.2, 0.3))
    with pytest.raises(TypeError, match="n_classes must be an int"):
        MLP((64,), 2.5)


# --------------------------------------------------------------------------
# the top-T decoder
# --------------------------------------------------------------------------

@pytest.mark.parametrize("shape, patch, stride, grid, padding, output_padding", [
    ((3, 32, 32), 4, 2, (15, 15), (0, 0), (0, 0)),  # paper 003's CIFAR-10
    ((1, 8, 8), 4, 2, (3, 3), (0, 0), (0, 0)),
    ((1, 28, 28), 5, 3, (9, 9), (1, 1), (1, 1)),  # last position off the grid
    ((1, 25, 25), (4, 3), (2, 3), (12, 9), (1, 1), (1, 0)),
    ((3, 10, 13), (5, 4), (4, 2), (3, 6), (2, 1), (1, 1)),
    ((1, 9, 7), 3, 1, (7, 5), (0, 0), (0, 0)),
])
def test_decoder_restores_the_image_size(shape, patch, stride, grid, padding,
                                         output_padding):
    c, h, w = shape
    rng = np.random.default_rng(0)
    atoms = rng.standard_normal((12, np.prod(np.broadcast_to(patch, 2)) * c))
    front = TopTFrontend(atoms, patch_size=patch, stride=stride, n_top=3, epsilon=0.01,
                         image_shape=(h, w, c) if c > 1 else (h, w))
    front.fit(rng.random((2, h * w * c)))
    decoder = TopTDecoder.from_frontend(front, hidden=(8, 4))
    assert decoder.grid_shape == grid
    assert grid[0] * grid[1] == front.n_positions_
    assert decoder.padding == padding and decoder.output_padding == output_padding
    images = torch.rand(4, c, h, w, dtype=torch.float64)
    codes = to_torch(front)(images).float()
    out = decoder(codes)
    assert out.shape == (4, c, h, w)
    assert bool((out >= 0).all())  # ReLU after the last layer too
    # the (N, L, m_h, m_w) layout gives the same maps as the flat codes
    grid_codes = codes.reshape(4, grid[0], grid[1], 12).permute(0, 3, 1, 2)
    torch.testing.assert_close(decoder(grid_codes), out)


def test_decoder_bad_input():
    dec = TopTDecoder(16, (1, 8, 8), patch_size=4, stride=2, hidden=(4, 4))
    with pytest.raises(ValueError, match="144 columns; got 143"):
        dec(torch.zeros(2, 143))
    with pytest.raises(ValueError, match="codes must have shape"):
        dec(torch.zeros(2, 16, 2, 3))
    with pytest.raises(ValueError, match="larger than the image"):
        TopTDecoder(16, (1, 3, 8), patch_size=4)
    with pytest.raises(ValueError, match="stride .* must be at most patch_size"):
        TopTDecoder(16, (1, 8, 8), patch_size=4, stride=5)
    with pytest.raises(TypeError, match="fitted TopTFrontend"):
        TopTDecoder.from_frontend("front")
    rng = np.random.default_rng(0)
    front = TopTFrontend(rng.standard_normal((16, 16)), patch_size=4, stride=2, n_top=3,
                         epsilon=0.01, image_shape=(8, 8)).fit(rng.random((2, 64)))
    with pytest.raises(ValueError, match="front end has 16 atoms but the decoder takes 8"):
        TopTClassifier(front, TopTDecoder(8, (1, 8, 8)), ConvNet((1, 8, 8), 10))
    with pytest.raises(ValueError, match="takes 1 channel"):
        TopTClassifier(front, TopTDecoder(16, (3, 8, 8)), ConvNet((3, 8, 8), 10))


# --------------------------------------------------------------------------
# train_classifier
# --------------------------------------------------------------------------

def test_train_classifier_is_seeded_and_keeps_the_global_rng(digits):
    X_train, X_test, y_train, _ = digits
    X_train = X_train[:300] / 16

    def fit(seed, net=None):
        net = ResNet((1, 8, 8), 10, depth=8, width=4) if net is None else net
        return train_classifier(net, X_train, y_train[:300], (1, 8, 8), epochs=2,
                                random_state=seed).decision_function(X_test[:50] / 16)

    net = ResNet((1, 8, 8), 10, depth=8, width=4)  # torch's init draws from the global RNG
    torch.manual_seed(123)
    expected = torch.rand(3)
    torch.manual_seed(123)
    a = fit(0, net)
    np.testing.assert_array_equal(torch.rand(3).numpy(), expected.numpy())
    np.testing.assert_array_equal(fit(0), a)  # a fresh network: the same numbers
    assert np.abs(fit(1) - a).max() > 1e-3


def test_train_classifier_bad_arguments(digits):
    X, y = digits[0][:20] / 16, digits[2][:20]
    net = MLP((64,), 10, hidden=(8,))
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        train_classifier("mlp", X, y)
    with pytest.raises(ValueError, match="X must be a non-empty 2-D"):
        train_classifier(net, X.reshape(20, 8, 8), y)
    with pytest.raises(ValueError, match="X must be finite"):
        train_classifier(net, np.where(X == 0, np.nan, X), y)
    with pytest.raises(ValueError, match="y must have shape \\(20,\\)"):
        train_classifier(net, X, y[:5])
    with pytest.raises(ValueError, match="X has 64 features but input_shape \\(1, 8, 9\\)"):
        train_classifier(net, X, y, (1, 8, 9))
    with pytest.raises(ValueError, match="epochs must be"):
        train_classifier(net, X, y, epochs=0)
    with pytest.raises(ValueError, match="lr must be > 0"):
        train_classifier(net, X, y, lr=0.0)
    with pytest.raises(ValueError, match="at least 2 classes"):
        train_classifier(net, X, np.zeros(20))


# --------------------------------------------------------------------------
# recipes, export, ExportedClassifier at the end of a Pipeline
# --------------------------------------------------------------------------

def _recipe(name):
    return runpy.run_path(str(RECIPES / name))


def _has_onnx():
    try:
        import onnxruntime  # noqa: F401
        import onnxscript  # noqa: F401
    except ImportError:
        return False
    return True


@pytest.fixture(scope="module")
def resnet_recipe(tmp_path_factory):
    """The recipe's ResNet-8 (width 8), 5 epochs on digits, exported."""
    out = tmp_path_factory.mktemp("resnet")
    paths = {"pt2": str(out / "resnet.pt2"), "torchscript": str(out / "resnet.pt")}
    if _has_onnx():
        paths["onnx"] = str(out / "resnet.onnx")
    result = _recipe("paper_networks.py")["main"](
        ["--net", "resnet", "--depth", "8", "--width", "8", "--epochs", "5",
         "--out", *paths.values()])
    return paths, result


@pytest.mark.parametrize("fmt", ["pt2", "torchscript", "onnx"])
def test_recipe_model_in_a_pipeline_predicts_as_the_network(resnet_recipe, digits, fmt):
    if fmt == "onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    paths, result = resnet_recipe
    # measured: 0.970 test accuracy (898 training digits, 5 epochs, 3 s)
    assert result["accuracy"] > 0.93
    X_train, X_test, y_train, y_test = digits
    pipe = Pipeline([("scale", FunctionTransformer(_scale)),
                     ("net", ExportedClassifier(paths[fmt], input_shape=(1, 8, 8),
                                                batch_size=128))]).fit(X_train, y_train)
    net = result["classifier"].model
    with torch.no_grad():
        scores = net(torch.as_tensor(X_test / 16, dtype=torch.float32).reshape(-1, 1, 8, 8))
    np.testing.assert_array_equal(pipe.predict(X_test), scores.argmax(1).numpy())
    np.testing.assert_allclose(pipe.decision_function(X_test), scores.numpy(), atol=1e-4)
    assert pipe.score(X_test, y_test) == pytest.approx(result["accuracy"])
    assert result["exported"][paths[fmt]] == (pytest.approx(result["accuracy"]), 1.0)
    if fmt == "onnx":
        # an ONNX model has no gradients: white-box attacks get a clear error
        from sparsetools.torch import torch_head

        with pytest.raises(TypeError, match="ONNX model gives no gradients"):
            torch_head(pipe[-1])(torch.rand(2, 64, requires_grad=True))


def _write_local_copy(folder, dataset):
    """Digits in the files of a local MNIST (IDX, 28x28) or CIFAR-10 (python
    batches, 32x32x3) copy: 600 training and 300 test images."""
    import pickle

    X, y = load_digits(return_X_y=True)
    pixels = np.round(X * (255 / 16)).astype(np.uint8).reshape(-1, 8, 8)
    if dataset == "mnist":
        big = np.pad(np.kron(pixels, np.ones((3, 3), np.uint8)), ((0, 0), (2, 2), (2, 2)))
        for name, rows in (("train", slice(0, 600)), ("t10k", slice(600, 900))):
            n = len(y[rows])
            (folder / f"{name}-images-idx3-ubyte").write_bytes(
                bytes([0, 0, 8, 3]) + np.array([n, 28, 28], ">u4").tobytes()
                + big[rows].tobytes())
            (folder / f"{name}-labels-idx1-ubyte").write_bytes(
                bytes([0, 0, 8, 1]) + np.array([n], ">u4").tobytes()
                + y[rows].astype(np.uint8).tobytes())
        return
    big = np.kron(pixels, np.ones((4, 4), np.uint8))  # 32x32, channel planes below
    planes = np.stack([big, big[:, ::-1], 255 - big], axis=1).reshape(len(y), -1)
    names = [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]
    for i, name in enumerate(names):
        rows = slice(120 * i, 120 * (i + 1)) if i < 5 else slice(600, 900)
        with open(folder / name, "wb") as f:
            pickle.dump({b"data": planes[rows], b"labels": y[rows].tolist()}, f)
    with open(folder / "batches.meta", "wb") as f:
        pickle.dump({b"label_names": [str(i).encode() for i in range(10)]}, f)


@pytest.mark.parametrize("dataset, net, shape", [
    ("mnist", ["--net", "mlp", "--input-dropout", "0"], (784,)),
    ("cifar10", ["--net", "resnet", "--depth", "8", "--width", "4"], (32, 32, 3)),
])
def test_recipe_reads_a_local_copy(tmp_path, dataset, net, shape):
    _write_local_copy(tmp_path, dataset)
    out = str(tmp_path / "net.pt2")
    result = _recipe("paper_networks.py")["main"](
        [*net, "--epochs", "4", "--dataset", dataset, "--data", str(tmp_path),
         "--max-train", "400", "--max-test", "200", "--out", out])
    assert result["input_shape"] == shape
    # measured: 0.885 (mnist) and 0.445 (cifar10) on these 200 test digits
    assert result["accuracy"] > 0.3
    assert result["exported"][out] == (pytest.approx(result["accuracy"]), 1.0)


def test_onnx_needs_onnxruntime(tmp_path, monkeypatch):
    path = tmp_path / "m.onnx"
    path.write_bytes(b"junk")
    monkeypatch.setitem(sys.modules, "onnxruntime", None)
    with pytest.raises(ImportError, match=r"sparsetools\[onnx\]"):
        ExportedClassifier(str(path), input_shape=(4,)).fit(np.zeros((2, 4)), [0, 1])


def test_bad_onnx_file(tmp_path):
    pytest.importorskip("onnxruntime")
    path = tmp_path / "junk.onnx"
    path.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="is not an ONNX model"):
        ExportedClassifier(str(path), input_shape=(4,)).fit(np.zeros((2, 4)), [0, 1])


def test_export_model_bad_arguments(tmp_path):
    net = torch.nn.Linear(4, 2)
    with pytest.raises(ValueError, match="no known suffix"):
        export_model(net, str(tmp_path / "m.bin"), input_shape=(4,))
    with pytest.raises(ValueError, match="format must be one of"):
        export_model(net, str(tmp_path / "m.bin"), input_shape=(4,), format="keras")
    with pytest.raises(ValueError, match="input_shape must be a tuple"):
        export_model(net, str(tmp_path / "m.pt2"), input_shape=4)
    with pytest.raises(ValueError, match="folder of path"):
        export_model(net, str(tmp_path / "no" / "m.pt2"), input_shape=(4,))
    with pytest.raises(TypeError, match="net must be a torch.nn.Module"):
        export_model("net", str(tmp_path / "m.pt2"), input_shape=(4,))
    # format overrides the suffix
    path = export_model(net, str(tmp_path / "m.bin"), input_shape=(4,), format="export")
    clf = ExportedClassifier(path + "", input_shape=(4,))
    with pytest.raises(ValueError, match="not a TorchScript file"):
        clf.fit(np.zeros((2, 4)), [0, 1])  # .bin is read as TorchScript
    (tmp_path / "m.pt2").write_bytes((tmp_path / "m.bin").read_bytes())
    clf = ExportedClassifier(str(tmp_path / "m.pt2"), input_shape=(4,)).fit(
        np.zeros((2, 4)), [0, 1])
    x = np.random.default_rng(0).random((7, 4))
    with torch.no_grad():
        expected = net(torch.as_tensor(x, dtype=torch.float32)).numpy()
    np.testing.assert_allclose(clf.decision_function(x), expected, rtol=1e-6, atol=1e-6)


# --------------------------------------------------------------------------
# paper 003: front end + decoder + ConvNet, trained jointly
# --------------------------------------------------------------------------

@pytest.fixture(scope="module")
def joint():
    recipe = _recipe("topt_decoder_convnet.py")
    X_train, X_test, y_train, y_test = recipe["digits_split"](0)
    front = recipe["fit_frontend"](X_train, n_components=64, n_top=5, max_iter=2)
    model, on_codes = recipe["train_joint"](front, X_train, y_train, width=8,
                                            hidden=(32, 16), epochs=30, lr=2e-3,
                                            batch_size=64)
    return recipe, front, model, on_codes, (X_train, X_test, y_train, y_test)


def test_joint_topt_decoder_convnet_accuracy(joint):
    _, front, model, on_codes, (_, X_test, _, y_test) = joint
    # measured: 0.941 clean test accuracy (64 atoms, T = 5, 30 epochs, 4 s)
    assert model.score(X_test, y_test) > 0.9
    # the chain on images (the front end's twin) and decoder + ConvNet on the
    # C kernel's codes agree on (nearly) every digit: ties may pick other atoms
    codes = np.asarray(front.transform(X_test), dtype=np.float32)
    agree = np.mean(model.predict(X_test) == on_codes.predict(codes))
    assert agree > 0.99
    # the front end is frozen: only the decoder and the ConvNet have parameters
    chain = model.model
    assert sum(p.numel() for p in chain.frontend.parameters()) == 0
    assert sum(p.numel() for p in chain.parameters()) == sum(
        p.numel() for p in on_codes.model.parameters())


@pytest.mark.parametrize("suffix", [".pt2", ".onnx"])
def test_joint_model_exports(joint, tmp_path, suffix):
    if suffix == ".onnx":
        pytest.importorskip("onnxruntime")
        pytest.importorskip("onnxscript")
    _, _, model, _, (_, X_test, _, y_test) = joint
    path = export_model(model.model, str(tmp_path / f"topt{suffix}"), input_shape=(1, 8, 8))
    loaded = ExportedClassifier(path, input_shape=(1, 8, 8),
                                classes=model.classes_).fit(X_test[:2], y_test[:2])
    np.testing.assert_array_equal(loaded.predict(X_test), model.predict(X_test))


def test_joint_recipe_main_reports_both_accuracies(tmp_path):
    recipe = _recipe("topt_decoder_convnet.py")
    result = recipe["main"](["--n-components", "64", "--n-top", "5", "--width", "8",
                             "--epochs", "10", "--lr", "2e-3", "--batch-size", "64",
                             "--out", str(tmp_path / "m.pt2")])
    # measured: 0.897 and 0.923 after 10 epochs
    assert result["accuracy"] > 0.8 and result["accuracy_convnet_alone"] > 0.85
    assert result["exported"][str(tmp_path / "m.pt2")][1] == 1.0


def test_recipes_have_help(capsys):
    for name in ("paper_networks.py", "topt_decoder_convnet.py"):
        with pytest.raises(SystemExit) as info:
            _recipe(name)["main"](["--help"])
        assert info.value.code == 0
        out = capsys.readouterr().out
        assert "--seed" in out and "--out" in out


def test_docstring_examples_run():
    import sparsetools.torch._exported as exported
    import sparsetools.torch._networks as networks

    for module in (networks, exported):
        result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
        assert result.attempted > 0 and result.failed == 0

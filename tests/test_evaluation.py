"""Tests of sparsetools.evaluation: reports, white-box twins of pipelines,
evaluate() under each threat model, and smoke runs of the presets."""
import json

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.decomposition import PCA
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.svm import LinearSVC

from sparsetools import DictionaryDenoiser, TopTFrontend
from sparsetools.evaluation import COLUMNS, Report

torch = pytest.importorskip("torch")

from sparsetools.evaluation import PRESETS, evaluate, run_preset  # noqa: E402
from sparsetools.torch import BPDA, ExportedClassifier, pipeline_module, torch_head  # noqa: E402
from sparsetools.torch.attacks import fgsm, hop_skip_jump, pgd  # noqa: E402


@pytest.fixture(scope="module")
def digits():
    X, y = load_digits(return_X_y=True)
    return X[:600] / 16.0, y[:600], X[1200:1300] / 16.0, y[1200:1300]


@pytest.fixture(scope="module")
def mlp(digits):
    X, y, _, _ = digits
    return MLPClassifier((32,), max_iter=600, random_state=0).fit(X, y)


@pytest.fixture(scope="module")
def denoiser(digits):
    X = digits[0]
    return DictionaryDenoiser(image_shape=(8, 8), patch_size=8, n_components=64,
                              n_nonzero_coefs=6, max_iter=3, random_state=0).fit(X)


# ---------------------------------------------------------------- Report

def test_report_round_trips_json_and_csv(tmp_path):
    r = Report([{"model": "a", "condition": "clean", "accuracy": np.float64(0.5), "n": 4},
                {"model": "a", "condition": "adversarial", "threat_model": "white-box",
                 "attack": "PGD", "epsilon": 0.1, "accuracy": 0.25, "psnr": float("nan")}],
               meta={"seed": 0})
    assert r.records[1]["psnr"] is None and isinstance(r.records[0]["accuracy"], float)
    back = Report.from_json(r.to_json(tmp_path / "r.json"))
    assert back.records == r.records and back.meta == {"seed": 0}
    assert Report.from_json(tmp_path / "r.json").records == r.records
    lines = r.to_csv(tmp_path / "r.csv").splitlines()
    assert lines[0].split(",") == list(COLUMNS) and len(lines) == 3
    assert (tmp_path / "r.csv").read_text().splitlines() == lines
    assert lines[2].split(",")[:6] == ["a", "adversarial", "white-box", "PGD", "0.1", "0.25"]
    assert r.select(condition="clean")[0]["n"] == 4
    joined = r + Report([{"model": "b", "condition": "clean", "accuracy": 1.0}])
    assert len(joined) == 3 and joined.meta == {"seed": 0}
    assert "accuracy" in r.table() and "psnr" not in r.table()
    with pytest.raises(ValueError, match="unknown report columns"):
        r.add(model="a", acc=1.0)
    with pytest.raises(ValueError, match="records"):
        Report.from_json('{"rows": []}')


# ---------------------------------------------------------- torch twins

def test_torch_head_equals_the_estimators(digits, mlp):
    X, y, Xt, _ = digits
    x = torch.as_tensor(Xt)
    np.testing.assert_allclose(torch.softmax(torch_head(mlp)(x), 1).detach().numpy(),
                               mlp.predict_proba(Xt), rtol=1e-10, atol=1e-12)
    svm = LinearSVC().fit(X, y)
    np.testing.assert_allclose(torch_head(svm)(x).numpy(), svm.decision_function(Xt),
                               rtol=1e-12)
    binary = MLPClassifier((8,), max_iter=400, random_state=0).fit(X, y == 3)
    z = torch_head(binary)(x).detach().numpy()
    np.testing.assert_allclose(1 / (1 + np.exp(-(z[:, 1] - z[:, 0]))),
                               binary.predict_proba(Xt)[:, 1], rtol=1e-10)
    net = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(64, 10))
    exported = ExportedClassifier(net, input_shape=(1, 8, 8)).fit(X, y)
    np.testing.assert_allclose(torch_head(exported)(x).detach().numpy(),
                               exported.decision_function(Xt), rtol=1e-6)
    with pytest.raises(TypeError, match="torch_head supports"):
        torch_head(StandardScaler().fit(X))


def test_bpda_forward_is_the_transform_and_backward_the_identity(digits, denoiser):
    Xt = digits[2][:5]
    x = torch.tensor(Xt, requires_grad=True)
    out = BPDA(denoiser)(x)
    np.testing.assert_array_equal(out.detach().numpy(), denoiser.transform(Xt))
    w = torch.arange(64, dtype=torch.float64)
    (out * w).sum().backward()
    np.testing.assert_array_equal(x.grad.numpy(), np.tile(w.numpy(), (5, 1)))
    with pytest.raises(ValueError, match="input's shape"):
        BPDA(PCA(3).fit(Xt))(torch.as_tensor(Xt))
    with pytest.raises(TypeError, match="transform"):
        BPDA(object())


def test_pipeline_module_equals_the_pipeline(digits):
    X, y, Xt, _ = digits
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=400)).fit(X, y)
    np.testing.assert_allclose(pipeline_module(pipe)(torch.as_tensor(Xt)).numpy(),
                               pipe.decision_function(Xt), rtol=1e-10, atol=1e-10)
    front = TopTFrontend(n_components=32, patch_size=4, stride=2, n_top=4, epsilon=0.05,
                         image_shape=(8, 8), max_iter=1, random_state=0)
    topt = Pipeline([("front", front), ("svm", LinearSVC())]).fit(X, y)
    np.testing.assert_allclose(pipeline_module(topt)(torch.as_tensor(Xt)).detach().numpy(),
                               topt.decision_function(Xt), rtol=1e-9, atol=1e-9)
    with pytest.raises(TypeError, match="Pipeline"):
        pipeline_module(LinearSVC())
    for whiten in (False, True):    # PCA: its affine map, exact gradients
        pca = make_pipeline(PCA(12, whiten=whiten, random_state=0),
                            LogisticRegression(max_iter=400)).fit(X, y)
        np.testing.assert_allclose(pipeline_module(pca)(torch.as_tensor(Xt)).numpy(),
                                   pca.decision_function(Xt), rtol=1e-9, atol=1e-9)


def _module_gradients(pipe, x, backwards, tol):
    """Per backward pass: the pipeline's torch module (checked to compute
    the pipeline's decision function on `x` to `tol`) and the gradient of
    its first output, summed over the rows, with respect to `x`."""
    modules, grads = {}, {}
    for backward in backwards:
        module = modules[backward] = pipeline_module(pipe, backward=backward)
        xg = x.clone().requires_grad_(True)
        out = module(xg)
        np.testing.assert_allclose(out.detach().numpy(), pipe.decision_function(x.numpy()),
                                   rtol=tol, atol=tol)
        out[:, 0].sum().backward()
        grads[backward] = xg.grad.numpy()
    return modules, grads


def test_pipeline_module_uses_the_twins(digits, denoiser):
    """Denoiser, LCA and deep sparse coder steps become their twins: the
    module equals the pipeline; the denoiser's exact backward differs from
    BPDA's identity, and equals the twin's own gradient."""
    from sparsetools import DeepSparseCoder, LCACoder
    from sparsetools.torch import to_torch

    X, y, Xt, yt = digits
    pipe = Pipeline([("den", denoiser), ("lr", LogisticRegression(max_iter=400))]).fit(X, y)
    x = torch.as_tensor(Xt[:5])
    _, grads = _module_gradients(pipe, x, ("identity", "exact"), tol=1e-9)
    w = torch.as_tensor(pipe[-1].coef_[0])
    np.testing.assert_allclose(grads["identity"], np.tile(w.numpy(), (5, 1)), atol=1e-12)
    xg = x.clone().requires_grad_(True)
    (to_torch(denoiser)(xg) @ w).sum().backward()
    np.testing.assert_allclose(grads["exact"], xg.grad.numpy(), atol=1e-10)
    assert np.abs(grads["exact"] - grads["identity"]).max() > 1e-3
    for coder in (LCACoder(denoiser.components_[:32, :], threshold=0.1),
                  DeepSparseCoder((24, 12), n_epochs=1, pretrain_epochs=1,
                                  random_state=0)):
        p = Pipeline([("code", coder), ("lr", LogisticRegression(max_iter=400))]).fit(X, y)
        np.testing.assert_allclose(pipeline_module(p)(x).detach().numpy(),
                                   p.decision_function(Xt[:5]), rtol=1e-7, atol=1e-7)


# -------------------------------------------------------------- evaluate

def test_white_box_rows_are_the_attack_on_the_pipeline(digits):
    X, y, Xt, yt = digits
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=400)).fit(X, y)
    report = evaluate(pipe, Xt, yt, attacks={"FGSM": (fgsm, {"epsilon": [0.02, 0.1]})},
                      threat_models=("white-box",), name="logreg", image_shape=(8, 8))
    rows = report.select(condition="adversarial")
    assert [r["epsilon"] for r in rows] == [0.02, 0.1]
    for r in rows:
        adv = fgsm(pipeline_module(pipe), torch.as_tensor(Xt),
                   torch.as_tensor(np.searchsorted(pipe.classes_, yt)),
                   epsilon=r["epsilon"]).numpy()
        assert r["accuracy"] == pytest.approx(pipe.score(adv, yt))
        assert r["linf"] == pytest.approx(r["epsilon"])
        assert r["n"] == len(yt) and r["model"] == "logreg"
    clean = report.select(condition="clean")[0]
    assert clean["accuracy"] == pytest.approx(pipe.score(Xt, yt))
    assert clean["accuracy"] > rows[0]["accuracy"] > rows[1]["accuracy"]
    # no surrogate, no transfer rows; the scaler keeps the width, so grey-box was possible
    assert report.meta["skipped"] == {}
    assert report.select(condition="low-pass")[0]["l2"] > 0


def test_relative_budgets_scale_with_each_inputs_norm(digits):
    """``relative=True``: sample i is attacked within epsilon * ||x_i||_2,
    the record keeps the relative value, and the rows equal the attack
    called with those per-sample budgets."""
    X, y, Xt, yt = digits
    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=400)).fit(X, y)
    report = evaluate(pipe, Xt, yt,
                      attacks={"FGSM": (fgsm, {"epsilon": [0.04, 0.08], "norm": "2",
                                              "relative": True})},
                      threat_models=("white-box",), image_shape=(8, 8))
    norms = np.linalg.norm(Xt, axis=1)
    for r in report.select(condition="adversarial"):
        adv = fgsm(pipeline_module(pipe), torch.as_tensor(Xt),
                   torch.as_tensor(np.searchsorted(pipe.classes_, yt)),
                   epsilon=r["epsilon"] * norms, norm="2").numpy()
        assert np.all(np.linalg.norm(adv - Xt, axis=1) <= r["epsilon"] * norms + 1e-9)
        assert r["accuracy"] == pytest.approx(pipe.score(adv, yt))
        assert r["l2"] == pytest.approx(np.linalg.norm(adv - Xt, axis=1).mean())
    assert [r["epsilon"] for r in report.select(condition="adversarial")] == [0.04, 0.08]
    assert report.meta["attacks"]["FGSM"]["relative"] is True
    with pytest.raises(TypeError, match=r"'relative'\] must be a bool"):
        evaluate(pipe, Xt, yt, attacks={"F": (fgsm, {"epsilon": 0.1, "relative": 1})})


def test_pgd_reaches_zero_accuracy_at_large_epsilon(digits, mlp):
    # paper 003's check that the attack works: a large budget must break any model
    X, y, Xt, yt = digits
    report = evaluate(Pipeline([("mlp", mlp)]), Xt, yt, image_shape=(8, 8),
                      attacks={"PGD": (pgd, {"epsilon": [0.05, 0.5], "n_iter": 20,
                                             "random_state": 0})},
                      threat_models=("white-box",))
    acc = [r["accuracy"] for r in report.select(condition="adversarial")]
    assert acc[1] == 0.0 and acc[0] < report.records[0]["accuracy"]


def test_decision_based_rows_score_hop_skip_jump_within_each_budget(digits, denoiser):
    """The decision-based threat model queries the pipeline's labels only:
    one HopSkipJump run, scored at each epsilon with the points found
    within it (clean inputs elsewhere); gradient attacks do not run there,
    nor HopSkipJump under the gradient threat models."""
    X, y, Xt, yt = digits
    pipe = Pipeline([("dict", denoiser),
                     ("lr", LogisticRegression(max_iter=400))]).fit(X, y)
    Xs, ys = Xt[:12], yt[:12]
    params = {"epsilon": [0.05, 0.2, 0.5], "norm": "inf", "max_queries": 400,
              "random_state": 0}
    attacks = {"HSJ": (hop_skip_jump, params), "FGSM": (fgsm, {"epsilon": 0.1})}
    report = evaluate(pipe, Xs, ys, attacks=attacks,
                      threat_models=("white-box", "decision-based"))
    assert [(r["threat_model"], r["attack"]) for r in report.select(
        condition="adversarial")] == [("white-box", "FGSM")] + [
            ("decision-based", "HSJ")] * 3
    rows = report.select(threat_model="decision-based")
    # the same attack by hand, on the pipeline's predicted labels
    classes = pipe.classes_

    def labels(x):
        pred = np.searchsorted(classes, pipe.predict(x.numpy()))
        return torch.nn.functional.one_hot(torch.as_tensor(pred), len(classes)).double()

    adv, info = hop_skip_jump(labels, torch.as_tensor(Xs),
                              torch.as_tensor(np.searchsorted(classes, ys)), norm="inf",
                              max_queries=400, random_state=0, return_info=True)
    adv = adv.numpy()
    size = np.abs(adv - Xs).max(axis=1)
    for r in rows:
        within = np.where((size <= r["epsilon"])[:, None], adv, Xs)
        assert r["accuracy"] == pytest.approx(pipe.score(within, ys))
        assert np.abs(within - Xs).max() <= r["epsilon"] + 1e-12
        assert r["queries"] == pytest.approx(info["queries"].double().mean().item())
        assert r["n"] == 12 and r["linf"] <= r["epsilon"] + 1e-12
    acc = [r["accuracy"] for r in rows]
    assert acc[0] >= acc[1] >= acc[2] and acc[2] < report.records[0]["accuracy"]
    assert 0 < rows[0]["queries"] <= 400
    assert report.select(threat_model="white-box")[0]["queries"] is None
    # a threat model with no attack for it is skipped, with the reason
    only = evaluate(pipe, Xs, ys, attacks={"FGSM": (fgsm, {"epsilon": 0.1})},
                    threat_models=("white-box", "decision-based"))
    assert only.meta["skipped"] == {"decision-based": "no decision-based attack in attacks"}
    only = evaluate(pipe, Xs, ys, attacks={"HSJ": (hop_skip_jump, params)},
                    threat_models=("white-box",))
    assert only.meta["skipped"] == {"white-box": "only decision-based attacks in attacks"}
    assert only.select(condition="adversarial") == []


def test_pipeline_module_gives_deep_coders_bpda_or_exact_gradients(digits):
    """A DeepSparseCoder step: BPDA's identity for its thresholds unless
    ``backward="exact"``; both compute the pipeline."""
    from sparsetools import DeepSparseCoder

    X, y, Xt, _ = digits
    R = X / np.linalg.norm(X, axis=1, keepdims=True)
    dsc = DeepSparseCoder((24, 12), n_epochs=1, pretrain_epochs=1, random_state=0)
    pipe = Pipeline([("dsc", dsc), ("lr", LogisticRegression(max_iter=400))]).fit(R, y)
    x = torch.as_tensor(R[:5])
    modules, grads = _module_gradients(pipe, x, ("identity", "smooth", "exact"), tol=1e-7)
    for backward, module in modules.items():
        assert module[0].backward_mode == ("exact" if backward == "exact" else "identity")
    assert np.array_equal(grads["identity"], grads["smooth"])
    assert np.abs(grads["identity"] - grads["exact"]).max() > 1e-3


def test_grey_box_and_transfer_with_a_denoiser(digits, mlp, denoiser):
    X, y, Xt, yt = digits
    pipe = Pipeline([("dict", denoiser), ("mlp", mlp)])
    surrogate = LogisticRegression(max_iter=400).fit(X, y)
    report = evaluate(pipe, Xt, yt, attacks={"FGSM": (fgsm, {"epsilon": 0.1})},
                      surrogate=surrogate, random_state=3)
    grey, transfer, white = report.select(condition="adversarial")
    assert (grey["threat_model"], transfer["threat_model"], white["threat_model"]) == (
        "grey-box", "transfer", "white-box")
    x = torch.as_tensor(Xt)
    t = torch.as_tensor(np.searchsorted(mlp.classes_, yt))
    adv = fgsm(torch_head(mlp), x, t, epsilon=0.1).numpy()
    assert grey["accuracy"] == pytest.approx(pipe.score(adv, yt))
    assert grey["undefended_accuracy"] == pytest.approx(mlp.score(adv, yt))
    adv_t = fgsm(torch_head(surrogate), x, t, epsilon=0.1).numpy()
    assert transfer["accuracy"] == pytest.approx(pipe.score(adv_t, yt))
    for r in (grey, transfer, white):
        assert 0.0 <= r["noise_accuracy"] <= 1.0
        assert 5.0 < r["psnr"] < 40.0 and 0.0 < r["ssim"] <= 1.0 and r["distance"] > 0
    clean = report.select(condition="clean")[0]
    assert clean["psnr"] > grey["psnr"]          # the attack moves the reconstruction
    # seeded: the same call gives the same report
    again = evaluate(pipe, Xt, yt, attacks={"FGSM": (fgsm, {"epsilon": 0.1})},
                     surrogate=surrogate, random_state=3)
    assert again.records == report.records


def test_front_ends_that_change_width_need_an_undefended_model(digits, mlp):
    X, y, Xt, yt = digits
    front = TopTFrontend(n_components=32, patch_size=4, stride=2, n_top=4, epsilon=0.05,
                         image_shape=(8, 8), max_iter=1, random_state=0)
    pipe = Pipeline([("front", front), ("svm", LinearSVC())]).fit(X, y)
    attacks = {"PGD": (pgd, {"epsilon": 0.1, "n_iter": 5, "random_state": 0})}
    report = evaluate(pipe, Xt, yt, attacks=attacks, backward="smooth")
    assert set(report.meta["skipped"]) == {"grey-box", "transfer"}
    assert [r["threat_model"] for r in report.select(condition="adversarial")] == [
        "white-box"]
    report = evaluate(pipe, Xt, yt, attacks=attacks, undefended=mlp,
                      threat_models=["grey-box"])
    row = report.select(condition="adversarial")[0]
    assert row["undefended_accuracy"] < report.records[0]["undefended_accuracy"]
    assert row["psnr"] is None and row["distance"] > 0


def test_white_box_is_skipped_when_a_front_end_has_no_twin_and_changes_width(digits, mlp):
    # a random projection has no torch twin; pipeline_module would wrap it in BPDA,
    # whose identity backward pass needs rows of unchanged width: white-box is
    # skipped, with the reason
    from sklearn.random_projection import GaussianRandomProjection

    X, y, Xt, yt = digits
    pipe = make_pipeline(StandardScaler(), GaussianRandomProjection(16, random_state=0),
                         LogisticRegression(max_iter=400)).fit(X, y)
    with pytest.raises(ValueError, match="input's shape"):
        pipeline_module(pipe)(torch.as_tensor(Xt))
    surrogate = LogisticRegression(max_iter=400).fit(X, y)
    report = evaluate(pipe, Xt, yt, attacks={"FGSM": (fgsm, {"epsilon": 0.1})},
                      surrogate=surrogate, undefended=mlp, image_shape=(8, 8))
    assert set(report.meta["skipped"]) == {"white-box"}
    assert "'gaussianrandomprojection' (GaussianRandomProjection)" in report.meta[
        "skipped"]["white-box"]
    assert "64 values to 16" in report.meta["skipped"]["white-box"]
    assert [r["threat_model"] for r in report.select(condition="adversarial")] == [
        "grey-box", "transfer"]


def test_evaluate_rejects_bad_input(digits, mlp):
    X, y, Xt, yt = digits
    pipe = Pipeline([("mlp", mlp)])
    attacks = {"FGSM": (fgsm, {"epsilon": 0.1})}
    with pytest.raises(ValueError, match="threat_models"):
        evaluate(pipe, Xt, yt, attacks=attacks, threat_models=["black-box"])
    with pytest.raises(TypeError, match="attacks"):
        evaluate(pipe, Xt, yt, attacks=[fgsm])
    with pytest.raises(TypeError, match="Pipeline"):
        evaluate(mlp, Xt, yt, attacks=attacks)
    with pytest.raises(ValueError, match="y must have shape"):
        evaluate(pipe, Xt, yt[:-1], attacks=attacks)
    with pytest.raises(ValueError, match="labels"):
        evaluate(pipe, Xt, yt + 100, attacks=attacks)
    with pytest.raises(ValueError, match="image_shape"):
        evaluate(pipe, Xt, yt, attacks=attacks, image_shape=(4, 4))
    with pytest.raises(ValueError, match="clip"):
        evaluate(pipe, Xt, yt, attacks=attacks, clip=(1.0, 0.0))
    with pytest.raises(ValueError, match="NaN|finite"):
        evaluate(pipe, np.full_like(Xt, np.nan), yt, attacks=attacks)


# --------------------------------------------------------------- presets

@pytest.mark.parametrize("name", sorted(PRESETS))
def test_presets_smoke_run(name, tmp_path):
    pytest.importorskip("matplotlib")
    lines = []
    report = run_preset(name, out=tmp_path, quick=True, log=lines.append)
    for f in ("report.json", "report.csv", "table.txt", "accuracy.png"):
        assert (tmp_path / f).stat().st_size > 0
    saved = json.loads((tmp_path / "report.json").read_text())
    assert saved["meta"]["preset"] == name and saved["meta"]["quick"] is True
    assert len(saved["records"]) == len(report) > 10
    for r in report.select(condition="clean"):
        assert r["accuracy"] > 0.8                # the classifiers learned something
    adv = report.select(condition="adversarial")
    assert {r["threat_model"] for r in adv} >= {"white-box"}
    assert min(r["accuracy"] for r in adv) < 0.3  # and the attacks bite
    assert any("wrote" in line for line in lines)
    # the adaptive rows: restarts, PGD and the coder's exact gradient, label queries
    attacks = {(r["threat_model"], r["attack"]) for r in adv}
    extra = {"ddl-digits": {("decision-based", "HopSkipJump")},
             "dsc-faces": {("white-box", "PGD"), ("white-box", "IFGSM (exact)")},
             "topt-digits": {("white-box", "PGD-Linf x2"),
                             ("white-box", "PGD-Linf x2 bpda=smooth")},
             "stl-images": set()}[name]
    assert attacks >= extra
    subset = {"ddl-digits": ("DDL+MLP", "HopSkipJump", 10),
              "topt-digits": ("ConvNet (undefended)", "PGD-Linf x2", 10)}
    if name in subset:            # these run on the first test images only
        model, attack, n = subset[name]
        assert {r["n"] for r in report.select(model=model, attack=attack)} == {n}
    with pytest.raises(ValueError, match="name"):
        run_preset("no-such-preset")


def test_evaluate_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from sparsetools.cli import main

    assert main(["evaluate", "topt-digits", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TopT(T=5)+decoder+ConvNet" in out and (tmp_path / "report.csv").exists()
    with pytest.raises(SystemExit):
        main(["evaluate", "no-such-preset"])


# ------------------------------------------------- presets on local data (--data)

def _idx(array):
    a = np.asarray(array, dtype=np.uint8)
    return bytes([0, 0, 8, a.ndim]) + np.asarray(a.shape, dtype=">u4").tobytes() + a.tobytes()


def _upscaled_digits(side):
    """scikit-learn's digits (real images) resized to `side` x `side` with a
    border, as MNIST centres its digits, in [0, 1]."""
    from skimage.transform import resize

    X, y = load_digits(return_X_y=True)
    inner = side - 4
    images = resize(X.reshape(-1, 8, 8) / 16.0, (len(X), inner, inner), order=1,
                    anti_aliasing=False)
    return np.pad(images, ((0, 0), (2, 2), (2, 2))), y


def fake_mnist(folder, n_train=1200):
    """An MNIST folder in the IDX format (training files gzipped, test files
    plain) holding the digits upscaled to 28x28: 1200 training, 597 test."""
    import gzip

    images, y = _upscaled_digits(28)
    u8 = np.round(images * 255).astype(np.uint8)
    folder.mkdir()
    for name, arr in (("train-images-idx3-ubyte.gz", u8[:n_train]),
                      ("train-labels-idx1-ubyte.gz", y[:n_train])):
        with gzip.open(folder / name, "wb") as fh:
            fh.write(_idx(arr))
    (folder / "t10k-images-idx3-ubyte").write_bytes(_idx(u8[n_train:]))
    (folder / "t10k-labels-idx1-ubyte").write_bytes(_idx(y[n_train:]))
    return folder, u8, y


def fake_cifar(root, n_train=1200):
    """A CIFAR-10 folder (python batches, pickle protocol 2 as the originals)
    holding the digits upscaled to 32x32 and painted in a random foreground
    and background color each; returns the (n, 32, 32, 3) uint8 images."""
    import pickle

    images, y = _upscaled_digits(32)
    rng = np.random.default_rng(0)
    fg, bg = rng.uniform(0.5, 1.0, (len(y), 3)), rng.uniform(0.0, 0.4, (len(y), 3))
    color = images[..., None] * fg[:, None, None] + (1 - images[..., None]) * bg[:, None, None]
    u8 = np.round(color * 255).astype(np.uint8)
    rows = u8.transpose(0, 3, 1, 2).reshape(len(y), -1)   # stored channel-major
    folder = root / "cifar-10-batches-py"
    folder.mkdir(parents=True)
    per = n_train // 5
    for i in range(5):
        part = slice(i * per, (i + 1) * per)
        with open(folder / f"data_batch_{i + 1}", "wb") as fh:
            pickle.dump({b"data": rows[part], b"labels": y[part].tolist(),
                         b"batch_label": b"training batch"}, fh, protocol=2)
    with open(folder / "test_batch", "wb") as fh:
        pickle.dump({b"data": rows[n_train:], b"labels": y[n_train:].tolist()}, fh, protocol=2)
    with open(folder / "batches.meta", "wb") as fh:
        pickle.dump({b"label_names": [b"airplane", b"automobile", b"bird", b"cat", b"deer",
                                      b"dog", b"frog", b"horse", b"ship", b"truck"]}, fh,
                    protocol=2)
    return root, u8, y


def test_load_split_draws_seeded_exact_images_from_local_files(tmp_path):
    from sparsetools.evaluation._common import load_split

    folder, u8, y = fake_mnist(tmp_path / "mnist")
    sizes = {"mnist": {"full": (50, 30), "quick": (10, 5)}}
    split = load_split(folder, sizes=sizes, quick=False, random_state=3, preset="p")
    assert split.kind == "mnist" and split.image_shape == (28, 28)
    assert split.X_train.shape == (50, 784) and split.X_test.shape == (30, 784)
    # every drawn row is one image of its file, exactly, with its label, drawn once
    where = {row.tobytes(): i for i, row in enumerate(u8.reshape(len(u8), -1))}
    for X, labels, files_part in ((split.X_train, split.y_train, range(1200)),
                                  (split.X_test, split.y_test, range(1200, len(u8)))):
        u = np.round(X * 255).astype(np.uint8)
        np.testing.assert_array_equal(u / 255.0, X)
        idx = [where[row.tobytes()] for row in u]
        assert len(set(idx)) == len(idx) and set(idx) <= set(files_part)
        np.testing.assert_array_equal(labels, y[idx])
    meta = split.meta
    assert (meta["name"], meta["n_train"], meta["n_test"]) == ("MNIST", 50, 30)
    assert (meta["n_train_available"], meta["n_test_available"]) == (1200, 597)
    again = load_split(folder, sizes=sizes, quick=False, random_state=3, preset="p")
    np.testing.assert_array_equal(again.X_test, split.X_test)
    other = load_split(folder, sizes=sizes, quick=True, random_state=4, preset="p")
    assert other.X_test.shape == (5, 784)
    assert not np.array_equal(other.X_train, split.X_train[:10])
    digits = load_split(None, sizes=sizes, quick=True, random_state=0, preset="p")
    assert digits.image_shape == (8, 8) and digits.meta["name"] == "scikit-learn digits"
    assert len(digits.X_test) == 40


def test_evaluate_command_runs_ddl_on_local_mnist(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from sparsetools.cli import main

    folder, _, _ = fake_mnist(tmp_path / "mnist")
    out = tmp_path / "out"
    assert main(["evaluate", "ddl-digits", "--quick", "--data", str(folder),
                 "--out", str(out)]) == 0
    assert "MNIST: 300 training, 20 test images 28x28" in capsys.readouterr().out
    saved = json.loads((out / "report.json").read_text())
    data = saved["meta"]["data"]
    assert data["name"] == "MNIST" and data["path"] == str(folder)
    assert (data["n_train"], data["n_test"], data["image_shape"]) == (300, 20, [28, 28])
    assert (out / "table.txt").read_text().startswith("# ddl-digits: MNIST (local")
    report = Report.from_json(out / "report.json")
    # measured (seed 0): 0.85 to 0.9 clean against a chance of 0.1
    for r in report.select(condition="clean"):
        assert r["accuracy"] >= 0.7 and r["n"] == 20
    adv = report.select(condition="adversarial")
    # no JSMA, and no HopSkipJump (label queries cost a full denoising of 28x28 images)
    assert {r["attack"] for r in adv} == {"FGSM", "PGD", "FGSM (exact)", "PGD (exact)"}
    assert max(r["accuracy"] for r in adv if r["epsilon"] == 0.3) == 0.0
    for name in ("examples.png", "atoms.png", "accuracy.png"):
        assert (out / name).stat().st_size > 0


def test_stl_preset_runs_in_color_on_local_cifar(tmp_path):
    pytest.importorskip("matplotlib")
    root, _, _ = fake_cifar(tmp_path / "cifar")
    report = run_preset("stl-images", quick=True, data=root, out=tmp_path / "out",
                        log=lambda line: None)
    data = report.meta["data"]
    assert data["name"] == "CIFAR-10" and data["image_shape"] == [32, 32, 3]
    assert (data["n_train"], data["n_test"]) == (300, 10)
    assert data["path"].endswith("cifar") and len(data["files"]) == 8  # 6 train + 2 test
    clean = {r["model"]: r["accuracy"] for r in report.select(condition="clean")}
    # measured (seed 0): 0.8 for both on 10 images, chance 0.1
    assert set(clean) == {"ConvNet (undefended)", "STL(alpha=0.1)+ConvNet"}
    assert min(clean.values()) >= 0.5
    stl_clean = report.select(condition="clean", model="STL(alpha=0.1)+ConvNet")[0]
    assert stl_clean["psnr"] > 30    # the color projection keeps the image (37.5 dB)
    assert report.meta["relative_l2"] == [0.08, 0.3]  # each image's budget: rel * ||x_i||
    big = [r for r in report.select(condition="adversarial") if r["epsilon"] == 0.3]
    assert big and max(r["accuracy"] for r in big) == 0.0
    assert (tmp_path / "out" / "examples.png").stat().st_size > 0


def test_data_errors_name_the_preset_and_the_folder(tmp_path, capsys):
    mnist, _, _ = fake_mnist(tmp_path / "mnist")
    cifar, _, _ = fake_cifar(tmp_path / "cifar")
    with pytest.raises(ValueError, match="preset dsc-faces runs on scikit-image's LFW"):
        run_preset("dsc-faces", quick=True, data=mnist, log=lambda line: None)
    from sparsetools.cli import main

    with pytest.raises(SystemExit) as exc:   # the command says it and exits with 2
        main(["evaluate", "dsc-faces", "--quick", "--data", str(mnist),
              "--out", str(tmp_path / "o")])
    assert exc.value.code == 2
    assert "evaluate: error: data: preset dsc-faces" in capsys.readouterr().err
    with pytest.raises(ValueError, match="preset dsc-faces runs on scikit-image's LFW"):
        run_preset("dsc-faces", quick=True, data=cifar, log=lambda line: None)
    (tmp_path / "empty").mkdir()
    with pytest.raises(ValueError, match="holds neither MNIST nor CIFAR-10.*"
                                         "t10k-labels-idx1-ubyte.*data_batch_1"):
        run_preset("stl-images", quick=True, data=tmp_path / "empty", log=lambda line: None)
    with pytest.raises(ValueError, match="data: path must be a folder"):
        run_preset("ddl-digits", quick=True, data=tmp_path / "nowhere", log=lambda line: None)
    with pytest.raises(TypeError, match="data must be None or a path"):
        run_preset("ddl-digits", quick=True, data=3, log=lambda line: None)
    assert not (tmp_path / "o").exists()


@pytest.mark.parametrize("name", ["ddl-digits",
                                  pytest.param("topt-digits", marks=pytest.mark.slow)])
def test_digit_presets_run_in_color_on_local_cifar(name, tmp_path):
    """Papers 002 and 003 also ran on CIFAR-10: both presets take a local
    copy, in color (here digits painted in colors, in CIFAR-10's format)."""
    pytest.importorskip("matplotlib")
    root, _, _ = fake_cifar(tmp_path / "cifar")
    report = run_preset(name, quick=True, data=root, out=tmp_path / "out",
                        log=lambda line: None)
    data = report.meta["data"]
    assert data["name"] == "CIFAR-10" and data["image_shape"] == [32, 32, 3]
    assert (data["n_train"], data["n_test"]) == (300, 20)
    clean = {r["model"]: r["accuracy"] for r in report.select(condition="clean")}
    assert len(clean) == 3 and "JSMA" not in {r["attack"] for r in report.records}
    if name == "ddl-digits":
        # measured (seed 0): 0.85-0.95 for the three denoised models, chance 0.1
        assert min(clean.values()) >= 0.5, clean
    else:
        # measured (seed 0): the undefended ConvNet 0.75; the decoder + ConvNet behind
        # the color front end does not learn in a quick run's 5 epochs on 300 images
        # (0.05; 0.56 training accuracy after 10 epochs): only the run is checked
        assert clean["ConvNet (undefended)"] >= 0.5, clean
    for png in ("accuracy.png", "atoms.png", "examples.png"):
        assert (tmp_path / "out" / png).stat().st_size > 0

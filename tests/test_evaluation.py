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
from sparsetools.torch.attacks import fgsm, pgd  # noqa: E402


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
    # PCA has no torch twin; pipeline_module would wrap it in BPDA, whose identity
    # backward pass needs rows of unchanged width: white-box is skipped, with the reason
    X, y, Xt, yt = digits
    pipe = make_pipeline(StandardScaler(), PCA(16, random_state=0),
                         LogisticRegression(max_iter=400)).fit(X, y)
    with pytest.raises(ValueError, match="input's shape"):
        pipeline_module(pipe)(torch.as_tensor(Xt))
    surrogate = LogisticRegression(max_iter=400).fit(X, y)
    report = evaluate(pipe, Xt, yt, attacks={"FGSM": (fgsm, {"epsilon": 0.1})},
                      surrogate=surrogate, undefended=mlp, image_shape=(8, 8))
    assert set(report.meta["skipped"]) == {"white-box"}
    assert "'pca' (PCA)" in report.meta["skipped"]["white-box"]
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
    with pytest.raises(ValueError, match="name"):
        run_preset("no-such-preset")


def test_evaluate_command(tmp_path, capsys):
    pytest.importorskip("matplotlib")
    from sparsetools.cli import main

    assert main(["evaluate", "topt-digits", "--quick", "--out", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert "TopT(T=5)+LinearSVC" in out and (tmp_path / "report.csv").exists()
    with pytest.raises(SystemExit):
        main(["evaluate", "no-such-preset"])

"""Tests of the sparsetools command (its demo on bundled data)."""
import io
import json
import subprocess
import sys

import numpy as np
import pytest

import sparsetools
from sparsetools.cli import build_parser, main, run_demo


def test_demo_reports_speed_error_and_psnr(tmp_path):
    args = build_parser().parse_args(
        ["demo", "--n-patches", "3000", "--n-nonzero-coefs", "5", "--skip-robustness",
         "--out", str(tmp_path)])
    out = io.StringIO()
    report = run_demo(args, stdout=out)
    text = out.getvalue()
    assert "ormp" in text and "PSNR" in text
    for method in ("omp", "ormp"):
        m = report["methods"][method]
        assert m["signals_per_s"] > 0
        # 5 of 256 DCT atoms leave a small part of a unit-norm patch unexplained
        assert 0.05 < m["relative_error"] < 0.3
    # ORMP minimises the residual greedily: never worse than OMP on average
    assert report["methods"]["ormp"]["relative_error"] <= (
        report["methods"]["omp"]["relative_error"] + 1e-12)
    assert report["camera_256"]["patches"] == 249 * 249
    assert report["camera_256"]["psnr_db"] > 30.0
    saved = json.loads((tmp_path / "demo.json").read_text())
    assert saved["camera_256"]["psnr_db"] == pytest.approx(report["camera_256"]["psnr_db"])
    from skimage.io import imread

    img = imread(tmp_path / "camera_rebuilt.png")
    assert img.shape == (256, 256) and img.dtype == np.uint8
    # the folder job: noisy copies, a model, every image denoised, the table
    den = report["denoise"]
    assert den["denoise"]["processed"] == 4 and den["denoise"]["failed"] == 0
    assert (tmp_path / "model.npz").exists()
    for name, row in den["table"].items():
        assert (tmp_path / "noisy" / f"{name}.png").exists()
        assert (tmp_path / "denoised" / f"{name}.png").exists()
        # measured: +8.3 to +15.8 dB over the noisy copies, above TV and wavelet
        assert row["sparsetools"]["psnr"] > row["noisy"]["psnr"] + 7
        assert row["sparsetools"]["psnr"] > max(row["tv"]["psnr"], row["wavelet"]["psnr"])
    assert "sparsetools denoise: 4 images" in text


def test_demo_can_skip_the_folder_job(tmp_path):
    args = build_parser().parse_args(["demo", "--n-patches", "500", "--skip-denoise",
                                      "--skip-robustness", "--out", str(tmp_path)])
    report = run_demo(args, stdout=io.StringIO())
    assert "denoise" not in report and not (tmp_path / "noisy").exists()
    assert json.loads((tmp_path / "demo.json").read_text())["n_patches"] == 500


def test_demo_runs_the_digits_robustness_preset_with_torch(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("matplotlib")
    args = build_parser().parse_args(["demo", "--n-patches", "500", "--skip-denoise",
                                      "--out", str(tmp_path)])
    out = io.StringIO()
    report = run_demo(args, stdout=out)
    folder = tmp_path / "robustness"
    for name in ("report.json", "report.csv", "table.txt", "accuracy.png", "examples.png",
                 "atoms.png"):
        assert (folder / name).stat().st_size > 0
    records = report["robustness"]["records"]
    fgsm = {(r["model"], r["threat_model"], r["epsilon"]): r for r in records
            if r["attack"] == "FGSM"}
    for model in ("DDL+MLP", "DDL+ConvNet", "DDL+LinearSVC"):
        # measured (seed 0): denoised 0.65-0.71 against undefended 0.46-0.54 at 0.1
        r = fgsm[(model, "grey-box", 0.1)]
        assert r["accuracy"] > r["undefended_accuracy"] + 0.1
        # and at the paper's epsilon 0.3 the defense fails on digits (0.007-0.027)
        assert fgsm[(model, "grey-box", 0.3)]["accuracy"] < 0.1
        assert fgsm[(model, "white-box", 0.3)]["accuracy"] < 0.1
    assert "grey-box" in out.getvalue() and "robustness/" in out.getvalue()


def test_version_flag_prints_the_package_version(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert capsys.readouterr().out.strip() == f"sparsetools {sparsetools.__version__}"


def test_demo_rejects_non_positive_sizes(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["demo", "--n-patches", "0"])
    assert exc.value.code == 2
    assert "--n-patches" in capsys.readouterr().err


def test_console_entry_point_runs_as_a_module(tmp_path):
    # outside the source tree, so that the installed package is the one run
    res = subprocess.run([sys.executable, "-m", "sparsetools", "--help"],
                         capture_output=True, text=True, check=True, cwd=tmp_path)
    assert "demo" in res.stdout


def test_evaluate_help_states_the_local_data_sizes(capsys):
    pytest.importorskip("torch")
    args = build_parser().parse_args(["evaluate", "stl-images", "--data", "some/folder"])
    assert args.data == "some/folder" and args.quick is False
    assert build_parser().parse_args(["evaluate", "ddl-digits"]).data is None
    with pytest.raises(SystemExit):
        main(["evaluate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "--data PATH" in text
    assert "MNIST, 5000 training / 200 test images, 300 / 20 with --quick" in text
    assert ("MNIST, 2000 training / 100 test images, 300 / 10 with --quick; or CIFAR-10, "
            "5000 training / 100 test images, 300 / 10 with --quick") in text
    assert "takes no --data" in text

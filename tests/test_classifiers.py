"""The scripts of classifiers/ run and report sensible accuracies."""
import pathlib
import runpy


SCRIPT = pathlib.Path(__file__).resolve().parents[1] / "classifiers" / "linear_svm_on_codes.py"


def test_linear_svm_on_codes_script(tmp_path, capsys):
    module = runpy.run_path(str(SCRIPT))
    results = module["main"](["--n-atoms", "150", "--ks", "5", "--json", str(tmp_path / "r.json")])
    assert set(results) == {"raw pixels", "omp k=5", "ormp k=5"}
    # measured: raw 0.970, omp 0.95, ormp 0.94 with 150-300 exemplar atoms
    assert results["raw pixels"] > 0.95
    for key in ("omp k=5", "ormp k=5"):
        assert results[key] > 0.9
    assert (tmp_path / "r.json").exists()
    assert "ormp k=5" in capsys.readouterr().out

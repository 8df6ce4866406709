"""The Python blocks of README.md run, in order, and print what they claim."""
import contextlib
import importlib.util
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run_and_print_what_they_claim(tmp_path, monkeypatch):
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 6
    monkeypatch.chdir(tmp_path)  # the evaluation block writes report.csv
    has_torch = importlib.util.find_spec("torch") is not None
    namespace = {}  # the blocks build on each other, as a reader runs them
    printed = []
    for index, block in enumerate(blocks):
        if "sparsetools.torch" in block and not has_torch:
            printed.append(None)  # the torch extra's block
            continue
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"README.md block {index}", "exec"), namespace)
        printed.append(out.getvalue().strip())
    assert printed[0] == "(10000, 256) 10"
    assert printed[1] == "10.6"
    before, after = map(float, re.findall(r"([0-9.]+) dB", printed[2]))
    assert before == 20.2
    assert abs(after - 32.7) <= 0.1   # measured 32.687: not a rounding-edge case
    if has_torch:
        rows = {(r["condition"], r["threat_model"], r["epsilon"]): r
                for r in namespace["report"].records}
        assert round(rows[("clean", None, None)]["accuracy"], 2) == 0.96
        grey = rows[("adversarial", "grey-box", 0.1)]
        assert round(grey["accuracy"], 2) == 0.67
        assert round(grey["undefended_accuracy"], 2) == 0.47
        assert round(rows[("adversarial", "white-box", 0.1)]["accuracy"], 2) == 0.66
        assert rows[("adversarial", "grey-box", 0.3)]["accuracy"] < 0.005
        assert rows[("adversarial", "white-box", 0.3)]["accuracy"] < 0.005
        assert "undefended_accuracy" in printed[3]
        assert (tmp_path / "report.csv").read_text().startswith("model,condition")
    nonzero, conv_psnr = map(float, re.findall(r"([0-9.]+)(?:% non-zero| dB)", printed[4]))
    assert nonzero == 0.08 and conv_psnr == 28.7
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", printed[5]).group(1))
    assert accuracy > 0.9

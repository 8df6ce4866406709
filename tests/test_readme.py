"""The Python blocks of README.md run, in order, and print what they claim."""
import contextlib
import io
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def test_readme_python_blocks_run_and_print_what_they_claim():
    blocks = re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)
    assert len(blocks) == 5
    namespace = {}  # the blocks build on each other, as a reader runs them
    printed = []
    for index, block in enumerate(blocks):
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            exec(compile(block, f"README.md block {index}", "exec"), namespace)
        printed.append(out.getvalue().strip())
    assert printed[0] == "(10000, 256) 10"
    assert printed[1] == "10.6"
    before, after = map(float, re.findall(r"([0-9.]+) dB", printed[2]))
    assert before == 20.2
    assert abs(after - 32.7) <= 0.1   # measured 32.687: not a rounding-edge case
    nonzero, conv_psnr = map(float, re.findall(r"([0-9.]+)(?:% non-zero| dB)", printed[3]))
    assert nonzero == 0.08 and conv_psnr == 28.7
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", printed[4]).group(1))
    assert accuracy > 0.9

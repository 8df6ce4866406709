"""The Python blocks of README.md run and print what they claim."""
import contextlib
import io
import pathlib
import re

import pytest

README = pathlib.Path(__file__).resolve().parents[1] / "README.md"


def _python_blocks():
    text = README.read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


def test_readme_has_python_examples():
    assert len(_python_blocks()) >= 2


@pytest.mark.parametrize("index", range(2))
def test_readme_python_block_runs(index):
    block = _python_blocks()[index]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, f"README.md block {index}", "exec"), {})
    printed = out.getvalue()
    if index == 0:
        assert printed.strip() == "(10000, 256) 10"
    else:
        accuracy = float(re.search(r"test accuracy ([0-9.]+)", printed).group(1))
        assert accuracy > 0.9

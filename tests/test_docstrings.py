"""Every Examples section of the public API runs and prints what it shows."""
import doctest
import importlib

import pytest

MODULES = [
    "sparsetools.coding._omp",
    "sparsetools.coding._lasso",
    "sparsetools.coding._threshold",
    "sparsetools.coding._coder",
    "sparsetools.coding._lca",
    "sparsetools.coding._lca_coder",
    "sparsetools.metrics._representation",
    "sparsetools.datasets._images",
    "sparsetools.dictionary._dct",
    "sparsetools.metrics._quality",
    "sparsetools.image._patches",
    "sparsetools.dictionary._learner",
    "sparsetools.image._denoise",
    "sparsetools.image._denoiser",
    "sparsetools.image._frontend",
    "sparsetools.coding._topt",
    "sparsetools.coding._deep_lca",
    "sparsetools.dictionary._deep",
    "sparsetools.convolutional._cbpdn",
    "sparsetools.convolutional._tikhonov",
    "sparsetools.convolutional._learning",
    "sparsetools.convolutional._coder",
    "sparsetools.convolutional._stratified",
    "sparsetools.evaluation._report",
]

#: Modules of the optional torch side whose examples no other test runs
#: (test_attacks, test_torch, test_torch_twins and test_networks run the others;
#: test_datasets_local runs the local loaders').
TORCH_MODULES = [
    "sparsetools.torch._heads",
    "sparsetools.evaluation._evaluate",
]


@pytest.mark.parametrize("name", MODULES + TORCH_MODULES)
def test_docstring_examples_run(name):
    if name in TORCH_MODULES:
        pytest.importorskip("torch")
    module = importlib.import_module(name)
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0, f"{name} has no examples"
    assert result.failed == 0

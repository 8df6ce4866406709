"""sparsetools: sparse coding with a compiled core.

Fast sparse coders (Batch-OMP and ORMP in C, threaded over signals) exposed as
plain functions and as scikit-learn transformers.
"""
__version__ = "0.1.0.dev0"

try:
    from sparsetools._lib import _gram_coders  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the build
    raise ImportError(
        "sparsetools' compiled extensions could not be imported "
        f"({exc}). If you are running from a source checkout, build them with "
        "`pip install -e . --no-build-isolation` (or `pip install .`) and do not "
        "import sparsetools from the source directory of a non-editable install."
    ) from exc

from sparsetools.coding import LCACoder, SparseCoder, lasso, lca, orthogonal_mp, threshold
from sparsetools.coding import deep_lca
from sparsetools.convolutional import (ConvSparseCoder, StratifiedConvSparseCoder, conv_bpdn,
                                       conv_reconstruct, learn_conv_dictionary, tikhonov_split)
from sparsetools.dictionary import DictionaryLearner
from sparsetools.dictionary import DeepSparseCoder
from sparsetools.image import DictionaryDenoiser, TopTFrontend

__all__ = ["DictionaryDenoiser", "DictionaryLearner", "LCACoder", "SparseCoder", "lasso", "lca",
           "orthogonal_mp", "threshold", "TopTFrontend",
           "DeepSparseCoder", "deep_lca", "conv_bpdn", "conv_reconstruct", "tikhonov_split",
           "ConvSparseCoder", "StratifiedConvSparseCoder", "learn_conv_dictionary",
           "__version__"]

"""torch twins of sparsetools' fitted front ends (optional extra).

``pip install "sparsetools[torch]"`` (``torch==2.13.0``). The core of
sparsetools never imports this package.
"""
try:
    import torch  # noqa: F401
except ImportError as exc:  # pragma: no cover - depends on the environment
    raise ImportError("sparsetools.torch needs torch: pip install 'sparsetools[torch]' "
                      "(torch==2.13.0)") from exc

from sparsetools.torch._coder import SparseCoderModule
from sparsetools.torch._conv import ConvSparseCoderModule, StratifiedConvSparseCoderModule
from sparsetools.torch._denoiser import DictionaryDenoiserModule
from sparsetools.torch._exported import ExportedClassifier, export_model
from sparsetools.torch._heads import BPDA, pipeline_module, torch_head
from sparsetools.torch._networks import (
    MLP,
    ChannelsLast,
    ConvNet,
    ResNet,
    TopTClassifier,
    TopTDecoder,
    train_classifier,
)
from sparsetools.torch._lca import DeepSparseCoderModule, LCACoderModule
from sparsetools.torch._topt import TopTFrontendModule
from sparsetools.torch._twins import to_torch

__all__ = ["BPDA", "ExportedClassifier", "SparseCoderModule", "TopTFrontendModule",
           "pipeline_module", "to_torch", "torch_head"]
__all__ += ["MLP", "ChannelsLast", "ConvNet", "ResNet", "TopTClassifier", "TopTDecoder",
            "export_model", "train_classifier"]
__all__ += ["ConvSparseCoderModule", "DeepSparseCoderModule", "DictionaryDenoiserModule",
            "LCACoderModule", "StratifiedConvSparseCoderModule"]

"""The torch side of sparsetools (optional extra): twins of the fitted front
ends, white-box pipeline modules, attacks (`sparsetools.torch.attacks`), the
papers' networks and decoder, training, export and exported classifiers.

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

__all__ = ["BPDA", "ChannelsLast", "ConvNet", "ConvSparseCoderModule", "DeepSparseCoderModule",
           "DictionaryDenoiserModule", "ExportedClassifier", "LCACoderModule", "MLP", "ResNet",
           "SparseCoderModule", "StratifiedConvSparseCoderModule", "TopTClassifier",
           "TopTDecoder", "TopTFrontendModule", "export_model", "pipeline_module", "to_torch",
           "torch_head", "train_classifier"]

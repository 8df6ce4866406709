"""Sparse coding over a fixed dictionary: functions and the SparseCoder transformer."""
from sparsetools.coding._coder import SparseCoder
from sparsetools.coding._deep_lca import deep_lca
from sparsetools.coding._lasso import lasso
from sparsetools.coding._lca import lca
from sparsetools.coding._lca_coder import LCACoder
from sparsetools.coding._omp import orthogonal_mp
from sparsetools.coding._threshold import threshold
from sparsetools.coding._topt import topt_codes

__all__ = ["LCACoder", "SparseCoder", "deep_lca", "lasso", "lca", "orthogonal_mp", "threshold", "topt_codes"]

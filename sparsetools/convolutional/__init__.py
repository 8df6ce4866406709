"""Convolutional sparse coding: CBPDN by ADMM in the Fourier domain, its
pre-processing, convolutional dictionary learning and the Sparse
Transformation Layer estimator."""
from sparsetools.convolutional._cbpdn import conv_bpdn, conv_bpdn_objective, conv_reconstruct
from sparsetools.convolutional._coder import ConvSparseCoder
from sparsetools.convolutional._learning import learn_conv_dictionary
from sparsetools.convolutional._stratified import StratifiedConvSparseCoder
from sparsetools.convolutional._tikhonov import tikhonov_split

__all__ = ["ConvSparseCoder", "StratifiedConvSparseCoder", "conv_bpdn", "conv_bpdn_objective", "conv_reconstruct",
           "learn_conv_dictionary", "tikhonov_split"]

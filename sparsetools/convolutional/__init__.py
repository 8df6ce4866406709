"""Convolutional sparse coding: CBPDN by ADMM in the Fourier domain, and its pre-processing."""
from sparsetools.convolutional._cbpdn import conv_bpdn, conv_bpdn_objective, conv_reconstruct
from sparsetools.convolutional._tikhonov import tikhonov_split

__all__ = ["conv_bpdn", "conv_bpdn_objective", "conv_reconstruct", "tikhonov_split"]

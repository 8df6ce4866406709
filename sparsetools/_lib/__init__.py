"""Compiled adapters (Cython) over the C kernels of csrc/."""

"""Numba kernels: loops that are clearest as array code (see DESIGN.md).

Compiled on first import with explicit signatures and cached on disk
(``cache=True``); ``nogil`` so that callers may run them from threads.
"""

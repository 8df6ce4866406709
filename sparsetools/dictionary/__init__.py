"""Dictionaries: fixed constructions (overcomplete DCT)."""
from sparsetools.dictionary._dct import overcomplete_dct

__all__ = ["overcomplete_dct"]

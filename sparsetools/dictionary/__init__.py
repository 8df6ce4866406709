"""Dictionaries: fixed constructions (overcomplete DCT) and learning."""
from sparsetools.dictionary._dct import overcomplete_dct
from sparsetools.dictionary._deep import DeepSparseCoder
from sparsetools.dictionary._learner import DictionaryLearner

__all__ = ["DeepSparseCoder", "DictionaryLearner", "overcomplete_dct"]

"""Robustness evaluation of Pipelines: attacks under threat models, reports and presets.

:func:`evaluate` and the presets need the torch extra; :class:`Report` does not.
"""
from sparsetools.evaluation._evaluate import THREAT_MODELS, evaluate
from sparsetools.evaluation._presets import PRESETS, run_preset
from sparsetools.evaluation._report import COLUMNS, Report

__all__ = ["COLUMNS", "PRESETS", "Report", "THREAT_MODELS", "evaluate", "run_preset"]

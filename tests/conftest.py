"""Test-session settings.

Hypothesis searches with fresh random seeds on developers' machines (that is
how it finds bugs), but derandomised under CI=true, so that a CI run is
reproducible and a landing does not depend on the luck of the draw.
"""
import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI", "").lower() in ("1", "true", "yes"):
    settings.load_profile("ci")

"""Hypothesis profiles: ``fast`` by default (CI, a few minutes for the whole suite), ``deep`` on
demand (``HYPOTHESIS_PROFILE=deep python -m pytest tests/unit``) to search much harder."""

import os

from hypothesis import HealthCheck, settings

settings.register_profile("fast", max_examples=60, deadline=None)
settings.register_profile(
    "deep", max_examples=2000, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "fast"))
